"""HTTP routes of the browser tests' server: test pages, a collaborative admin, static files."""

from django.contrib.auth.views import LogoutView
from django.contrib.staticfiles.views import serve
from django.urls import path, re_path

from collab.keys import KEY_PATTERN
from tests.browser import admin, views

urlpatterns = [
    re_path(rf"^editor/(?P<key>{KEY_PATTERN})/(?P<mode>rich|plain)/$", views.editor_page),
    re_path(rf"^form/(?P<key>{KEY_PATTERN})/(?P<mode>rich|plain)/$", views.form_page),
    re_path(rf"^tiptap/(?P<key>{KEY_PATTERN})/$", views.tiptap_page),
    path("tiptap.js", views.tiptap_script),
    path("logout/", LogoutView.as_view(next_page="/logged-out/")),
    path("logged-out/", views.logged_out_page),
    path("admin/", admin.site.urls),
    re_path(r"^static/(?P<path>.+)$", serve, {"insecure": True}),
]

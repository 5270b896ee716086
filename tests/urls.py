"""HTTP routes of the test project: the admin, so sessions can be made by logging in, and
Django's logout view."""

from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("logout/", LogoutView.as_view(next_page="/admin/")),
]

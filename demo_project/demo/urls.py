"""URLs of the demo pages; a document's page is addressed by its key."""

from __future__ import annotations

from django.urls import path, re_path

from collab.keys import KEY_PATTERN
from demo_project.demo import views

app_name = "demo"

urlpatterns = [
    path("", views.document_list, name="document-list"),
    re_path(rf"^d/(?P<key>{KEY_PATTERN})/$", views.document_detail, name="document-detail"),
]

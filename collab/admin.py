"""A basic admin for documents: list, search and edit titles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin

from collab.models import Document

if TYPE_CHECKING:
    ModelAdmin = admin.ModelAdmin[Document]
else:
    ModelAdmin = admin.ModelAdmin


@admin.register(Document)
class DocumentAdmin(ModelAdmin):
    """Lists documents by key and title; content is edited live, not here."""

    list_display = ("key", "title", "updated_at", "created_at")
    search_fields = ("key", "title")
    readonly_fields = ("created_at", "updated_at")
    date_hierarchy = "updated_at"

"""The demo's admin: articles whose body several users edit live, with cursors."""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from collab.widgets import CollaborativeAdminMixin, CollaborativeEditor
from demo_project.demo.models import Article


@admin.register(Article)
class ArticleAdmin(CollaborativeAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Every ``TextField`` of an article is a collaborative rich-text editor."""

    list_display = ("title",)
    search_fields = ("title", "body")
    formfield_overrides = {models.TextField: {"widget": CollaborativeEditor(mode="rich")}}

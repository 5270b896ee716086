"""An admin site whose document titles are edited live, as a project's ModelAdmin would be."""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from collab.models import Document
from collab.widgets import CollaborativeAdminMixin, CollaborativeEditor

site = admin.AdminSite(name="collab_test_admin")


@admin.register(Document, site=site)
class CollaborativeDocumentAdmin(CollaborativeAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    fields = ("title",)
    formfield_overrides = {models.CharField: {"widget": CollaborativeEditor(mode="plain")}}

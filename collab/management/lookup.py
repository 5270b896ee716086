"""Finding the documents a command names, with errors a command reports."""

from __future__ import annotations

from django.core.management import CommandError

from collab.models import Document


def documents_named(keys: list[str]) -> list[Document]:
    """The documents with ``keys``, in that order.

    Raises:
        CommandError: Some keys name no document; nothing was done yet.
    """
    found = Document.objects.in_bulk(keys, field_name="key")
    unknown = [key for key in keys if key not in found]
    if unknown:
        raise CommandError(f"No document with the key {', '.join(map(repr, unknown))}.")
    return [found[key] for key in keys]

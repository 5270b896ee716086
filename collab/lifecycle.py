"""What happens around a document's lifetime outside its room: deletion."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.db.models.signals import post_delete
from django.dispatch import receiver

from collab import signals
from collab.models import Document
from collab.rooms import close_sessions


@receiver(post_delete, sender=Document, dispatch_uid="collab.close_deleted_document")
def close_deleted_document(sender: type[Document], instance: Document, **kwargs: Any) -> None:
    """Close the live sessions of a deleted document (4410) and send ``document_deleted``."""
    async_to_sync(close_sessions)(instance.key)
    signals.document_deleted.send(sender=Document, document=instance)

"""What happens around a document's lifetime outside its room: creation and deletion."""

from __future__ import annotations

from functools import partial
from typing import Any

from asgiref.sync import async_to_sync
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from collab import field_documents, recent, signals, store, tombstones
from collab.models import Document
from collab.registry import close_sessions


@receiver(post_save, sender=Document, dispatch_uid="collab.announce_created_document")
def announce_created_document(
    sender: type[Document], instance: Document, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """Send ``document_created`` for every new document, whatever created it.

    Not for fixtures being loaded (``raw``): their documents were created before.
    """
    if created and not raw:
        signals.document_created.send(sender=Document, document=instance)


@receiver(post_delete, sender=Document, dispatch_uid="collab.close_deleted_document")
def close_deleted_document(sender: type[Document], instance: Document, **kwargs: Any) -> None:
    """Remember the key; once deleted for good, close the live sessions (4410) and say so.

    The key is remembered in the deleting transaction. The sessions are closed, and
    ``document_deleted`` sent, once it committed: a client that reconnects at once
    already finds the key deleted, and a rolled-back deletion changes nothing.
    """
    tombstones.remember(instance.key)
    transaction.on_commit(partial(_closed_and_announced, instance))


def _closed_and_announced(document: Document) -> None:
    async_to_sync(close_sessions)(document.key)
    signals.document_deleted.send(sender=Document, document=document)


@receiver(post_save, sender=Document, dispatch_uid="collab.forget_recent_document")
@receiver(post_delete, sender=Document, dispatch_uid="collab.forget_recent_document")
def forget_recent_document(sender: type[Document], instance: Document, **kwargs: Any) -> None:
    """Handshakes stop reusing a document that was saved or deleted (:mod:`collab.recent`)."""
    recent.documents.forget(instance.key)


@receiver(post_save, sender=Document, dispatch_uid="collab.forget_recreated_key")
def forget_recreated_key(
    sender: type[Document], instance: Document, created: bool, **kwargs: Any
) -> None:
    """A document created with a deleted key (on purpose: nothing else creates one) revives it."""
    if created:
        tombstones.forget(instance.key)


@receiver(post_save, sender=Document, dispatch_uid="collab.seed_field_document")
def seed_field_document(
    sender: type[Document], instance: Document, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """Fill a new model field's document with the column's content, before anyone loads it.

    It runs in the creating transaction when there is one (as for the documents a
    connection or :mod:`collab.documents` creates), so nobody sees the document empty.
    """
    if created and not raw:
        update = field_documents.seed(instance.key)
        if update is not None:
            store.append_updates(instance.pk, [update])

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
from collab.rooms import close_sessions


@receiver(post_delete, sender=Document, dispatch_uid="collab.close_deleted_document")
def close_deleted_document(sender: type[Document], instance: Document, **kwargs: Any) -> None:
    """Remember the key, close the live sessions (4410) and send ``document_deleted``.

    The key is remembered in the deleting transaction; the sessions are closed once it
    committed, so a client that reconnects at once already finds the key deleted.
    """
    tombstones.remember(instance.key)
    transaction.on_commit(partial(async_to_sync(close_sessions), instance.key))
    signals.document_deleted.send(sender=Document, document=instance)


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

"""Reading and writing document state in the database.

Functions here are synchronous; async code calls them through ``database_sync_to_async``.

Loading and compaction both lock the document row, so a load never sees a snapshot
without the log rows that follow it, and two compactions never merge the same rows.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from pycrdt import merge_updates

from collab.conf import conf
from collab.models import Document, DocumentSnapshot, DocumentUpdate


def get_document(key: str) -> Document | None:
    """Return the document with ``key``, or ``None``."""
    return Document.objects.filter(key=key).first()


def create_document(key: str) -> Document:
    """Create the document with ``key`` (or return it if another connection just did)."""
    document, _ = Document.objects.get_or_create(key=key)
    return document


def load_updates(document_id: int) -> list[bytes]:
    """Return the latest snapshot's state followed by every later log row, in order.

    Applying them in order to an empty ``Doc`` reproduces the stored document.
    """
    with transaction.atomic():
        Document.objects.select_for_update().filter(pk=document_id).exists()
        snapshot = (
            DocumentSnapshot.objects.filter(document_id=document_id)
            .only("state", "last_update_id")
            .order_by("-last_update_id", "-id")
            .first()
        )
        after = snapshot.last_update_id if snapshot else 0
        rows = DocumentUpdate.objects.filter(document_id=document_id, id__gt=after)
        log = [bytes(data) for data in rows.order_by("id").values_list("data", flat=True)]
    return ([bytes(snapshot.state)] if snapshot else []) + log


def append_updates(document_id: int, updates: list[bytes]) -> int:
    """Store a batch of updates as one log row.

    Returns:
        How many log rows the document has now (to decide on compaction).
    """
    with transaction.atomic():
        DocumentUpdate.objects.create(document_id=document_id, data=merge_updates(*updates))
        Document.objects.filter(pk=document_id).update(updated_at=timezone.now())
        return DocumentUpdate.objects.filter(document_id=document_id).count()


def compact(document_id: int) -> DocumentSnapshot | None:
    """Merge the latest snapshot and the log into a new snapshot, then drop merged rows.

    Returns:
        The new snapshot, or ``None`` when the log was empty.
    """
    with transaction.atomic():
        Document.objects.select_for_update().filter(pk=document_id).exists()
        rows = list(
            DocumentUpdate.objects.filter(document_id=document_id)
            .order_by("id")
            .values_list("id", "data")
        )
        if not rows:
            return None
        previous = (
            DocumentSnapshot.objects.filter(document_id=document_id)
            .order_by("-last_update_id", "-id")
            .first()
        )
        parts = ([bytes(previous.state)] if previous else []) + [bytes(data) for _, data in rows]
        last_update_id = rows[-1][0]
        snapshot = DocumentSnapshot.objects.create(
            document_id=document_id, state=merge_updates(*parts), last_update_id=last_update_id
        )
        DocumentUpdate.objects.filter(document_id=document_id, id__lte=last_update_id).delete()
        _prune_snapshots(document_id)
    return snapshot


def _prune_snapshots(document_id: int) -> None:
    keep = conf.SNAPSHOT_RETENTION
    stale = DocumentSnapshot.objects.filter(document_id=document_id).order_by(
        "-last_update_id", "-id"
    )[keep:]
    DocumentSnapshot.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()

"""Reading and writing document state in the database.

Functions here are synchronous; async code calls them through ``database_sync_to_async``.

Loading and compaction both lock the document row, so a load never sees a snapshot
without the log rows that follow it, and two compactions never merge the same rows.
Compaction never drops content: rows that wait for a row the log lacks stay in the log.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from pycrdt import merge_updates

from collab.conf import conf
from collab.models import NEWEST_FIRST, Document, DocumentSnapshot, DocumentUpdate
from collab.replica import Replica

__all__ = ["load_updates"]

logger = logging.getLogger(__name__)


def get_document(key: str) -> Document | None:
    """Return the document with ``key``, or ``None``."""
    return Document.objects.filter(key=key).first()


def document_exists(document_id: int) -> bool:
    """Whether the document still exists (it may have been deleted while open)."""
    return Document.objects.filter(pk=document_id).exists()


def create_document(key: str) -> Document:
    """Create the document with ``key`` (or return it if another connection just did).

    Sends ``document_created`` when it is new.
    """
    return get_or_create_document(key)[0]


def get_or_create_document(key: str) -> tuple[Document, bool]:
    """The document with ``key``, created if missing, and whether it is new and empty.

    New and empty: this call created it, and nothing was stored for it as it was created
    (a model field's document starts with the field's content, and ``document_created``
    receivers may store a first content).
    """
    document, created = Document.objects.get_or_create(key=key)
    if not created:
        return document, False
    return document, not DocumentUpdate.objects.filter(document_id=document.pk).exists()


def load_updates(document_id: int) -> list[bytes]:
    """Return the latest snapshot's state followed by every later log row, in order.

    Applying them in order to an empty ``Doc`` reproduces the stored document.
    """
    with transaction.atomic():
        _lock_document(document_id)
        snapshot = _latest_snapshot(document_id)
        after = snapshot.last_update_id if snapshot else 0
        rows = DocumentUpdate.objects.filter(document_id=document_id, id__gt=after)
        log = [bytes(data) for data in rows.order_by("id").values_list("data", flat=True)]
    return ([bytes(snapshot.state)] if snapshot else []) + log


def append_updates(document_id: int, updates: list[bytes], authors: list[int] | None = None) -> int:
    """Store a batch of updates as one log row, with the ids of the users who made them.

    Returns:
        How many log rows the document has now (to decide on compaction).
    """
    with transaction.atomic():
        DocumentUpdate.objects.create(
            document_id=document_id, data=merge_updates(*updates), authors=authors or []
        )
        Document.objects.filter(pk=document_id).update(updated_at=timezone.now())
        return DocumentUpdate.objects.filter(document_id=document_id).count()


def compact(
    document_id: int, *, name: str = "", created_by_id: int | None = None
) -> DocumentSnapshot | None:
    """Merge the latest snapshot and the log into a new snapshot, then drop merged rows.

    If some stored content waits for updates the log lacks (a write that never
    happened), pycrdt keeps it pending and could not encode it into the snapshot:
    the log rows are then kept, and an ERROR is logged; once the missing updates are
    stored (a client that has them sends them when it syncs), the next compaction
    merges everything.

    Args:
        document_id: The document.
        name: Make the snapshot a named version (kept forever); one is made even when
            the log is empty, and even when rows must be kept (it then merges none).
        created_by_id: The user who asked for a named version.

    Returns:
        The new snapshot, or ``None`` when no name was given and the log was empty or
        had to be kept.
    """
    with transaction.atomic():
        _lock_document(document_id)
        rows = list(
            DocumentUpdate.objects.filter(document_id=document_id)
            .order_by("id")
            .values_list("id", "data", "authors")
        )
        if not rows and not name:
            return None
        previous = _latest_snapshot(document_id)
        parts = ([bytes(previous.state)] if previous else []) + [bytes(row[1]) for row in rows]
        replica = Replica(max_depth=conf.MAX_DEPTH, max_pending_bytes=0)
        replica.load(parts)
        doc = replica.doc
        complete = not replica.pending_bytes
        if not complete:
            _log_kept_rows(document_id, len(rows))
            if not name:
                return None
        merged = rows if complete else []
        last_update_id = merged[-1][0] if merged else (previous.last_update_id if previous else 0)
        snapshot = DocumentSnapshot.objects.create(
            document_id=document_id,
            state=doc.get_update(),
            last_update_id=last_update_id,
            name=name,
            created_by_id=created_by_id,
            authors=sorted({author for row in merged for author in row[2]}),
        )
        DocumentUpdate.objects.filter(document_id=document_id, id__lte=last_update_id).delete()
        _prune_snapshots(document_id)
    return snapshot


def _log_kept_rows(document_id: int, rows: int) -> None:
    key = Document.objects.filter(pk=document_id).values_list("key", flat=True).first()
    logger.error(
        "collab: document %r has stored updates that wait for updates missing from its "
        "log; its %d log rows are kept instead of compacted, until a client sends what "
        "is missing",
        key,
        rows,
    )


def _lock_document(document_id: int) -> None:
    """Lock the document's row until the transaction ends (loads and compactions queue)."""
    Document.objects.select_for_update().filter(pk=document_id).exists()


def _latest_snapshot(document_id: int) -> DocumentSnapshot | None:
    return DocumentSnapshot.objects.filter(document_id=document_id).order_by(*NEWEST_FIRST).first()


def _prune_snapshots(document_id: int) -> None:
    keep = conf.SNAPSHOT_RETENTION
    stale = DocumentSnapshot.objects.filter(document_id=document_id, name="").order_by(
        *NEWEST_FIRST
    )[keep:]
    DocumentSnapshot.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()

"""Version history: named versions, automatic checkpoints, and restoring any of them.

Snapshots double as versions. Compaction makes unnamed ones as a document is edited
(``COMPACT_AFTER_UPDATES`` rows or ``CHECKPOINT_INTERVAL`` seconds); the newest
``SNAPSHOT_RETENTION`` of those are kept, and every named version is kept forever.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from asgiref.sync import async_to_sync

from collab import documents, store
from collab.models import Document, DocumentSnapshot
from collab.registry import get_registry

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

__all__ = ["create_version", "restore_version"]


def create_version(
    document: Document, name: str, *, user: AbstractBaseUser | None = None
) -> DocumentSnapshot:
    """Save the document's current content as a named version, kept forever.

    Edits this process holds but has not written yet are stored first.
    """
    async_to_sync(_flush_live)(document.key)
    snapshot = store.compact(document.pk, name=name, created_by_id=user.pk if user else None)
    assert snapshot is not None, "a named compaction always makes a snapshot"
    return snapshot


def restore_version(snapshot: DocumentSnapshot, *, user: AbstractBaseUser | None = None) -> None:
    """Make the document's content equal to ``snapshot`` again, as a new forward edit.

    Connected clients see the change at once, and nothing is erased from the history:
    the content being replaced is saved as a checkpoint first, so it can be restored too.
    """
    document = snapshot.document
    async_to_sync(_flush_live)(document.key)
    store.compact(document.pk)
    documents.replace(document.key, bytes(snapshot.state), user=user)


async def _flush_live(key: str) -> None:
    room = get_registry().get(key)
    if room is not None:
        await room.flush()

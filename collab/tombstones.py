"""Keys of deleted documents, remembered so that reconnecting clients cannot recreate them.

Functions here are synchronous; they run where the ORM may be used.
"""

from __future__ import annotations

from collab.models import DeletedKey


def remember(key: str) -> None:
    """Mark ``key`` as deleted: connections to it are refused with 4410 from now on."""
    DeletedKey.objects.update_or_create(key=key)


def forget(key: str) -> None:
    """Unmark ``key``: a document with this key was created again on purpose."""
    DeletedKey.objects.filter(key=key).delete()


def is_deleted(key: str) -> bool:
    """Whether a document with ``key`` was deleted and not created again since."""
    return DeletedKey.objects.filter(key=key).exists()

"""Durable storage: documents, their append-only update log, and snapshots."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from collab.keys import validate_key

__all__ = ["DeletedKey", "Document", "DocumentPresence", "DocumentSnapshot", "DocumentUpdate"]


class Document(models.Model):
    """A collaboratively edited Yjs document, addressed by its key."""

    key = models.CharField(max_length=200, unique=True, validators=[validate_key])
    title = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-updated_at",)

    def __str__(self) -> str:
        return self.title or self.key


class DocumentUpdate(models.Model):
    """A batch of Yjs updates applied to a document since its latest snapshot.

    Rows are only ever inserted, and deleted by compaction once a snapshot contains them.
    """

    id = models.BigAutoField(primary_key=True)
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="updates")
    data = models.BinaryField()
    authors = models.JSONField(default=list, help_text="Ids of the users whose edits these are.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)
        indexes = (models.Index(fields=("document", "id"), name="collab_update_doc_id"),)

    def __str__(self) -> str:
        return f"update {self.pk} of {self.document_id}"


NEWEST_FIRST = ("-last_update_id", "-id")
"""Snapshot order from the newest: the one merging the most log rows comes first."""


class DocumentSnapshot(models.Model):
    """The whole state of a document, merged from the update log up to ``last_update_id``."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="snapshots")
    state = models.BinaryField()
    last_update_id = models.BigIntegerField(
        help_text="Highest update-log id merged into this snapshot."
    )
    name = models.CharField(
        max_length=200, blank=True, help_text="Named versions are kept forever; others rotate."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    authors = models.JSONField(
        default=list, help_text="Ids of the users whose edits came in since the previous snapshot."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = NEWEST_FIRST
        get_latest_by = ("last_update_id", "id")
        # Finding the newest snapshot walks this index instead of sorting every
        # snapshot of the document (states included) first.
        indexes = (
            models.Index(
                fields=("document", "last_update_id", "id"), name="collab_snapshot_newest"
            ),
        )

    def __str__(self) -> str:
        return f"snapshot {self.pk} of {self.document_id}"

    @property
    def size(self) -> int:
        """Size of the encoded state in bytes."""
        return len(self.state)


class DocumentPresence(models.Model):
    """Who is connected to a document through one server process, refreshed while they are."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="presence")
    process = models.CharField(max_length=64)
    user_ids = models.JSONField(default=list)
    connections = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("document", "process"), name="collab_presence_once"),
        )

    def __str__(self) -> str:
        return f"{self.connections} connections to {self.document_id} via {self.process}"


class DeletedKey(models.Model):
    """The key of a deleted document, so that clients coming back cannot recreate it.

    Stock clients reconnect after any close code and upload their whole state; with
    ``AUTO_CREATE`` on, that would undo the deletion. Connections to a key listed here
    are refused with 4410 instead. Creating a document with the key on purpose (the
    admin, :mod:`collab.documents`, an import, the ORM) removes it from this list.
    """

    key = models.CharField(max_length=200, unique=True)
    deleted_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-deleted_at",)

    def __str__(self) -> str:
        return f"deleted {self.key}"

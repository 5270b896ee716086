"""How much room documents take in the database, and the names of the users in them.

Sizes are computed by the database (``LENGTH`` of the stored bytes), so listing many
documents never loads their content.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce, Length

from collab.models import NEWEST_FIRST, Document, DocumentSnapshot, DocumentUpdate


def stored_bytes() -> Combinable:
    """An annotation for ``Document`` querysets: bytes of the latest snapshot plus the log.

    That is what loading the document reads: ``Document.objects.annotate(size=stored_bytes())``.
    """
    latest_snapshot = (
        DocumentSnapshot.objects.filter(document=OuterRef("pk"))
        .order_by(*NEWEST_FIRST)
        .annotate(state_size=Length("state"))
        .values("state_size")[:1]
    )
    log = (
        DocumentUpdate.objects.filter(document=OuterRef("pk"))
        .values("document")
        .annotate(log_size=Sum(Length("data")))
        .values("log_size")
    )
    zero = Value(0, output_field=IntegerField())
    return Coalesce(Subquery(latest_snapshot), zero) + Coalesce(Subquery(log), zero)


@dataclass(frozen=True)
class Totals:
    """What all documents take in the database."""

    documents: int
    snapshots: int
    named_versions: int
    snapshot_bytes: int
    log_rows: int
    log_bytes: int

    @property
    def stored_bytes(self) -> int:
        """Bytes of every snapshot (named versions and checkpoints) and log row."""
        return self.snapshot_bytes + self.log_bytes


def totals() -> Totals:
    """Count documents, snapshots and log rows and add up their bytes, in three queries."""
    snapshots = DocumentSnapshot.objects.aggregate(
        count=Count("id"), named=Count("id", filter=~Q(name="")), size=Sum(Length("state"))
    )
    log = DocumentUpdate.objects.aggregate(count=Count("id"), size=Sum(Length("data")))
    return Totals(
        documents=Document.objects.count(),
        snapshots=snapshots["count"],
        named_versions=snapshots["named"],
        snapshot_bytes=snapshots["size"] or 0,
        log_rows=log["count"],
        log_bytes=log["size"] or 0,
    )


def usernames(user_ids: Iterable[int]) -> dict[int, str]:
    """The usernames of the users with ``user_ids`` that still exist, in one query."""
    users = get_user_model().objects.filter(pk__in=set(user_ids))
    return {user.pk: user.get_username() for user in users}


def names_of(user_ids: Iterable[int], known: dict[int, str]) -> str:
    """``"alice, bob"`` for ``user_ids``, named from ``known``; others show as ``#<id>``."""
    return ", ".join(known.get(user_id, f"#{user_id}") for user_id in user_ids)

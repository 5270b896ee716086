"""How much room documents take in the database, and who is in them right now.

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

from collab import store
from collab.models import Document, DocumentPresence, DocumentSnapshot, DocumentUpdate


def stored_bytes() -> Combinable:
    """An annotation for ``Document`` querysets: bytes of the latest snapshot plus the log.

    That is what loading the document reads: ``Document.objects.annotate(size=stored_bytes())``.
    """
    latest_snapshot = (
        DocumentSnapshot.objects.filter(document=OuterRef("pk"))
        .order_by("-last_update_id", "-id")
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


def open_documents() -> dict[int, tuple[int, list[int]]]:
    """Connections and user ids of every document someone is connected to right now.

    Returns:
        ``{document_id: (connections, user ids)}``, as :func:`collab.store.live_presence`.
    """
    ids = DocumentPresence.objects.values_list("document_id", flat=True).distinct()
    return store.live_presence(list(ids))


def usernames(user_ids: Iterable[int]) -> dict[int, str]:
    """The usernames of the users with ``user_ids`` that still exist, in one query."""
    users = get_user_model().objects.filter(pk__in=set(user_ids))
    return {user.pk: user.get_username() for user in users}


def names_of(user_ids: Iterable[int], known: dict[int, str]) -> str:
    """``"alice, bob"`` for ``user_ids``, named from ``known``; others show as ``#<id>``."""
    return ", ".join(known.get(user_id, f"#{user_id}") for user_id in user_ids)


def describe_presence(presence: dict[int, tuple[int, list[int]]]) -> dict[int, str]:
    """Say who is connected, from :func:`collab.store.live_presence`'s result.

    Returns:
        ``{document_id: "alice, bob (3 connections)"}``, from one query for the names.
    """
    known = usernames(user_id for _, user_ids in presence.values() for user_id in user_ids)
    described = {}
    for document_id, (connections, user_ids) in presence.items():
        count = f"{connections} connection{'' if connections == 1 else 's'}"
        names = names_of(user_ids, known)
        described[document_id] = f"{names} ({count})" if names else count
    return described

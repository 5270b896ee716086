"""Who is connected to each document: the presence rows every server process keeps.

Each process writes one :class:`~collab.models.DocumentPresence` row per document it
has connections to, with their user ids, and marks its rows as current every
``PRESENCE_REFRESH`` seconds; the admin and ``collab_stats`` read the rows refreshed
recently enough, so a crashed process's rows stop counting on their own.

Joins and leaves are gathered for :data:`PRESENCE_DEBOUNCE` seconds and the rows of
every room they touched are written at once, in one transaction: after a restart the
whole process reconnects within seconds, and a row write per room per join would queue
thousands of small transactions in collab's database thread.

The database functions are synchronous; async code calls them through
:func:`collab.aio.in_worker_thread`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from collab.aio import OnDemand, PerLoop, in_worker_thread
from collab.conf import conf
from collab.models import DocumentPresence
from collab.usage import names_of, usernames

logger = logging.getLogger(__name__)

PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
"""Names this process in the presence rows it writes."""

PRESENCE_DEBOUNCE = 0.5
"""Seconds of join/leave activity gathered into one write of who is connected."""

Connected = Callable[[], list[int | None]]
"""Returns the user ids (None: anonymous) of a room's connections, as they are now."""


class PresenceRows:
    """The rows of one process (one event loop) waiting to be written."""

    def __init__(self) -> None:
        self._due: dict[int, Connected] = {}
        self._writer = OnDemand(self._write_soon)

    def changed(self, document_id: int, connected: Connected) -> None:
        """Write the row of ``document_id`` soon, from what ``connected`` then returns."""
        self._due[document_id] = connected
        self._writer.start()

    async def remove_now(self, document_id: int) -> None:
        """Delete the row of ``document_id`` (its room closes), dropping a pending write.

        A batch already being written runs first in collab's database thread, so the
        row stays deleted.
        """
        self._due.pop(document_id, None)
        await in_worker_thread(record_presences)(PROCESS_ID, {document_id: []})

    async def _write_soon(self) -> None:
        """Write the rows due after :data:`PRESENCE_DEBOUNCE` seconds, until none are."""
        while self._due:
            await asyncio.sleep(PRESENCE_DEBOUNCE)
            due, self._due = self._due, {}
            rows = {document_id: connected() for document_id, connected in due.items()}
            try:
                await in_worker_thread(record_presences)(PROCESS_ID, rows)
            except Exception:
                logger.exception(
                    "collab: recording who is connected to %d documents failed", len(rows)
                )


presence_rows = PerLoop(PresenceRows)
"""The running loop's :class:`PresenceRows`: every room of the process shares it."""


def record_presences(process: str, rows: dict[int, list[int | None]]) -> None:
    """Record who is connected to documents through ``process``, in one transaction.

    ``rows`` holds the user ids (None: anonymous) of each document's connections;
    a document nobody is connected to loses its row. A document deleted meanwhile is
    skipped: the others are then written one by one.
    """
    gone = [document_id for document_id, user_ids in rows.items() if not user_ids]
    kept = [
        DocumentPresence(
            document_id=document_id,
            process=process,
            user_ids=sorted({uid for uid in user_ids if uid is not None}),
            connections=len(user_ids),
        )
        for document_id, user_ids in rows.items()
        if user_ids
    ]
    try:
        with transaction.atomic():
            _write_presence(process, gone, kept)
    except IntegrityError:
        for row in kept:
            with contextlib.suppress(IntegrityError), transaction.atomic():
                _write_presence(process, [], [row])
        _write_presence(process, gone, [])


def _write_presence(process: str, gone: list[int], kept: list[DocumentPresence]) -> None:
    if gone:
        DocumentPresence.objects.filter(process=process, document_id__in=gone).delete()
    if kept:
        DocumentPresence.objects.bulk_create(
            kept,
            update_conflicts=True,
            unique_fields=("document", "process"),
            update_fields=("user_ids", "connections", "updated_at"),
        )


def refresh_presence(process: str) -> None:
    """Mark every presence row of ``process`` as current, in one query."""
    DocumentPresence.objects.filter(process=process).update(updated_at=timezone.now())


def live_presence(document_ids: list[int]) -> dict[int, tuple[int, list[int]]]:
    """Connections and user ids per document, from presence refreshed recently enough.

    Returns:
        ``{document_id: (connections, sorted user ids)}`` for documents someone is in.
    """
    fresh_after = timezone.now() - timedelta(seconds=3 * conf.PRESENCE_REFRESH)
    result: dict[int, tuple[int, list[int]]] = {}
    rows = DocumentPresence.objects.filter(
        document_id__in=document_ids, updated_at__gte=fresh_after
    )
    for row in rows:
        connections, users = result.get(row.document_id, (0, []))
        result[row.document_id] = (connections + row.connections, sorted({*users, *row.user_ids}))
    return result


def open_documents() -> dict[int, tuple[int, list[int]]]:
    """Connections and user ids of every document someone is connected to right now.

    Returns:
        ``{document_id: (connections, user ids)}``, as :func:`live_presence`.
    """
    ids = DocumentPresence.objects.values_list("document_id", flat=True).distinct()
    return live_presence(list(ids))


def describe_presence(presence: dict[int, tuple[int, list[int]]]) -> dict[int, str]:
    """Say who is connected, from :func:`live_presence`'s result.

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

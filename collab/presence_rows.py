"""This process's rows of who is connected to each document, written in batches.

Joins and leaves are gathered for :data:`PRESENCE_DEBOUNCE` seconds and the rows of
every room they touched are written at once, in one transaction: after a restart the
whole process reconnects within seconds, and a row write per room per join would queue
thousands of small transactions in collab's database thread.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable

from collab import store
from collab.tasks import PerLoop, background, in_worker_thread

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
        self._writing: asyncio.Task[None] | None = None

    def changed(self, document_id: int, connected: Connected) -> None:
        """Write the row of ``document_id`` soon, from what ``connected`` then returns."""
        self._due[document_id] = connected
        if self._writing is None:
            self._writing = background(self._write_soon())

    async def remove_now(self, document_id: int) -> None:
        """Delete the row of ``document_id`` (its room closes), dropping a pending write.

        A batch already being written runs first in collab's database thread, so the
        row stays deleted.
        """
        self._due.pop(document_id, None)
        await in_worker_thread(store.record_presences)(PROCESS_ID, {document_id: []})

    async def _write_soon(self) -> None:
        try:
            await asyncio.sleep(PRESENCE_DEBOUNCE)
        finally:
            self._writing = None
        due, self._due = self._due, {}
        rows = {document_id: connected() for document_id, connected in due.items()}
        try:
            await in_worker_thread(store.record_presences)(PROCESS_ID, rows)
        except Exception:
            logger.exception("collab: recording who is connected to %d documents failed", len(rows))


presence_rows = PerLoop(PresenceRows)
"""The running loop's :class:`PresenceRows`: every room of the process shares it."""

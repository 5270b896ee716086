"""The ``document_changed`` signal of one open document, sent at most every few seconds.

Receivers often do work per change (indexing, notifications): a room gathers who
edited for ``CHANGE_SIGNAL_DELAY`` seconds and sends one signal for all of them.
"""

from __future__ import annotations

import asyncio

from collab import signals
from collab.aio import OnDemand, in_worker_thread
from collab.conf import conf
from collab.models import Document


class ChangeSignal:
    """Who changed one document since its last ``document_changed`` signal."""

    def __init__(self, key: str, document_id: int) -> None:
        """Nobody yet; the signal names the document by ``key`` and ``document_id``."""
        self.key = key
        self.document_id = document_id
        self._changed_by: set[int | None] = set()
        self._sender = OnDemand(self._send_later)

    def changed_by(self, user_id: int | None) -> None:
        """Count a local edit by ``user_id`` (None: anonymous, or no user) in the next signal."""
        self._changed_by.add(user_id)
        self._sender.start()

    async def send_now(self) -> None:
        """Send the signal for the edits gathered so far, if any, without waiting."""
        self._sender.cancel()
        await self._send()

    async def _send_later(self) -> None:
        await asyncio.sleep(conf.CHANGE_SIGNAL_DELAY)
        await self._send()

    async def _send(self) -> None:
        users, self._changed_by = self._changed_by, set()
        if users:
            await in_worker_thread(signals.document_changed.send)(
                sender=Document, document_id=self.document_id, key=self.key, user_ids=users
            )

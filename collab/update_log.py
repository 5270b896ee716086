"""The write-behind update log of one open document.

A room applies each update in memory at once and hands it here; the log writes what
gathered as one row every ``FLUSH_INTERVAL`` seconds, compacts the log into a snapshot
when it grew long, and retries failed writes until they succeed. Nothing handed to it is
dropped, except the edits of a document that was deleted meanwhile.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable

from collab import recent, store
from collab.aio import OnDemand, in_worker_thread
from collab.conf import conf

logger = logging.getLogger(__name__)

RETRY_DELAY = 1.0
"""Seconds before a failed batch write is tried again."""

FAILURE_LOG_INTERVAL = 60.0
"""Seconds between two ERROR lines of a log whose writes keep failing (not one per retry)."""

EXIT_RETRY_TIMEOUT = 10.0
"""Seconds the exiting process keeps retrying failed writes before it gives up on them."""


class UpdateLog:
    """What a room applied and has not stored yet, and the task that stores it."""

    def __init__(
        self,
        key: str,
        document_id: int,
        on_failing: Callable[[bool], None],
        on_gone: Callable[[], Awaitable[None]],
    ) -> None:
        """Start empty.

        Args:
            key: The document's key, for log lines.
            document_id: The document whose log rows are written.
            on_failing: Called with True when writes start failing, False once one works.
            on_gone: Awaited when a write fails because the document no longer exists
                (deleted in another process); its edits were dropped.
        """
        self.key = key
        self.document_id = document_id
        self._on_failing = on_failing
        self._on_gone = on_gone
        self.pending: list[bytes] = []
        """Applied updates not stored yet, in order."""
        self._authors: set[int] = set()
        self._lock = asyncio.Lock()
        self._flusher = OnDemand(self._flush_soon)
        self._last_checkpoint = time.monotonic()
        self._uncompacted_rows = 0
        """Log rows the last compaction had to keep (they wait for a missing row)."""
        self._failing_since: float | None = None
        self._failure_logged_at = 0.0

    @property
    def failing(self) -> bool:
        """Whether writes are failing (updates wait in memory and are retried)."""
        return self._failing_since is not None

    def add(self, update: bytes, author: int | None = None) -> None:
        """Queue ``update`` for the next write; ``author``: who made it, if a local user."""
        self.pending.append(update)
        if author is not None:
            self._authors.add(author)
        self._flusher.start()

    async def flush(self) -> None:
        """Write the pending updates as one log row; compact the log when it is long.

        Raises:
            Exception: The database write failed; the updates stay pending, whatever
                else fails (a cancelled flush keeps them too).
        """
        async with self._lock:
            batch, self.pending = self.pending, []
            authors, self._authors = self._authors, set()
            if not batch:
                return
            try:
                log_rows = await in_worker_thread(store.append_updates)(
                    self.document_id, batch, sorted(authors)
                )
            except BaseException:
                self.pending[:0] = batch
                self._authors |= authors
                raise
            checkpoint_due = time.monotonic() - self._last_checkpoint > conf.CHECKPOINT_INTERVAL
            if log_rows - self._uncompacted_rows >= conf.COMPACT_AFTER_UPDATES or checkpoint_due:
                compacted = await self._compact_locked()
                self._uncompacted_rows = 0 if compacted else log_rows

    async def close(self) -> None:
        """Store everything and compact, retrying failed writes until they succeed."""
        self._flusher.cancel()
        await self.flush_until_stored()
        async with self._lock:
            await self._compact_locked()

    def drop(self) -> None:
        """Forget the pending updates and stop: the document no longer exists."""
        self._flusher.cancel()
        self.pending.clear()
        self._authors.clear()

    def store_pending_now(self) -> None:
        """Write pending updates synchronously: the last resort when the process exits.

        Only for when no event loop runs any more (``atexit``); a write that a cancelled
        task had started may be repeated, which the log tolerates. A failed write is
        retried every :data:`RETRY_DELAY` seconds until :data:`EXIT_RETRY_TIMEOUT`
        seconds after the first log of the process started storing at exit.

        Raises:
            Exception: The database still failed at the deadline; the updates are lost,
                as the process ends.
        """
        while self.pending:
            try:
                store.append_updates(self.document_id, self.pending, sorted(self._authors))
                self.pending = []
            except Exception as exc:
                if not _still_exists(self.document_id):
                    self._drop_edits_of_gone_document()
                    return
                if time.monotonic() >= _exit_deadline():
                    raise
                self._storing_failed(exc)
                time.sleep(RETRY_DELAY)

    async def flush_until_stored(self) -> None:
        """Flush, retrying every :data:`RETRY_DELAY` seconds while the database fails.

        While writes fail, the log says so (``on_failing``). A write fails for good when
        the document no longer exists (deleted in another process, whose deletion
        reached no room here): its edits are dropped and ``on_gone`` is awaited.
        """
        while True:
            try:
                await self.flush()
            except Exception as exc:
                if not await in_worker_thread(_still_exists)(self.document_id):
                    self._drop_edits_of_gone_document()
                    await self._on_gone()
                    return
                if self._storing_failed(exc):
                    self._on_failing(True)
                await asyncio.sleep(RETRY_DELAY)
            else:
                if self._failing_since is not None:
                    self._storing_recovered()
                    self._on_failing(False)
                return

    async def _flush_soon(self) -> None:
        """Write pending updates after the flush interval, until none are left."""
        while self.pending:
            await asyncio.sleep(conf.FLUSH_INTERVAL)
            await self.flush_until_stored()

    def _storing_failed(self, exc: Exception) -> bool:
        """Log a failed write; return whether it is the first (the failing state is due).

        The first failure is logged as an ERROR with its traceback; while writes keep
        failing, one more ERROR line follows every :data:`FAILURE_LOG_INTERVAL` seconds.
        """
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = self._failure_logged_at = now
            logger.error(
                "collab: storing document %r failed; %d updates wait in memory and are "
                "retried every %g s until stored",
                self.key,
                len(self.pending),
                RETRY_DELAY,
                exc_info=exc,
            )
            return True
        if now - self._failure_logged_at >= FAILURE_LOG_INTERVAL:
            self._failure_logged_at = now
            logger.error(
                "collab: storing document %r still fails after %.0f s; %d updates wait: %r",
                self.key,
                now - self._failing_since,
                len(self.pending),
                exc,
            )
        return False

    def _storing_recovered(self) -> None:
        assert self._failing_since is not None
        logger.warning(
            "collab: storing document %r works again after %.1f s of failures",
            self.key,
            time.monotonic() - self._failing_since,
        )
        self._failing_since = None

    def _drop_edits_of_gone_document(self) -> None:
        logger.warning(
            "collab: document %r no longer exists (deleted in another process); its %d "
            "unstored updates are dropped",
            self.key,
            len(self.pending),
        )
        self.pending.clear()
        self._authors.clear()
        self._failing_since = None
        recent.documents.forget(self.key)  # handshakes must not find it again

    async def _compact_locked(self) -> bool:
        """Compact the log; return whether a snapshot merged it (False: rows kept or failed)."""
        self._last_checkpoint = time.monotonic()
        try:
            return await in_worker_thread(store.compact)(self.document_id) is not None
        except Exception:
            logger.exception("collab: compacting document %r failed", self.key)
            return False


def _still_exists(document_id: int) -> bool:
    """Whether the document exists; True when the database cannot tell (edits are kept)."""
    try:
        return store.document_exists(document_id)
    except Exception:
        return True


@functools.cache
def _exit_deadline() -> float:
    """When storing at exit gives up, fixed by the first log that stores at exit."""
    return time.monotonic() + EXIT_RETRY_TIMEOUT

"""Sending to one connection without ever making the room wait for it.

A room hands each frame to its connections one after the other. An ASGI server may make
a send wait: uvicorn and hypercorn do while a client is not reading what it was sent
(its socket buffers are full). Waiting there would hold up the frame for every other
connection of the document, and every later frame too. So each connection has an
:class:`Outbox`: :meth:`Outbox.put` queues a frame and returns at once, and a task of
the connection's own sends the queued messages in order, each through a plain
``await send(message)``, whatever kind of awaitable the server returns. The task ends
when the queue is empty (an idle connection holds none) and starts again with the next
frame.

The bytes waiting are bounded: once more than the limit wait, the connection must be
closed (the client resyncs when it connects again). daphne never makes ``send`` wait:
it buffers what the client does not read in Twisted, so there those bytes are counted
too (:mod:`collab.server_socket`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from collab.aio import OnDemand
from collab.server_socket import Send, refused_as_too_large

logger = logging.getLogger(__name__)

SEND_FAILURES = (OSError, ValueError, RuntimeError)
"""What ASGI servers raise for a send on a connection that is closing or gone."""


class Outbox:
    """The messages on their way to one connection, sent in order by a task of its own."""

    __slots__ = (
        "_closed",
        "_held_by_server",
        "_on_overflow",
        "_on_refused",
        "_overflowed",
        "_send",
        "_sender",
        "_size",
        "_waiting",
        "limit",
    )

    def __init__(
        self,
        send: Send,
        limit: int,
        on_overflow: Callable[[], None],
        held_by_server: Callable[[], int],
        on_refused: Callable[[BaseException], None],
    ) -> None:
        """Send what :meth:`put` and :meth:`close` queue, in order, through ``send``.

        Args:
            send: The server's ASGI ``send``.
            limit: Bytes that may wait, here and in ``held_by_server``.
            on_overflow: Called once, when more than ``limit`` bytes wait: the
                connection must be closed (:meth:`close_now`).
            held_by_server: Bytes the server itself buffers for the connection.
            on_refused: Called when the server refused to send a frame for its size
                (the connection stays open; what waited is dropped): the connection
                must be closed, its client having missed that frame.
        """
        self._send = send
        self.limit = limit
        self._on_overflow = on_overflow
        self._held_by_server = held_by_server
        self._on_refused = on_refused
        self._waiting: deque[dict[str, Any]] = deque()
        self._size = 0
        self._overflowed = False
        self._closed = False
        self._sender = OnDemand(self._drain)

    limit: int
    """Bytes that may wait; one more and the connection must be closed."""

    def put(self, frame: bytes) -> None:
        """Queue ``frame`` behind the messages already waiting; never waits or raises.

        Once more than :attr:`limit` bytes wait (with what the server holds), the
        waiting frames and all later ones are dropped and ``on_overflow`` is called.
        Frames after :meth:`close` are dropped too.
        """
        if self._closed or self._overflowed:
            return
        self._queue({"type": "websocket.send", "bytes": frame}, len(frame))
        if self._size + self._held_by_server() > self.limit:
            self._overflowed = True
            self._waiting.clear()
            self._size = 0
            self._on_overflow()

    def close(self, code: int) -> None:
        """Queue the close behind the frames waiting; nothing is sent after it."""
        if not self._closed:
            self._closed = True
            self._queue({"type": "websocket.close", "code": code}, 0)

    async def close_now(self, code: int) -> None:
        """Close at once, ahead of what waits, for a client that does not read.

        The frames waiting are dropped. A send the server holds back stays under way:
        the close is sent beside it (servers that hold sends back close the socket
        themselves when the client still does not read).
        """
        self._closed = True
        self._waiting.clear()
        self._size = 0
        try:
            await self._send({"type": "websocket.close", "code": code})
        except SEND_FAILURES as exc:
            _dropped(exc)

    async def sent(self) -> None:
        """Wait until everything queued went out (or was dropped: the client is gone).

        Cancelling the wait leaves the sending task alone.
        """
        if self._sender.task is not None:
            await asyncio.wait([self._sender.task])

    def _queue(self, message: dict[str, Any], size: int) -> None:
        self._waiting.append(message)
        self._size += size
        self._sender.start()

    async def _drain(self) -> None:
        """Send what waits, in order, until nothing does; a failed send drops the rest."""
        try:
            while self._waiting:
                message = self._waiting.popleft()
                self._size -= len(message.get("bytes", b""))
                await self._send(message)
        except SEND_FAILURES as exc:
            self._waiting.clear()
            self._size = 0
            if refused_as_too_large(exc):
                self._on_refused(exc)
            else:
                _dropped(exc)


def _dropped(exc: BaseException) -> None:
    logger.debug("collab: message for a closed connection dropped: %r", exc)

"""Sending frames to one connection without ever waiting for it.

A room hands each frame to its connections one after the other. An ASGI server may hold
a send back: uvicorn does while a client is not reading what it was sent (its socket
buffers are full). Waiting there would hold up the frame for every other connection of
the document, and every later frame too. So a frame is sent at once when the server
takes it at once (nearly always); otherwise it, and every frame after it, waits in the
connection's outbox while a background task sends them in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Generator
from typing import Any

from collab.tasks import background

logger = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[None]]
"""An ASGI ``send`` callable."""

Steps = Generator[Any, None, None]
"""An awaitable's iterator (``__await__()``), run one step at a time."""

SEND_FAILURES = (OSError, ValueError, RuntimeError)
"""What ASGI servers raise for a send on a connection that is closing or gone."""


class Outbox:
    """The frames on their way to one connection, in order."""

    __slots__ = ("_on_overflow", "_overflowed", "_send", "_size", "_task", "_waiting", "limit")

    def __init__(self, send: Send, limit: int, on_overflow: Callable[[], None]) -> None:
        """Send through ``send``; call ``on_overflow`` once if more than ``limit`` bytes wait."""
        self._send = send
        self.limit = limit
        self._on_overflow = on_overflow
        self._waiting: deque[bytes] | None = None
        """Frames behind a send the server held back (None: nothing is held back)."""
        self._size = 0
        self._overflowed = False
        self._task: asyncio.Task[None] | None = None

    def put(self, frame: bytes) -> None:
        """Send ``frame`` now, or after the frames already waiting; never waits or raises.

        Frames for a connection that is already gone are dropped. Once more than
        :attr:`limit` bytes wait, the waiting frames and all later ones are dropped and
        ``on_overflow`` is called: the connection must be closed (the client resyncs when
        it connects again).
        """
        if self._overflowed:
            return
        if self._waiting is not None:
            self._waiting.append(frame)
            self._size += len(frame)
            if self._size > self.limit:
                self._overflowed = True
                self._waiting.clear()
                self._size = 0
                self._on_overflow()
            return
        sending = self._send({"type": "websocket.send", "bytes": frame}).__await__()
        try:
            held_on = sending.send(None)  # run it until it first suspends, if ever
        except StopIteration:
            return
        except SEND_FAILURES as exc:
            _dropped(exc)
            return
        self._waiting = deque()
        self._task = background(self._drain(sending, held_on))

    async def _drain(self, held: Steps, held_on: object) -> None:
        waiting = self._waiting
        assert waiting is not None
        try:
            await _finish(held, held_on)
            while waiting:
                frame = waiting.popleft()
                self._size -= len(frame)
                await self._send({"type": "websocket.send", "bytes": frame})
        except SEND_FAILURES as exc:
            _dropped(exc)
        finally:
            self._waiting = None
            self._size = 0
            self._task = None


async def _finish(steps: Steps, held_on: object) -> None:
    """Run an awaitable that was started by hand and suspended to its end, as a task would.

    ``held_on`` is what it suspended on: a future to wait for, or None for a bare yield.
    """
    try:
        while True:
            if isinstance(held_on, asyncio.Future):
                await asyncio.wait([held_on])
            else:
                await asyncio.sleep(0)
            held_on = steps.send(None)
    except StopIteration:
        return
    finally:
        steps.close()


def _dropped(exc: BaseException) -> None:
    logger.debug("collab: frame for a closed connection dropped: %r", exc)

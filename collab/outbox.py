"""Sending frames to one connection without ever waiting for it.

A room hands each frame to its connections one after the other. An ASGI server may hold
a send back: uvicorn does while a client is not reading what it was sent (its socket
buffers are full). Waiting there would hold up the frame for every other connection of
the document, and every later frame too. So :func:`send_or_hold` starts each send and
returns at once. Nearly always the server takes the frame there and then; otherwise the
connection opens an :class:`Outbox`: the held send and the frames after it go out in
order from a background task, and the outbox is gone again once it is empty (an idle
connection holds none).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Generator
from functools import partial
from typing import Any, NamedTuple

from collab.tasks import background

logger = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[None]]
"""An ASGI ``send`` callable."""

Steps = Generator[Any, None, None]
"""An awaitable's iterator (``__await__()``), run one step at a time."""

FINISHED = object()
"""What ``next(steps, FINISHED)`` gives once a send has finished (no StopIteration to
raise and catch for every frame: a send returns None)."""

SEND_FAILURES = (OSError, ValueError, RuntimeError)
"""What ASGI servers raise for a send on a connection that is closing or gone."""


class HeldSend(NamedTuple):
    """A send the server did not finish at once: what is left of it and what it awaits."""

    steps: Steps
    awaiting: object


def send_or_hold(send: Send, frame: bytes) -> HeldSend | None:
    """Send ``frame`` as far as the server takes it without waiting.

    Returns:
        None if the frame was sent (or dropped: the connection is gone), else the send
        the server held back, to be finished by an :class:`Outbox`.
    """
    steps = send(_message(frame)).__await__()
    try:
        awaiting = next(steps, FINISHED)
    except SEND_FAILURES as exc:
        _dropped(exc)
        return None
    return None if awaiting is FINISHED else HeldSend(steps, awaiting)


class Outbox:
    """The frames waiting for one connection behind a send the server held back."""

    __slots__ = (
        "_on_empty",
        "_on_overflow",
        "_overflowed",
        "_send",
        "_size",
        "_task",
        "_waiting",
        "limit",
    )

    def __init__(
        self,
        send: Send,
        held: HeldSend,
        limit: int,
        on_overflow: Callable[[], None],
        on_empty: Callable[[], None],
    ) -> None:
        """Finish ``held``, then send what :meth:`put` adds, in order, through ``send``.

        ``on_empty`` is called once everything went out; ``on_overflow`` once, instead,
        when more than ``limit`` bytes wait.
        """
        self._send = send
        self.limit = limit
        self._on_overflow = on_overflow
        self._on_empty = on_empty
        self._waiting: deque[bytes] = deque()
        self._size = 0
        self._overflowed = False
        self._task = background(self._drain(held))

    limit: int
    """Bytes that may wait; one more and the connection must be closed."""

    def put(self, frame: bytes) -> None:
        """Queue ``frame`` behind the frames already waiting; never waits or raises.

        Once more than :attr:`limit` bytes wait, the waiting frames and all later ones
        are dropped and ``on_overflow`` is called: the connection must be closed (the
        client resyncs when it connects again).
        """
        if self._overflowed:
            return
        self._waiting.append(frame)
        self._size += len(frame)
        if self._size > self.limit:
            self._overflowed = True
            self._waiting.clear()
            self._on_overflow()

    async def _drain(self, held: HeldSend) -> None:
        try:
            await _finish(held)
            while self._waiting:
                frame = self._waiting.popleft()
                self._size -= len(frame)
                await self._send(_message(frame))
        except SEND_FAILURES as exc:
            _dropped(exc)
        if not self._overflowed:
            self._on_empty()


async def _finish(held: HeldSend) -> None:
    """Run a send that :func:`send_or_hold` started to its end, as a task would have."""
    steps, awaiting = held
    try:
        while awaiting is not FINISHED:
            if isinstance(awaiting, asyncio.Future):
                await asyncio.wait([awaiting])
            else:
                await asyncio.sleep(0)  # a bare yield: give the event loop a turn
            awaiting = next(steps, FINISHED)
    finally:
        steps.close()


def _message(frame: bytes) -> dict[str, Any]:
    return {"type": "websocket.send", "bytes": frame}


def _dropped(exc: BaseException) -> None:
    logger.debug("collab: frame for a closed connection dropped: %r", exc)


def daphne_backlog(send: Send) -> Callable[[], int] | None:
    """How to count the bytes daphne holds for a connection; None under other servers.

    daphne's ``send`` never waits: it hands each frame to Twisted, which buffers what the
    client does not read without limit, so an :class:`Outbox` never forms there. This
    is the one place that relies on daphne's and Twisted's internals (daphne 4.2,
    Twisted 26): daphne passes ``functools.partial(server.handle_reply, protocol)`` as
    ``send``; the protocol's ``transport`` (or, under TLS, the transport it wraps) is a
    Twisted ``FileDescriptor``, whose unsent bytes are ``dataBuffer[offset:]`` plus
    ``_tempDataLen``. A ``send`` that does not look like that gives None, so servers
    this does not recognise are left alone.

    Returns:
        A callable giving the bytes waiting in Twisted for this connection, or None.
    """
    protocol = send.args[0] if isinstance(send, partial) and send.args else None
    transport = getattr(protocol, "transport", None)
    while transport is not None and not hasattr(transport, "_tempDataLen"):
        transport = getattr(transport, "transport", None)
    if transport is None or not hasattr(transport, "dataBuffer"):
        return None
    buffered = transport
    return lambda: len(buffered.dataBuffer) - buffered.offset + buffered._tempDataLen

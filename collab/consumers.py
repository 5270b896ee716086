"""The websocket endpoint: authenticates, enforces limits, and hands frames to the room.

No CRDT logic lives here; see :mod:`collab.room` and :mod:`collab.protocol`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, Scope, WebSocketDisconnectEvent
from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer

from collab import access
from collab.aio import background, sync_batches
from collab.close_codes import CloseCode
from collab.conf import conf
from collab.exceptions import CollabError, QuotaExceeded, is_pycrdt_panic
from collab.identity import connection_grant, current_grant
from collab.origins import check_origin
from collab.outbox import Outbox
from collab.permissions import Access, Authorization, authorize, policy_access
from collab.protocol import KEEPALIVE_FRAME, Message, QueryAwareness, SyncStep1, decode_message
from collab.quotas import count_creation, open_counts, owner_of
from collab.rate_limit import RateLimiter
from collab.refusals import Client, client_of, refusals, worth_logging
from collab.registry import get_registry
from collab.room import READ_ONLY_FRAME, Room
from collab.server_socket import Send, ServerSocket, server_socket

if TYPE_CHECKING:
    from channels.consumer import _ChannelScope

logger = logging.getLogger(__name__)

SHUTDOWN_SEND_TIMEOUT = 2.0
"""Seconds a connection closed on shutdown waits for its last frames and close to go out."""

StateRequest = SyncStep1 | QueryAwareness
"""A request answered with a whole state: what the document has that the client lacks,
or every presence state. A frame of 1 to 4 bytes, so throttled per connection."""


class SocketConsumer(AsyncWebsocketConsumer):
    """A websocket served straight from the server, its frames sent through an outbox."""

    groups = ()  # type: ignore[assignment]  # a tuple: no list per connection
    """No channel-layer groups: rooms, not connections, talk to the layer (see ``__call__``).

    Channels would otherwise give every connection an empty list of its own.
    """
    _outbox: Outbox
    """What waits to be sent to the client (set up in ``__call__``)."""
    _socket: ServerSocket
    """What collab sees and steers of the server's socket (set up in ``__call__``)."""
    _closing: asyncio.Task[None] | None = None
    """The task closing the connection from an outbox callback (the loop keeps weak references)."""

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        """Serve the connection, one message at a time, straight from the server.

        Channels' own loop also listens to a channel-layer channel per connection, and
        wraps every receive in a new task to do so. Rooms, not connections, talk to the
        channel layer, so this consumer has no such channel and awaits the server directly.

        Frames reach the client through an :class:`~collab.outbox.Outbox`, which sends
        them with plain ``await send(...)`` calls from a task of its own, so this works
        whatever kind of awaitable the server's ``send`` returns.

        When the server cancels the connection on shutdown, the pending updates of its
        rooms are stored first, then the client is closed with 4503 (going away) so it
        reconnects (to another process, if any).
        """
        self.scope = cast("_ChannelScope", scope)
        self.channel_layer = None  # type: ignore[assignment]  # connections have none
        self.base_send = send
        messages = cast(Send, send)  # collab's frames and closes, as plain dicts
        self._socket = server_socket(messages)
        self._outbox = Outbox(
            messages, conf.MAX_OUTBOX_BYTES, self._fell_behind, self._socket.backlog, self._not_sent
        )
        try:
            while True:
                await self.dispatch(cast(dict[str, Any], await receive()))
        except StopConsumer:
            pass
        except asyncio.CancelledError:
            rooms = self._rooms()
            for room in rooms:
                await room.flush()
            if rooms:
                self._outbox.close(int(CloseCode.GOING_AWAY))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(SHUTDOWN_SEND_TIMEOUT):
                        await self._outbox.sent()
            raise

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Route each message straight to its handler.

        Channels first closes stale database connections in a thread-sensitive hop
        before every message. Frames never touch the database, and collab's database
        work closes stale connections in its own hop; a hop before each handshake would
        also queue every handshake of a reconnect storm behind the authorizations, past
        daphne's 5 s limit for accepting a connection.
        """
        if message["type"] == "websocket.receive":
            await self.receive(message.get("text"), message.get("bytes"))
            return
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"no handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: WebSocketDisconnectEvent) -> None:
        """End the connection: leave the room, and stop.

        Channels' handler also closes stale database connections afterwards, in a hop to
        Django's thread for thread-sensitive code. When a network blip drops every client
        at once, thousands of those hops queued in that one thread ahead of the
        authorizations of the same clients reconnecting; this consumer leaves no
        database connection behind on the loop, and has no groups to leave.
        """
        await self.disconnect(message["code"])
        raise StopConsumer()

    def _rooms(self) -> list[Room]:
        """The rooms whose pending updates are stored before a shutdown closes the socket."""
        raise NotImplementedError

    async def _refuse(self, code: CloseCode, reason: object) -> None:
        """Log why and close the connection with ``code``."""
        raise NotImplementedError

    async def _close_socket(self, code: CloseCode) -> None:
        """Close with ``code`` behind what waits; a client too slow to read gets it first."""
        if code is CloseCode.CLIENT_TOO_SLOW:
            await self._outbox.close_now(int(code))
        else:
            self._outbox.close(int(code))

    def _fell_behind(self) -> None:
        """More than ``MAX_OUTBOX_BYTES`` wait for this client: close it (it resyncs later).

        The close goes out at once, beside a send the server holds back. Under daphne it
        waits behind the bytes Twisted buffers; if the client does not read it, autobahn
        drops the TCP connection one second after sending it.
        """
        reason = f"client not reading: over {conf.MAX_OUTBOX_BYTES} bytes waiting"
        self._closing = background(self._refuse(CloseCode.CLIENT_TOO_SLOW, reason))

    def _not_sent(self, exc: BaseException) -> None:
        """The server refused to send a frame for its size: close (4500) and say so.

        The client missed that frame, so it must reconnect and resync.
        """
        reason = (
            f"the server refused to send a frame: {exc} (its message limit must be at "
            f"least MAX_FRAME_BYTES, {conf.MAX_FRAME_BYTES} bytes, plus 16)"
        )
        self._closing = background(self._refuse(CloseCode.SERVER_ERROR, reason))


class DocumentConsumer(SocketConsumer):
    """Serves one y-websocket connection to the document named in the URL."""

    can_edit = False
    user_id: int | None = None
    room: Room | None = None
    _refused = False
    """Whether the server decided to close this connection (it closes only once)."""
    _state_bytes: int | None = None
    """While the room answers a sync step 1: the bytes of its answer so far."""
    _client: Client = ("", "", "")
    """Who handshakes for which document, as refusals remember it."""
    _owner = ""
    """Whom the connection counts against (:func:`collab.quotas.owner_of`)."""
    _admitted = False
    """Whether the connection is counted in its owner's open connections and documents."""
    _answering: asyncio.Task[None] | None = None
    """The task answering deferred requests (held: the loop keeps only weak references)."""
    _deferred: dict[type[StateRequest], StateRequest] | None = None
    """The latest request of each kind over the budget, answered when the budget renews."""

    async def connect(self) -> None:
        """Check the origin, authorize, join the document's room, and receive sync step 1."""
        self.key: str = self.scope["url_route"]["kwargs"]["key"]
        self._last_sent = time.monotonic()
        self._limiter = RateLimiter(conf.RATE_LIMIT_MESSAGES, conf.RATE_LIMIT_PERIOD)
        self._state_requests = RateLimiter(conf.STATE_REQUEST_LIMIT, conf.STATE_REQUEST_PERIOD)
        await self.accept()
        self._client = client_of(self.scope, self.key)
        keeping_alive = background(self._keep_alive_until_joined())
        try:
            if delay := refusals.get().delay(self._client):
                await asyncio.sleep(delay)  # refused lately: it retries at once otherwise
            check_origin(self.scope)
            decision = await sync_batches.get().run(self._authorize)
            self.can_edit = decision.access is Access.EDIT
            open_counts.get().admit(self._owner, self.key)
            self._admitted = True
            self._joining()
            self.room = await get_registry().join(
                self.key, decision.document.pk, self, new=decision.new_and_empty
            )
            access.watch(self)
            refusals.get().admitted(self._client)
        except Exception as exc:
            await self._fail(exc)
        finally:
            keeping_alive.cancel()

    def _joining(self) -> None:
        """Called once the connection is admitted, before its room sends it anything."""

    async def _keep_alive_until_joined(self) -> None:
        """Send keepalive frames while the handshake waits.

        It may wait for its turn to be authorized, for the document to load, or out a
        refusal's delay. Stock clients close a socket that received nothing for 30
        seconds after it opened, and reconnect: in a reconnect storm longer than that,
        the clients waiting longest would start the storm again.
        """
        while True:
            await asyncio.sleep(conf.KEEPALIVE_INTERVAL)
            self.send_frame(KEEPALIVE_FRAME)

    def _authorize(self) -> Authorization:
        """Find the connection's user and what it may do with the document (blocking)."""
        user, most = connection_grant(self.scope, self.key)
        self.user_id = user.pk if user.is_authenticated else None
        self._owner = owner_of(user, self.scope)
        return authorize(user, self.key, partial(count_creation, self._owner), most)

    def current_access(self) -> tuple[Access, bool]:
        """What this connection's user may do now, and whether they are logged in (blocking).

        For :mod:`collab.access`, when the user's or the document's access may have changed.
        """
        user, most = current_grant(self.scope, self.key)
        return min(policy_access(user, self.key), most), user.is_authenticated

    async def apply_access(self, granted: Access, authenticated: bool) -> None:
        """Follow a changed decision: close without access, stop editing with read access.

        A downgraded connection stays open; the room drops its later edits and tells it
        that it may only read, so the bundled editor switches to read-only. More access
        than before takes effect at the next connection.
        """
        if self.room is None:
            return
        if granted is Access.NONE:
            await self._refuse(access.closing_code(authenticated), "access revoked")
        elif granted is Access.READ and self.can_edit:
            self.can_edit = False
            logger.info(
                "collab: connection to %r (user %s) may now only read", self.key, self.user_id
            )
            self.send_frame(READ_ONLY_FRAME)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Check one frame against the limits, decode it and give it to the room.

        Sync step 1 and query-awareness requests over ``STATE_REQUEST_LIMIT`` per
        ``STATE_REQUEST_PERIOD`` are not refused but answered later, once per kind.
        """
        if self.room is None:
            return
        if bytes_data is None:
            await self._refuse(CloseCode.UNSUPPORTED_DATA, "text frame")
        elif len(bytes_data) > conf.MAX_FRAME_BYTES:
            await self._refuse(CloseCode.FRAME_TOO_LARGE, f"{len(bytes_data)} byte frame")
        else:
            try:
                message = decode_message(bytes_data)
            except Exception as exc:
                await self._fail(exc)
                return
            if isinstance(message, StateRequest) and not self._state_requests.allow():
                self._defer(message)
            elif await self._give_to_room(message):
                await self._slow_down()

    async def _slow_down(self) -> None:
        """Count a frame that changed something; over the budget, read the next one later.

        ``RATE_LIMIT_MESSAGES`` changes per ``RATE_LIMIT_PERIOD`` are read at once; after
        that the connection's next frame is read when the window renews. The client is
        not closed: it is slowed down, while it still receives what others send. Frames
        that change nothing (echoes of what the document holds, empty updates, presence
        already known) are not counted.

        Its frames meanwhile wait in the server, then in TCP: servers stop reading a
        socket whose frames are not asked for, and daphne, which reads on regardless, is
        told to pause (:mod:`collab.server_socket`).
        """
        delay = self._limiter.take()
        if delay:
            logger.debug(
                "collab: %r: over the rate limit, next frame read in %.2f s", self.key, delay
            )
            self._socket.pause_reading()
            try:
                await asyncio.sleep(delay)
            finally:
                self._socket.resume_reading()

    async def _give_to_room(self, message: Message) -> bool:
        """Hand ``message`` to the room; close with the code of whatever goes wrong.

        A pycrdt panic is a ``BaseException``: it is caught too, so that it never leaves
        this connection in the room.

        Returns:
            Whether the message changed the document or the presence states.
        """
        assert self.room is not None
        if isinstance(message, SyncStep1):
            self._state_bytes = 0
        try:
            return self.room.receive(self, message)
        except Exception as exc:
            await self._fail(exc)
        except BaseException as exc:
            if not is_pycrdt_panic(exc):
                raise
            await self._fail(exc)
        finally:
            self._state_bytes = None
        return False

    def _defer(self, request: StateRequest) -> None:
        """Answer ``request`` when the budget renews; a later request of its kind replaces it.

        A later sync step 1 carries the newer state vector, so only it needs an answer.
        """
        if self._deferred is None:
            self._deferred = {}
            delay = self._state_requests.renews_in()
            logger.debug(
                "collab: %r: state requests over budget, answered in %.1f s", self.key, delay
            )
            self._answering = background(self._answer_deferred(delay))
        self._deferred[type(request)] = request

    async def _answer_deferred(self, delay: float) -> None:
        await asyncio.sleep(delay)
        requests, self._deferred = self._deferred or {}, None
        for request in requests.values():
            if self.room is None:
                return
            self._state_requests.allow()  # each answer counts against the new window
            await self._give_to_room(request)

    async def disconnect(self, code: int) -> None:
        """Leave the room, so the others learn this connection's presence is gone."""
        await self._leave()

    def _rooms(self) -> list[Room]:
        return [] if self.room is None else [self.room]

    def send_frame(self, frame: bytes) -> None:
        """Send one binary frame (the room's way to reach this connection), never waiting.

        The frame goes into this connection's outbox, which sends it in order from a
        task of its own, so a client that stops reading holds up nobody else. A
        connection the server already closed (a broadcast racing a disconnect or a
        shutdown) drops the frame. The answer to a sync step 1 (the whole document, for a
        new client) may wait on top of ``MAX_OUTBOX_BYTES``: a document larger than that
        still reaches a client that reads.
        """
        self._last_sent = time.monotonic()
        if self._state_bytes is not None:
            self._state_bytes += len(frame)
            self._outbox.limit = conf.MAX_OUTBOX_BYTES + self._state_bytes
        self._outbox.put(frame)

    async def close_with(self, code: CloseCode) -> None:
        """Close this connection with ``code`` (the room's way to end it)."""
        await self._refuse(code, "closed by the server")

    def idle_for(self) -> float:
        """Seconds since this connection was last sent a frame."""
        return time.monotonic() - self._last_sent

    async def _fail(self, exc: BaseException) -> None:
        """Close with the code of a :class:`CollabError`, or 4500 for anything else.

        A connection over a quota is held open for ``QUOTA_CLOSE_DELAY`` seconds first:
        stock clients that reconnect after any close then do not come back at once.
        """
        code = exc.close_code if isinstance(exc, CollabError) else CloseCode.SERVER_ERROR
        if isinstance(exc, QuotaExceeded):
            await asyncio.sleep(conf.QUOTA_CLOSE_DELAY)
        await self._refuse(code, exc)

    async def _refuse(self, code: CloseCode, reason: object) -> None:
        """Log why, leave the room, and close with ``code`` (once: later calls do nothing).

        Server errors are logged with the traceback of what went wrong underneath.
        """
        if self._refused:
            return
        self._refused = True
        failure = None
        if code is CloseCode.SERVER_ERROR and isinstance(reason, BaseException):
            failure = reason.__cause__ or reason
        level = logging.ERROR if code is CloseCode.SERVER_ERROR else logging.WARNING
        if self.room is None:  # refused before it joined: remembered, and logged less often
            if (count := refusals.get().refused(self._client)) > 1:
                reason = f"{reason} (refused {count} times in a row)"
            level = level if worth_logging(count) else logging.DEBUG
        logger.log(
            level,
            "collab: closing connection to %r (user %s) with %d %s: %s",
            self.key,
            self.user_id,
            code,
            code.name,
            reason,
            exc_info=failure,
        )
        await self._leave()
        await self._close(code, reason)

    async def _close(self, code: CloseCode, reason: object) -> None:
        """Send the close that ends a refusal."""
        await self._close_socket(code)

    async def _leave(self) -> None:
        if self._admitted:
            self._admitted = False
            open_counts.get().release(self._owner, self.key)
        room, self.room = self.room, None
        if room is not None:
            await get_registry().leave(room, self)
            access.unwatch(self)


async def refuse_unmatched_path(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    """Refuse a websocket whose path no route matched: accept it and close with 4404.

    A plain ASGI application, cheap to run: stock clients retry a refused connection
    every few hundred milliseconds. It logs one short line (at INFO), without a traceback.
    """
    if (await receive())["type"] != "websocket.connect":
        return
    logger.info(
        "collab: no websocket route for %r; closing with %d",
        scope.get("path", "")[:100],
        CloseCode.NOT_FOUND,
    )
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": int(CloseCode.NOT_FOUND)})

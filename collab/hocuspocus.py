"""The websocket endpoint for Hocuspocus clients (``@hocuspocus/provider``, Tiptap).

One socket carries many documents (:mod:`collab.hocuspocus_protocol`). Each document on
it is a :class:`HocuspocusDocument`: a :class:`~collab.consumers.DocumentConsumer` of its
own, with the same authorization, limits, rooms, rechecks and close codes as a
y-websocket connection, whose frames travel addressed on the shared socket. So both
protocols share one room per document.

A document's frames wait while its auth message is checked (the provider sends its sync
step 1 and presence without waiting for the answer), then the server answers
*authenticated* or *permission denied* and replays them. What a socket may hold that way
is bounded (:data:`MAX_HELD_BYTES`, :data:`MAX_HELD_FRAMES`, :data:`MAX_PENDING_DOCUMENTS`).

How each outcome reaches the client:

* refused before joining (no access, bad token, quota, origin): ``Auth(PermissionDenied,
  "<code> <NAME>: <reason>")`` for that document; the socket stays open;
* closed by the server later (deleted, access revoked): ``Close("<code> <NAME>")`` for
  that document; the socket stays open;
* malformed or refused input, a server error, a client too slow to read, shutdown: the
  whole socket closes with the code, as on the y-websocket route (providers reconnect).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from typing import TYPE_CHECKING, Any, cast

from asgiref.typing import WebSocketConnectEvent

from collab import signals
from collab.aio import background, in_worker_thread
from collab.close_codes import CloseCode
from collab.conf import conf
from collab.consumers import DocumentConsumer, SocketConsumer
from collab.exceptions import ProtocolError
from collab.hocuspocus_protocol import (
    DOCUMENT_FRAME_TYPES,
    PING_FRAME,
    PONG_FRAME,
    AddressedFrame,
    HocuspocusType,
    addressed,
    encode_authenticated,
    encode_close,
    encode_permission_denied,
    encode_stateless,
    encode_sync_status,
    read_auth,
    read_stateless,
    split_frame,
)
from collab.keys import KEY_PATTERN
from collab.models import Document
from collab.protocol import EMPTY_UPDATE, Message, SyncStep2, SyncUpdate
from collab.registry import get_registry
from collab.room import READ_ONLY_FRAME, Room
from collab.tokens import SCOPE_KEY

if TYPE_CHECKING:
    from channels.consumer import _ChannelScope

__all__ = ["HocuspocusConsumer", "send_stateless"]

logger = logging.getLogger(__name__)

MAX_HELD_BYTES = 5 * 1024 * 1024
"""Bytes of frames a socket may send for documents still being authorized."""
MAX_HELD_FRAMES = 1000
"""Frames a socket may send for documents still being authorized."""
MAX_PENDING_DOCUMENTS = 100
"""Documents a socket may have waiting for authorization at once."""

PER_DOCUMENT_CODES = frozenset(
    (
        CloseCode.NOT_AUTHENTICATED,
        CloseCode.FORBIDDEN,
        CloseCode.NOT_FOUND,
        CloseCode.QUOTA_EXCEEDED,
        CloseCode.DOCUMENT_DELETED,
        CloseCode.UNTRUSTED_ORIGIN,
    )
)
"""Refusals and closes that end one document on a socket; any other closes the socket."""

_KEY = re.compile(KEY_PATTERN)


class HocuspocusDocument(DocumentConsumer):
    """One document on a Hocuspocus socket: a document connection of its own.

    Created by :class:`HocuspocusConsumer` for each document address, never by a route.
    """

    def __init__(self, carrier: HocuspocusConsumer, address: str, token: str) -> None:
        super().__init__()
        self._carrier = carrier
        self.address = address
        self.key = address.partition("\0")[0]
        scope = {**carrier.scope, "url_route": {"args": (), "kwargs": {"key": self.key}}}
        self.scope = cast("_ChannelScope", {**scope, SCOPE_KEY: token})
        self.channel_layer = None  # type: ignore[assignment]  # connections have none
        self._outbox = carrier._outbox
        self._socket = carrier._socket
        self._announced: bool | None = None
        """The access last announced to the client (``True``: read-only), if any."""

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None:
        """The socket is already open: nothing to accept for one of its documents."""

    def _joining(self) -> None:
        self._announce(read_only=not self.can_edit)

    def _announce(self, read_only: bool) -> None:
        if self._announced is not read_only:
            self._announced = read_only
            self._put(encode_authenticated(self.address, read_only))

    def _put(self, frame: bytes) -> None:
        """Queue an addressed frame on the socket."""
        super().send_frame(frame)
        self._carrier.mark_sent()

    def send_frame(self, frame: bytes) -> None:
        """Send a y-websocket ``frame`` of the room, addressed to this document.

        The room's "read-only" notice becomes a new *authenticated* answer with the
        ``readonly`` scope, which providers understand.
        """
        if frame == READ_ONLY_FRAME:
            self._announce(read_only=True)
        else:
            self._put(addressed(self.address, frame))

    def idle_for(self) -> float:
        """Seconds since anything was sent on the socket (its documents share the timer)."""
        return self._carrier.idle_for()

    async def _give_to_room(self, message: Message) -> bool:
        """Hand ``message`` to the room; acknowledge an update with a sync status.

        Providers count their updates until acknowledged (``unsyncedChanges``). A change
        of a read-only connection is acknowledged as not applied unless it is empty.
        """
        changed = await super()._give_to_room(message)
        if isinstance(message, SyncStep2 | SyncUpdate) and self.room is not None:
            applied = self.can_edit or message.update == EMPTY_UPDATE
            self._put(encode_sync_status(self.address, applied))
        return changed

    async def _close(self, code: CloseCode, reason: object) -> None:
        """End this document only, or the whole socket (see the module's docstring)."""
        self._carrier.forget(self)
        if code not in PER_DOCUMENT_CODES:
            await self._carrier.close_socket(code, reason)
        elif self._announced is None:
            self._put(encode_permission_denied(self.address, f"{int(code)} {code.name}: {reason}"))
        else:
            self._put(encode_close(self.address, f"{int(code)} {code.name}"))

    def send_stateless(self, payload: str) -> None:
        """Send the client's provider of this document a stateless message."""
        self._put(encode_stateless(self.address, payload))

    async def stateless(self, payload: str) -> None:
        """Hand a stateless message of the client to the project (``stateless_received``).

        It counts against the connection's rate limit, as a change does.
        """
        await in_worker_thread(signals.stateless_received.send)(
            sender=Document, key=self.key, user_id=self.user_id, payload=payload
        )
        await self._slow_down()


class _Pending:
    """A document on a socket between its first frame and the end of its authorization."""

    def __init__(self) -> None:
        self.frames: deque[bytes] = deque()
        self.task: asyncio.Task[None] | None = None


class HocuspocusConsumer(SocketConsumer):
    """Serves one Hocuspocus socket: any number of documents, each authorized on its own."""

    _refused = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._documents: dict[str, HocuspocusDocument] = {}
        """The documents joined on this socket, by address."""
        self._pending: dict[str, _Pending] = {}
        """The documents awaiting authorization (or replaying what they held), by address."""
        self._held_bytes = 0
        self._held_frames = 0
        self._last_sent = time.monotonic()
        self._pinging: asyncio.Task[None] | None = None

    async def websocket_connect(self, message: WebSocketConnectEvent) -> None:
        """Accept at once: each document is authorized by its own auth message."""
        await self.accept()
        self._last_sent = time.monotonic()
        self._pinging = background(self._ping())

    async def disconnect(self, code: int) -> None:
        """Leave every document's room and drop what waits for authorization."""
        await self._leave_all()

    async def _leave_all(self) -> None:
        if self._pinging is not None:
            self._pinging.cancel()
        for pending in self._pending.values():
            if pending.task not in (None, asyncio.current_task()):
                pending.task.cancel()  # not the authorization closing the socket itself
        self._pending.clear()
        documents, self._documents = list(self._documents.values()), {}
        for document in documents:
            await document.disconnect(0)

    def _rooms(self) -> list[Room]:
        return [room for d in self._documents.values() if (room := d.room) is not None]

    def idle_for(self) -> float:
        """Seconds since anything was sent on this socket."""
        return time.monotonic() - self._last_sent

    def mark_sent(self) -> None:
        """Note that a frame was just queued on the socket (it resets the keepalive)."""
        self._last_sent = time.monotonic()

    async def _ping(self) -> None:
        """Ping a socket nothing was sent on for ``KEEPALIVE_INTERVAL`` (providers answer).

        Rooms keep their documents' sockets alive; this covers a socket with none.
        """
        while True:
            await asyncio.sleep(conf.KEEPALIVE_INTERVAL - self.idle_for())
            if self.idle_for() >= conf.KEEPALIVE_INTERVAL:
                self.mark_sent()
                self._outbox.put(PING_FRAME)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Route one frame to its document, or act on it for the socket."""
        if self._refused:
            return
        if bytes_data is None:
            await self.close_socket(CloseCode.UNSUPPORTED_DATA, "text frame")
        elif len(bytes_data) > conf.MAX_FRAME_BYTES:
            await self.close_socket(CloseCode.FRAME_TOO_LARGE, f"{len(bytes_data)} byte frame")
        elif bytes_data != PONG_FRAME:
            try:
                await self._route(split_frame(bytes_data), bytes_data)
            except ProtocolError as exc:
                await self.close_socket(exc.close_code, exc)

    async def _route(self, frame: AddressedFrame, raw: bytes) -> None:
        if frame.type in (HocuspocusType.SYNC_REPLY, HocuspocusType.BROADCAST_STATELESS):
            raise ProtocolError(f"message type {int(frame.type)} is the server's own")
        if frame.address in self._pending:  # held frames go first, in order
            if frame.type is HocuspocusType.CLOSE:
                self._drop_pending(frame.address)
            else:
                self._hold(frame, raw)
        elif (document := self._documents.get(frame.address)) is not None:
            await self._to_document(document, frame)
        elif frame.type is not HocuspocusType.CLOSE:
            self._hold(frame, raw)

    async def _to_document(self, document: HocuspocusDocument, frame: AddressedFrame) -> None:
        if frame.type in DOCUMENT_FRAME_TYPES:
            await document.receive(bytes_data=frame.body)
        elif frame.type is HocuspocusType.STATELESS:
            await document.stateless(read_stateless(frame.body))
        elif frame.type is HocuspocusType.CLOSE:
            self.forget(document)
            await document.disconnect(0)
        elif frame.type is HocuspocusType.AUTH:
            read_auth(frame.body)  # a provider recreated fast: already authenticated
        else:
            raise ProtocolError(f"message type {int(frame.type)} is the server's own")

    def _hold(self, frame: AddressedFrame, raw: bytes) -> None:
        """Keep ``frame`` until its document is authorized; start that on an auth message."""
        pending = self._pending.get(frame.address)
        if pending is None:
            if len(self._pending) >= MAX_PENDING_DOCUMENTS:
                raise _HeldTooMuch(f"over {MAX_PENDING_DOCUMENTS} documents awaiting authorization")
            pending = self._pending[frame.address] = _Pending()
        if frame.type is HocuspocusType.AUTH and pending.task is None:
            token = read_auth(frame.body).token
            pending.task = background(self._authorize(frame.address, token, pending))
            return
        self._held_bytes += len(raw)
        self._held_frames += 1
        if self._held_bytes > MAX_HELD_BYTES or self._held_frames > MAX_HELD_FRAMES:
            raise _HeldTooMuch(
                f"over {MAX_HELD_FRAMES} frames or {MAX_HELD_BYTES} bytes awaiting authorization"
            )
        pending.frames.append(raw)

    async def _authorize(self, address: str, token: str, pending: _Pending) -> None:
        """Authorize and join the document, then replay its held frames in order."""
        document = HocuspocusDocument(self, address, token)
        try:
            if _KEY.fullmatch(document.key):
                await document.connect()
            else:
                await document.close_with(CloseCode.NOT_FOUND)
            if document.room is not None:
                self._documents[address] = document
                while pending.frames and not self._refused and address in self._documents:
                    raw = pending.frames.popleft()
                    self._held_bytes -= len(raw)
                    self._held_frames -= 1
                    await self._to_document(document, split_frame(raw))
        except asyncio.CancelledError:  # the socket closed, or the client detached
            self.forget(document)
            await document.disconnect(0)
            raise
        finally:
            self._release(address, pending)

    def _release(self, address: str, pending: _Pending | None = None) -> None:
        """Stop holding frames for ``address`` (only for ``pending``, if given)."""
        if pending is not None and self._pending.get(address) is not pending:
            return
        pending = self._pending.pop(address, None)
        if pending is not None:
            self._held_frames -= len(pending.frames)
            self._held_bytes -= sum(len(raw) for raw in pending.frames)

    def _drop_pending(self, address: str) -> None:
        pending = self._pending.get(address)
        if pending is not None and pending.task is not None:
            pending.task.cancel()
        self._release(address)

    def forget(self, document: HocuspocusDocument) -> None:
        """Stop routing frames to ``document`` (it was closed)."""
        if self._documents.get(document.address) is document:
            del self._documents[document.address]

    async def close_socket(self, code: CloseCode, reason: object) -> None:
        """Leave every document and close the socket with ``code`` (once)."""
        if self._refused:
            return
        self._refused = True
        level = logging.ERROR if code is CloseCode.SERVER_ERROR else logging.WARNING
        logger.log(
            level, "collab: closing Hocuspocus socket with %d %s: %s", code, code.name, reason
        )
        await self._leave_all()
        await self._close_socket(code)

    async def _refuse(self, code: CloseCode, reason: object) -> None:
        await self.close_socket(code, reason)


class _HeldTooMuch(ProtocolError):
    """A socket sent more than it may while its documents are being authorized."""

    close_code = CloseCode.QUOTA_EXCEEDED


def send_stateless(key: str, payload: str) -> int:
    """Send a stateless message to every Hocuspocus client of document ``key`` in this process.

    Call it on the event loop: from async code, or from a
    :data:`~collab.signals.stateless_received` receiver through ``async_to_sync``.

    Returns:
        How many connections it went to.
    """
    room = get_registry().get(key)
    documents = [] if room is None else room.peers_of_type(HocuspocusDocument)
    for document in documents:
        document.send_stateless(payload)
    return len(documents)

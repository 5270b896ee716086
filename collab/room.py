"""One open document in this process: its pycrdt ``Doc``, awareness and connections.

The room is the only owner of a document's in-memory state. It applies each update
once, fans the encoded frame out to the other local connections, and batches what it
applied into the update log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from typing import TYPE_CHECKING, Any, Protocol

from pycrdt import Doc, TransactionEvent

from collab import signals, store
from collab.awareness import SERVER, AwarenessStates
from collab.close_codes import CloseCode
from collab.conf import conf
from collab.exceptions import DocumentLoadError, ProtocolError, UpdateRejected
from collab.protocol import (
    EMPTY_STATE_VECTOR,
    EMPTY_UPDATE,
    KEEPALIVE_FRAME,
    AwarenessUpdate,
    Message,
    PermissionDenied,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode_awareness_update,
    encode_awareness,
    encode_permission_denied,
    encode_sync_step1,
    encode_sync_step2,
    encode_update,
)
from collab.tasks import background, in_worker_thread

if TYPE_CHECKING:
    from collab.relay import Relay

logger = logging.getLogger(__name__)

READ_ONLY_FRAME = encode_permission_denied("read-only: your changes are not saved or shared")
"""Sent to read-only connections on join and whenever one of their edits is dropped."""

RETRY_DELAY = 1.0
"""Seconds before a failed batch write is tried again."""

PRESENCE_DEBOUNCE = 0.5
"""Seconds of join/leave activity gathered into one write of who is connected."""

PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
"""Names this server process in the presence table."""


class Peer(Protocol):
    """A connection as the room sees it."""

    can_edit: bool
    user_id: int | None
    """Who is connected (``None``: anonymous, or a server-side edit without a user)."""

    def send_frame(self, frame: bytes) -> None:
        """Send one binary frame without waiting for the client to take it.

        Must not raise if the connection is already gone, and must not change the room
        (it is called while the room goes through its connections). A room sends each
        frame to its connections one after the other, so waiting here for one slow
        client would hold up everyone.
        """

    def idle_for(self) -> float:
        """Seconds since this connection was last sent a frame."""

    async def close_with(self, code: CloseCode) -> None:
        """Close the connection with ``code``."""


class Room:
    """The live state of one document in this process."""

    def __init__(self, key: str, document_id: int) -> None:
        self.key = key
        self.document_id = document_id
        self.doc: Doc[Any] = Doc()
        self.awareness = AwarenessStates(key)
        self._peers: set[Peer] = set()
        self._pending: list[bytes] = []
        self._delta: bytes | None = None
        self._whole: bytes | None = None
        """The whole document encoded as one update, kept until the document changes."""
        self._store_lock = asyncio.Lock()
        self._flush_task: asyncio.Task[None] | None = None
        self._keepalive_task: asyncio.Task[None] | None = None
        self.relay: Relay | None = None
        """Link to this document's rooms in other processes, if the layer spans processes."""
        self._authors: set[int] = set()
        self._changed_by: set[int | None] = set()
        self._signal_task: asyncio.Task[None] | None = None
        self._presence_changed = asyncio.Event()
        self._presence_task: asyncio.Task[None] | None = None
        self._last_checkpoint = time.monotonic()

    @property
    def peer_count(self) -> int:
        """How many connections are in the room."""
        return len(self._peers)

    async def load(self) -> None:
        """Fill the document from storage.

        Raises:
            DocumentLoadError: Reading or decoding the stored state failed; the room
                must not be used, so an empty document never overwrites stored data.
        """
        try:
            updates = await in_worker_thread(store.load_updates)(self.document_id)
            for update in updates:
                self.doc.apply_update(update)
            if len(updates) == 1:
                # A lone snapshot (or log row) already is the whole document, encoded.
                self._whole = updates[0]
        except Exception as exc:
            raise DocumentLoadError(f"cannot load document {self.key!r}") from exc
        self.doc.observe(self._capture_delta)

    async def add_peer(self, peer: Peer) -> None:
        """Admit a connection and send it the server's sync step 1 and known presence."""
        self._peers.add(peer)
        peer.send_frame(encode_sync_step1(self.doc.get_state()))
        if self.awareness.state_count:
            peer.send_frame(self._awareness_frame())
        if not peer.can_edit:
            peer.send_frame(READ_ONLY_FRAME)
        if self._keepalive_task is None:
            self._keepalive_task = background(self._keep_alive())
        self._presence_changed.set()
        if self._presence_task is None:
            self._presence_task = background(self._record_presence())

    async def remove_peer(self, peer: Peer) -> None:
        """Drop a connection and tell the others its presence states are gone."""
        self._peers.discard(peer)
        await self._relay_awareness(self.awareness.remove_owner(peer))
        if not self._peers and self._keepalive_task is not None:
            self._keepalive_task.cancel()
            self._keepalive_task = None
        self._presence_changed.set()

    async def close_peers(self, code: CloseCode) -> None:
        """Close every connection with ``code`` (the document is gone)."""
        for peer in list(self._peers):
            await peer.close_with(code)

    async def abandon(self) -> None:
        """Stop everything without storing: the document no longer exists."""
        self._pending.clear()
        await self._stop_background()

    async def receive(self, peer: Peer, message: Message) -> None:
        """Handle one decoded message from ``peer``.

        Raises:
            ProtocolError: The message is not one a client may send, or pycrdt rejected
                its content. Nothing was applied or relayed.
        """
        if isinstance(message, SyncUpdate | SyncStep2):
            self._receive_update(peer, message.update)
        elif isinstance(message, SyncStep1):
            peer.send_frame(encode_sync_step2(self.missing_for(message.state_vector)))
        elif isinstance(message, AwarenessUpdate):
            await self._receive_awareness(peer, message)
        elif isinstance(message, QueryAwareness):
            peer.send_frame(self._awareness_frame())
        elif isinstance(message, PermissionDenied):
            raise ProtocolError("auth messages are sent by the server only")

    async def flush(self) -> None:
        """Write the pending updates as one log row; compact the log when it is long.

        Raises:
            Exception: The database write failed; the updates stay pending.
        """
        async with self._store_lock:
            batch, self._pending = self._pending, []
            authors, self._authors = self._authors, set()
            if not batch:
                return
            try:
                log_rows = await in_worker_thread(store.append_updates)(
                    self.document_id, batch, sorted(authors)
                )
            except BaseException as exc:
                if isinstance(exc, Exception) and not await in_worker_thread(store.document_exists)(
                    self.document_id
                ):
                    logger.warning("collab: %r was deleted; its edits are dropped", self.key)
                    return
                self._pending[:0] = batch
                self._authors |= authors
                raise
            checkpoint_due = time.monotonic() - self._last_checkpoint > conf.CHECKPOINT_INTERVAL
            if log_rows >= conf.COMPACT_AFTER_UPDATES or checkpoint_due:
                await self._compact_locked()

    def store_pending_now(self) -> None:
        """Write pending updates synchronously: the last resort when the process exits.

        Only for when no event loop runs any more (``atexit``); a write that a cancelled
        task had started may be repeated, which the log tolerates.
        """
        batch, self._pending = self._pending, []
        if batch:
            store.append_updates(self.document_id, batch, sorted(self._authors))

    async def close(self) -> None:
        """Store everything and compact, retrying failed writes until they succeed."""
        await self._stop_background()
        await self._send_changed()
        await self._flush_until_stored()
        async with self._store_lock:
            await self._compact_locked()
        await in_worker_thread(store.record_presence)(self.document_id, PROCESS_ID, [])

    async def _stop_background(self) -> None:
        """Unlink from other processes and cancel the room's own tasks."""
        if self.relay is not None:
            await self.relay.stop()
            self.relay = None
        tasks = (self._flush_task, self._keepalive_task, self._presence_task, self._signal_task)
        for task in tasks:
            if task is not None:
                task.cancel()
        self._keepalive_task = self._presence_task = None

    async def _flush_until_stored(self) -> None:
        """Flush, retrying every :data:`RETRY_DELAY` seconds while the database fails."""
        while True:
            try:
                await self.flush()
                return
            except Exception:
                logger.exception("collab: storing document %r failed; retrying", self.key)
                await asyncio.sleep(RETRY_DELAY)

    async def _compact_locked(self) -> None:
        self._last_checkpoint = time.monotonic()
        try:
            await in_worker_thread(store.compact)(self.document_id)
        except Exception:
            logger.exception("collab: compacting document %r failed", self.key)

    def apply_remote_update(self, update: bytes) -> None:
        """Apply an update another process received; relay to local peers and store it.

        Every process stores what it applied, so an update survives the crash of the
        process that received it (the log tolerates duplicates; compaction merges them).

        Raises:
            UpdateRejected: pycrdt could not decode the update.
        """
        delta = self._apply(update)
        if delta is not None:
            self._accept(delta, exclude=None)

    def apply_remote_awareness(self, sender: str, payload: bytes) -> None:
        """Apply presence states another process relayed and pass them on to local peers.

        The states of client ids ``sender`` introduced are owned by ``sender``, so that
        :meth:`forget_remote_awareness` can remove them when it goes away.

        Args:
            sender: The layer channel of the other process's room.
            payload: The awareness update it relayed.

        Raises:
            ProtocolError: The payload is not a valid awareness update.
        """
        accepted = self.awareness.apply(sender, decode_awareness_update(payload).entries)
        if accepted is not None:
            self._broadcast(encode_awareness(accepted))

    def forget_remote_awareness(self, sender: str) -> None:
        """Remove the presence states of another process that went silent, for local peers."""
        removed = self.awareness.remove_owner(sender)
        if removed is not None:
            self._broadcast(encode_awareness(removed))

    async def set_server_presence(self, state: dict[str, Any] | None) -> None:
        """Set (or clear, with ``None``) the server's own presence state in this document.

        It is sent to every connection, here and in other processes, under the client id
        of the room's document, and renewed every ``KEEPALIVE_INTERVAL / 2`` seconds
        while the room has connections, so that stock clients do not drop it.
        """
        await self._relay_awareness(self.awareness.set_state(SERVER, self.doc.client_id, state))

    def whole_update(self) -> bytes:
        """The whole document encoded as one update (encoded once per change).

        Every new client asks for everything, so this is kept until the document changes.
        """
        if self._whole is None:
            self._whole = self.doc.get_update()
        return self._whole

    def missing_for(self, state_vector: bytes) -> bytes:
        """Encode what a peer with ``state_vector`` lacks (Yjs sync step 2 content).

        Raises:
            UpdateRejected: pycrdt could not decode the state vector.
        """
        if state_vector == EMPTY_STATE_VECTOR:
            return self.whole_update()
        try:
            return self.doc.get_update(state_vector)
        except ValueError as exc:
            raise UpdateRejected("state vector rejected by pycrdt") from exc

    def _receive_update(self, peer: Peer, update: bytes) -> None:
        if not peer.can_edit:
            if update != EMPTY_UPDATE:
                peer.send_frame(READ_ONLY_FRAME)
            return
        delta = self._apply(update)
        if delta is None:
            return
        self._accept(delta, exclude=peer)
        if peer.user_id is not None:
            self._authors.add(peer.user_id)
        self._changed_by.add(peer.user_id)
        if self._signal_task is None:
            self._signal_task = background(self._send_changed_later())
        if self.relay is not None:
            self.relay.publish_update(delta)

    def _accept(self, delta: bytes, exclude: Peer | None) -> None:
        """Fan an applied change out to local peers and queue it for storage."""
        self._broadcast(encode_update(delta), exclude=exclude)
        self._pending.append(delta)
        if self._flush_task is None:
            self._flush_task = background(self._flush_soon())

    def _apply(self, update: bytes) -> bytes | None:
        """Apply ``update`` and return what it changed, or None if it changed nothing."""
        self._delta = None
        try:
            self.doc.apply_update(update)
        except ValueError as exc:
            raise UpdateRejected("update rejected by pycrdt") from exc
        delta, self._delta = self._delta, None
        if delta is not None:
            self._whole = None
        return delta

    def _capture_delta(self, event: TransactionEvent) -> None:
        self._delta = event.update

    async def _receive_awareness(self, peer: Peer, message: AwarenessUpdate) -> None:
        """Apply the entries of presence states ``peer`` owns and relay them.

        A connection owns the client ids it introduced to the room; stock clients also
        echo other clients' states, which does not make those ids theirs (see
        :mod:`collab.awareness`).
        """
        accepted = self.awareness.apply(peer, message.entries, conf.MAX_AWARENESS_CLIENTS)
        await self._relay_awareness(accepted, exclude=peer)

    async def _relay_awareness(self, payload: bytes | None, exclude: Peer | None = None) -> None:
        """Send an accepted awareness update to local peers and other processes."""
        if payload is None:
            return
        self._broadcast(encode_awareness(payload), exclude=exclude)
        if self.relay is not None:
            await self.relay.publish_awareness(payload)

    def _awareness_frame(self) -> bytes:
        """An awareness frame with every presence state the room knows."""
        return encode_awareness(self.awareness.everything())

    def _broadcast(self, frame: bytes, exclude: Peer | None = None) -> None:
        for peer in self._peers:
            if peer is not exclude:
                peer.send_frame(frame)

    async def _flush_soon(self) -> None:
        """Write pending updates after the flush interval, until none are left."""
        try:
            while self._pending:
                await asyncio.sleep(conf.FLUSH_INTERVAL)
                await self._flush_until_stored()
        finally:
            self._flush_task = None

    async def _send_changed_later(self) -> None:
        try:
            await asyncio.sleep(conf.CHANGE_SIGNAL_DELAY)
            await self._send_changed()
        finally:
            self._signal_task = None

    async def _send_changed(self) -> None:
        """Send ``document_changed`` for the local edits collected so far."""
        users, self._changed_by = self._changed_by, set()
        if users:
            await in_worker_thread(signals.document_changed.send)(
                sender=Room, document_id=self.document_id, key=self.key, user_ids=users
            )

    async def _record_presence(self) -> None:
        """Keep this process's row of who is connected current while anyone is."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._presence_changed.wait(), conf.PRESENCE_REFRESH)
            self._presence_changed.clear()
            await asyncio.sleep(PRESENCE_DEBOUNCE)
            user_ids = [peer.user_id for peer in self._peers]
            try:
                await in_worker_thread(store.record_presence)(
                    self.document_id, PROCESS_ID, user_ids
                )
            except Exception:
                logger.exception("collab: recording presence on %r failed", self.key)

    async def _keep_alive(self) -> None:
        """Send silent connections a no-op frame so stock clients don't time out.

        The server's own presence state is renewed on the same beat.
        """
        while True:
            half = conf.KEEPALIVE_INTERVAL / 2
            await asyncio.sleep(half)
            await self._relay_awareness(self.awareness.renew(SERVER))
            for peer in list(self._peers):
                if peer.idle_for() >= half:
                    peer.send_frame(KEEPALIVE_FRAME)

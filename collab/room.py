"""One open document in this process: its pycrdt ``Doc``, awareness and connections.

The room is the only owner of a document's in-memory state. It applies each update
once, fans the encoded frame out to the other local connections, hands it to its
:class:`~collab.update_log.UpdateLog` to be stored, and to its :class:`Publisher` (the
process's relay, wired by :mod:`collab.registry`) for the other processes.

The path of one edit: a connection (:mod:`collab.consumers`) decodes a frame
(:mod:`collab.protocol`) and calls :meth:`Room.receive`; the room's
:class:`~collab.replica.Replica` checks and integrates the update; :meth:`Room._accept`
sends it to the other connections' outboxes, queues it in the update log (written
every ``FLUSH_INTERVAL`` seconds by :mod:`collab.store`) and publishes it through the
relay (:mod:`collab.relay`). Nothing on this path waits for the network or the database.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from typing import Any, Protocol, TypeVar

from pycrdt import Doc

from collab import store
from collab.aio import background, in_worker_thread
from collab.awareness import SERVER, AwarenessStates
from collab.change_signal import ChangeSignal
from collab.close_codes import CloseCode
from collab.conf import conf
from collab.exceptions import DocumentLoadError, ProtocolError, ReplicaBroken
from collab.protocol import (
    EMPTY_UPDATE,
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
    encode_sync_step2_frames,
    encode_update_frames,
)
from collab.replica import PartlyApplied, Replica
from collab.update_log import UpdateLog

logger = logging.getLogger(__name__)

P = TypeVar("P")

READ_ONLY_FRAME = encode_permission_denied("read-only: your changes are not saved or shared")
"""Sent to read-only connections on join and whenever one of their edits is dropped."""

STORAGE_FAILING: dict[str, Any] = {"collab": {"storage": "failing"}}
"""The server's presence state in a document while it cannot store that document's edits."""

PRESENCE_RELAY_INTERVAL = 0.05
"""Seconds between two relays of one connection's presence (changes in between are
sent together, as the states they led to)."""


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


class Publisher(Protocol):
    """Where a room sends what the document's rooms in other processes must learn."""

    def publish_update(self, update: bytes) -> None:
        """Queue an update a connection of this process made, without waiting."""

    def publish_awareness(self, payload: bytes) -> None:
        """Queue an awareness update accepted in this process, without waiting."""


class Room:
    """The live state of one document in this process."""

    def __init__(self, key: str, document_id: int) -> None:
        self.key = key
        self.document_id = document_id
        self.replica = Replica(max_depth=conf.MAX_DEPTH, max_pending_bytes=conf.MAX_PENDING_BYTES)
        self.awareness = AwarenessStates(key)
        self._peers: set[Peer] = set()
        self.log = UpdateLog(key, document_id, self._storage_failing, self._document_gone)
        """What the room applied and has not stored yet."""
        self._changes = ChangeSignal(key, document_id)
        self.presents = False
        """Whether the server has a presence state of its own here (renewed every beat)."""
        self.relay: Publisher | None = None
        """Link to this document's rooms in other processes, if the layer spans processes
        (set by :mod:`collab.registry`, which owns the relay)."""
        self._presence_relayed: dict[Peer, float] = {}
        """When each connection's presence was last relayed."""
        self._presence_due: dict[Peer, asyncio.Task[None]] = {}
        """Relays of presence that wait for their connection's interval to pass."""
        self._given_up = False
        self._giving_up: asyncio.Task[None] | None = None

    @property
    def doc(self) -> Doc[Any]:
        """The document as this process holds it (read it; change it only by updates)."""
        return self.replica.doc

    @property
    def peer_count(self) -> int:
        """How many connections are in the room."""
        return len(self._peers)

    def peers_of_type(self, kind: type[P]) -> list[P]:
        """The room's connections that are instances of ``kind``."""
        return [peer for peer in self._peers if isinstance(peer, kind)]

    @property
    def storage_failing(self) -> bool:
        """Whether the room's writes are failing (edits wait in memory and are retried)."""
        return self.log.failing

    def connected_users(self) -> list[int | None]:
        """The user ids (None: anonymous) of the room's connections."""
        return [peer.user_id for peer in self._peers]

    async def load(self) -> None:
        """Fill the document from storage.

        Raises:
            DocumentLoadError: Reading or decoding the stored state failed; the room
                must not be used, so an empty document never overwrites stored data.
        """
        try:
            updates = await in_worker_thread(store.load_updates)(self.document_id)
            self.replica.load(updates)
        except Exception as exc:
            raise DocumentLoadError(f"cannot load document {self.key!r}") from exc
        if self.replica.pending_bytes:
            logger.error(
                "collab: document %r has %d stored bytes waiting for updates it lacks",
                self.key,
                self.replica.pending_bytes,
            )

    def add_peer(self, peer: Peer) -> None:
        """Admit a connection and send it the server's sync step 1 and known presence."""
        self._peers.add(peer)
        peer.send_frame(encode_sync_step1(self.doc.get_state()))
        if self.awareness.state_count:
            peer.send_frame(self._awareness_frame())
        if not peer.can_edit:
            peer.send_frame(READ_ONLY_FRAME)

    def remove_peer(self, peer: Peer) -> None:
        """Drop a connection and tell the others its presence states are gone."""
        self._peers.discard(peer)
        self._presence_relayed.pop(peer, None)
        due = self._presence_due.pop(peer, None)
        if due is not None:
            due.cancel()
        self._relay_awareness(self.awareness.remove_owner(peer))
        self._claims_ended()

    async def close_peers(self, code: CloseCode) -> None:
        """Close every connection with ``code`` (the document is gone)."""
        for peer in list(self._peers):
            await peer.close_with(code)

    def abandon(self) -> None:
        """Stop everything without storing: the document no longer exists."""
        self.log.drop()
        self.replica.close()
        self._stop_background()

    def receive(self, peer: Peer, message: Message) -> bool:
        """Handle one decoded message from ``peer``.

        Returns:
            Whether it changed the document or the presence states. Echoes of what the
            room holds, empty updates, dropped edits of readers and requests do not:
            the connection's rate limit counts only changes.

        Raises:
            ProtocolError: The message is not one a client may send, or pycrdt rejected
                its content. Nothing was applied or relayed.
            ReplicaBroken: pycrdt panicked on the document; the other connections were
                closed with 4500 and the room is loaded anew on the next join.
        """
        try:
            if isinstance(message, SyncUpdate | SyncStep2):
                return self._receive_update(peer, message.update)
            if isinstance(message, AwarenessUpdate):
                return self._receive_awareness(peer, message)
            if isinstance(message, SyncStep1):
                missing = self.missing_for(message.state_vector)
                for frame in encode_sync_step2_frames(missing, conf.MAX_FRAME_BYTES):
                    peer.send_frame(frame)
            elif isinstance(message, QueryAwareness):
                peer.send_frame(self._awareness_frame())
            elif isinstance(message, PermissionDenied):
                raise ProtocolError("auth messages are sent by the server only")
        except ReplicaBroken:
            self._give_up_later(sender=peer)
            raise
        return False

    async def flush(self) -> None:
        """Store the pending updates now (see :meth:`UpdateLog.flush`).

        Raises:
            Exception: The database write failed; the updates stay pending.
        """
        await self.log.flush()

    def store_pending_now(self) -> None:
        """Store pending updates synchronously, when the process exits (no loop runs).

        Raises:
            Exception: The database still failed at the deadline.
        """
        self.log.store_pending_now()

    async def close(self) -> None:
        """Store everything and compact, retrying failed writes until they succeed.

        The registry stops the room's relay first, so nothing arrives meanwhile.
        """
        self._stop_background()
        await self._changes.send_now()
        await self.log.close()
        self.replica.close()

    def _stop_background(self) -> None:
        """Cancel the room's own tasks."""
        for due in self._presence_due.values():
            due.cancel()

    def _storage_failing(self, failing: bool) -> None:
        """Show the connections that edits cannot be stored (or can again)."""
        self.set_server_presence(STORAGE_FAILING if failing else None)

    async def _document_gone(self) -> None:
        """The document was deleted elsewhere (its edits are dropped): close the connections."""
        logger.warning(
            "collab: closing the %d connections of deleted document %r with %d",
            len(self._peers),
            self.key,
            CloseCode.DOCUMENT_DELETED,
        )
        await self.close_peers(CloseCode.DOCUMENT_DELETED)

    def apply_remote_update(self, update: bytes) -> None:
        """Apply an update another process received; relay to local peers and store it.

        Every process stores what it applied, so an update survives the crash of the
        process that received it (the log tolerates duplicates; compaction merges them).

        Raises:
            ProtocolError: The update is malformed or beyond collab's limits; what
                pycrdt integrated of it anyway was relayed and stored.
        """
        try:
            change = self.replica.integrate(update)
        except PartlyApplied as exc:
            if exc.delta is not None:
                self._accept(exc.delta, exclude=None)
            raise
        except ReplicaBroken:
            self._give_up_later(sender=None)
            raise
        if change.delta is not None:
            self._accept(change.delta, exclude=None)
        if change.released is not None:
            # Held updates it made ready: those of local connections are news elsewhere too.
            self._accept(change.released, exclude=None, publish=True)

    def _give_up_later(self, sender: Peer | None) -> None:
        """Close the connections but ``sender`` after a pycrdt panic, in a task of its own."""
        self._giving_up = background(self._give_up_document(sender))

    @property
    def broken(self) -> bool:
        """Whether pycrdt panicked on this room's document (the room must be replaced)."""
        return self.replica.broken

    async def _give_up_document(self, sender: Peer | None) -> None:
        """Close every connection but ``sender`` with 4500 after a pycrdt panic.

        The document in memory is not read again: the room stores what it had not
        stored yet (kept as encoded updates) when it unloads, and the next join loads
        the document anew from storage. Clients reconnect and send what it lacks.
        """
        if self._given_up:
            return
        self._given_up = True
        logger.error(
            "collab: pycrdt panicked on document %r; its %d connections are closed and it "
            "is loaded anew from storage",
            self.key,
            len(self._peers),
        )
        for peer in list(self._peers):
            if peer is not sender:
                await peer.close_with(CloseCode.SERVER_ERROR)

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
            self._claims_ended()

    def forget_remote_awareness(self, sender: str) -> None:
        """Remove the presence states of another process that went silent, for local peers."""
        removed = self.awareness.remove_owner(sender)
        if removed is not None:
            self._broadcast(encode_awareness(removed))
        self._claims_ended()

    def set_server_presence(self, state: dict[str, Any] | None) -> None:
        """Set (or clear, with ``None``) the server's own presence state in this document.

        It is sent to every connection, here and in other processes, under the client id
        of the room's document, and renewed on every keepalive beat (:mod:`collab.keepalive`)
        while the room has connections, so that stock clients do not drop it.
        """
        self.presents = state is not None
        self._relay_awareness(self.awareness.set_state(SERVER, self.doc.client_id, state))

    def state_vector(self) -> bytes:
        """The document's state vector (Yjs sync step 1 content)."""
        return self.doc.get_state()

    def whole_update(self) -> bytes:
        """The whole document encoded as one update (encoded once per change).

        Every new client asks for everything, so this is kept until the document changes.
        """
        return self.replica.whole_update()

    def missing_for(self, state_vector: bytes) -> bytes:
        """Encode what a peer with ``state_vector`` lacks (Yjs sync step 2 content).

        Raises:
            ProtocolError: The state vector is malformed or pycrdt could not decode it.
        """
        return self.replica.missing_for(state_vector)

    def _receive_update(self, peer: Peer, update: bytes) -> bool:
        """Integrate an update from ``peer``; return whether the document gained anything."""
        if not peer.can_edit:
            if update != EMPTY_UPDATE:
                peer.send_frame(READ_ONLY_FRAME)
            return False
        try:
            change = self.replica.integrate(
                update, functools.partial(self._owned_elsewhere, peer=peer)
            )
        except PartlyApplied as exc:
            if exc.delta is not None:
                self._accept_local(peer, exc.delta, exclude=None)
            raise
        if change.delta is not None:
            self._accept_local(peer, change.delta, exclude=peer)
        if change.released is not None:
            # Held updates of other senders: nobody has them yet, this sender included.
            self._accept(change.released, exclude=None, publish=True)
        return change.delta is not None or change.released is not None

    def _owned_elsewhere(self, client_id: int, *, peer: Peer) -> bool:
        """Whether another connection (here or in another process) claims ``client_id``."""
        return self.awareness.claimant_of(client_id) not in (None, peer)

    def _claims_ended(self) -> None:
        """Integrate the updates held for client ids whose claimant cleared its state or left.

        They came from connections of this process, so other processes get them too.
        """
        try:
            released = self.replica.release_unreserved()
        except ReplicaBroken:
            self._give_up_later(sender=None)
            return
        if released is not None:
            self._accept(released, exclude=None, publish=True)

    def _accept_local(self, peer: Peer, delta: bytes, exclude: Peer | None) -> None:
        """Fan out, store and relay a change that came from a connection of this process."""
        self._accept(delta, exclude=exclude, publish=True, author=peer.user_id)
        self._changes.changed_by(peer.user_id)

    def _accept(
        self,
        delta: bytes,
        exclude: Peer | None,
        *,
        publish: bool = False,
        author: int | None = None,
    ) -> None:
        """Fan an applied change out to local peers and queue it for storage.

        ``publish``: the change was made in this process, so other processes get it too.
        ``author``: the user who made it, if a connection of this process did.
        """
        for frame in encode_update_frames(delta, conf.MAX_FRAME_BYTES):
            self._broadcast(frame, exclude=exclude)
        if publish and self.relay is not None:
            self.relay.publish_update(delta)
        self.log.add(delta, author)

    def _receive_awareness(self, peer: Peer, message: AwarenessUpdate) -> bool:
        """Apply the entries of presence states ``peer`` owns and relay them.

        A connection owns the client ids it introduced to the room; stock clients also
        echo other clients' states, which does not make those ids theirs (see
        :mod:`collab.awareness`).

        Returns:
            Whether any entry was accepted (changed a state).
        """
        accepted = self.awareness.apply(peer, message.entries, conf.MAX_AWARENESS_CLIENTS)
        if accepted is None:
            return False
        self._claims_ended()
        if peer in self._presence_due:
            return True  # a relay of this connection's presence is due anyway
        now = time.monotonic()
        if now - self._presence_relayed.get(peer, 0.0) >= PRESENCE_RELAY_INTERVAL:
            self._presence_relayed[peer] = now
            self._relay_awareness(accepted, exclude=peer)
        else:
            self._presence_due[peer] = background(self._relay_presence_later(peer))
        return True

    async def _relay_presence_later(self, peer: Peer) -> None:
        """Relay ``peer``'s presence as it is once its relay interval has passed.

        Stock clients send back every presence change they receive, one frame each: a
        connection changing its presence at the rate limit would otherwise push every
        other stock client over it.
        """
        try:
            await asyncio.sleep(PRESENCE_RELAY_INTERVAL)
            if peer in self._peers:
                self._presence_relayed[peer] = time.monotonic()
                self._relay_awareness(self.awareness.states_of(peer), exclude=peer)
        finally:
            self._presence_due.pop(peer, None)

    def _relay_awareness(self, payload: bytes | None, exclude: Peer | None = None) -> None:
        """Send an accepted awareness update to local peers and other processes."""
        if payload is None:
            return
        self._broadcast(encode_awareness(payload), exclude=exclude)
        if self.relay is not None:
            self.relay.publish_awareness(payload)

    def _awareness_frame(self) -> bytes:
        """An awareness frame with every presence state the room knows."""
        return encode_awareness(self.awareness.everything())

    def _broadcast(self, frame: bytes, exclude: Peer | None = None) -> None:
        for peer in self._peers:
            if peer is not exclude:
                peer.send_frame(frame)

    def has_peer(self, peer: Peer) -> bool:
        """Whether ``peer`` is connected to this room."""
        return peer in self._peers

    def renew_server_presence(self) -> None:
        """Renew the server's own presence states (stock clients drop them after 30 s).

        The keepalive schedule (:mod:`collab.keepalive`) calls it on every beat for the
        rooms where the server :attr:`presents`; without connections it does nothing.
        """
        if not self._peers:
            return
        self._relay_awareness(self.awareness.renew(SERVER))

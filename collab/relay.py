"""Keeps one document consistent across server processes through the Channels layer.

Each open document has one relay per process, attached to that process's
:class:`~collab.relay_hub.RelayHub`, whose one layer channel is in the document's group:
an update costs one layer message per process, not per connection. Messages can be
lost (a full channel, a Redis outage), so every published update carries a per-sender
sequence number, and the hub's heartbeat carries the latest number of every document
that published since the previous one: a receiver that sees a gap, or hears from a
sender for the first time, runs the Yjs sync exchange (state vector in, missing updates
out, both ways) directly with that sender for that document.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from pycrdt import merge_updates

from collab.aio import OnDemand, background
from collab.close_codes import CloseCode
from collab.protocol import merge_awareness_updates
from collab.relay_hub import STOP_TIMEOUT, cross_process_layer, group_name

if TYPE_CHECKING:
    from collab.relay_hub import RelayHub


class RelayedRoom(Protocol):
    """What a relay needs of the room it links (a :class:`~collab.room.Room`)."""

    key: str

    def state_vector(self) -> bytes:
        """The document's state vector."""

    def missing_for(self, state_vector: bytes) -> bytes:
        """What a replica with ``state_vector`` lacks, as an update."""

    def apply_remote_update(self, update: bytes) -> None:
        """Apply an update another process relayed."""

    def apply_remote_awareness(self, sender: str, payload: bytes) -> None:
        """Apply presence states another process relayed."""

    def forget_remote_awareness(self, sender: str) -> None:
        """Remove the presence states ``sender`` relayed."""


class Relay:
    """Connects one room to the rooms of the same document in other processes.

    It is the room's :class:`~collab.room.Publisher`; :mod:`collab.registry` makes,
    starts and stops it.
    """

    def __init__(
        self,
        room: RelayedRoom,
        hub: RelayHub,
        on_close: Callable[[CloseCode], Coroutine[Any, Any, None]],
    ) -> None:
        self._room = room
        self._hub = hub
        self._on_close = on_close
        self._closing: asyncio.Task[None] | None = None
        self._outbox: list[bytes] = []
        self._sender = OnDemand(self._send_outbox)
        self._awareness: list[bytes] = []
        self._awareness_sender = OnDemand(self._send_awareness)
        self._announcing: asyncio.Task[None] | None = None
        self.key = room.key
        self.id = hub.new_relay_id()
        """Tells this relay from earlier ones of the same document in this process."""
        self.seq = 0
        """The number of the latest update this relay published."""
        self._seen: dict[str, tuple[int, int]] = {}
        """Per sender: the relay id it last used for this document, and its latest number."""
        self.messages_received = 0
        """Layer messages this room received from other processes (for tests and stats)."""

    async def start(self) -> None:
        """Attach to the hub, then announce this room to the other processes.

        If the layer is unreachable, the hub keeps retrying, so a Redis outage never
        keeps a process from serving its own clients.
        """
        await self._hub.attach(self)
        self._announcing = background(self._group_send({"type": "collab.heartbeat"}))

    async def stop(self) -> None:
        """Tell the other processes this room is gone and detach from the hub.

        Waits at most :data:`~collab.relay_hub.STOP_TIMEOUT` for a message on its way.
        """
        tasks = (self._sender.task, self._awareness_sender.task, self._announcing)
        pending = [task for task in tasks if task is not None]
        if pending:
            await asyncio.wait(pending, timeout=STOP_TIMEOUT)
        leaving = background(self._group_send({"type": "collab.left"}))
        await asyncio.wait([leaving], timeout=STOP_TIMEOUT)
        await self._hub.detach(self)

    def publish_update(self, update: bytes) -> None:
        """Queue an update this process applied for the other processes.

        Updates queued while the previous layer message is on its way to Redis leave
        together, merged into one message, and the frame that caused them never waits
        for Redis.
        """
        self._outbox.append(update)
        self._sender.start()

    async def _send_outbox(self) -> None:
        while self._outbox:
            batch, self._outbox = self._outbox, []
            self.seq += 1
            update = batch[0] if len(batch) == 1 else merge_updates(*batch)
            await self._group_send({"type": "collab.update", "update": update})
            self._hub.changed(self)  # the next heartbeat reveals it if it was lost

    def publish_awareness(self, payload: bytes) -> None:
        """Queue an awareness update for the other processes.

        Updates queued while the previous message is on its way leave together, as the
        latest entry of each client id. Each message carries the latest sequence number,
        as a heartbeat does: a receiver that never heard from this room before learns
        of it from its first state.
        """
        self._awareness.append(payload)
        self._awareness_sender.start()

    async def _send_awareness(self) -> None:
        while self._awareness:
            batch, self._awareness = self._awareness, []
            payload = batch[0] if len(batch) == 1 else merge_awareness_updates(batch)
            await self._group_send({"type": "collab.awareness", "payload": payload})

    async def _group_send(self, message: dict[str, Any]) -> None:
        await self._hub.group_send(self.key, {**message, **self._signature()})

    async def _send(self, channel: str, message: dict[str, Any]) -> None:
        await self._hub.send(channel, {**message, **self._signature()})

    def _signature(self) -> dict[str, Any]:
        return {"key": self.key, "room": self.id, "seq": self.seq}

    def forget(self, sender: str) -> None:
        """Forget a sender that went silent or left, and the presence states it relayed."""
        self._seen.pop(sender, None)
        self._room.forget_remote_awareness(sender)

    async def handle(self, sender: str, message: dict[str, Any]) -> None:
        """Apply a message another process sent about this room's document."""
        self.messages_received += 1
        kind = message["type"]
        if kind == "collab.update":
            await self.check_sequence(sender, message["room"], message["seq"], is_update=True)
            self._room.apply_remote_update(message["update"])
        elif kind == "collab.heartbeat":
            await self.check_sequence(sender, message["room"], message["seq"], is_update=False)
        elif kind == "collab.awareness":
            if sender not in self._seen:
                await self.check_sequence(sender, message["room"], message["seq"], is_update=False)
            self._room.apply_remote_awareness(sender, message["payload"])
        elif kind == "collab.sync":
            missing = self._room.missing_for(message["state"])
            await self._send(sender, {"type": "collab.missing", "update": missing})
            if message["reply"]:
                await self._send_sync(sender, reply=False)
        elif kind == "collab.missing":
            self._room.apply_remote_update(message["update"])
            self._record(sender, message["room"], message["seq"])
        elif kind == "collab.left":
            self.forget(sender)
        elif kind == "collab.close":
            self._closing = background(self._on_close(CloseCode(message["code"])))

    async def check_sequence(
        self, sender: str, relay_id: int, seq: int, *, is_update: bool
    ) -> None:
        """Track ``sender``'s sequence; sync with it on first contact or after a loss.

        An update must carry the number after the last one seen; a heartbeat carries
        the sender's latest number, which reveals lost trailing updates. A relay id not
        seen before is a new room of that process: first contact again.
        """
        last = self._record(sender, relay_id, seq)
        if last is None or seq > last + (1 if is_update else 0):
            await self._send_sync(sender, reply=True)

    def _record(self, sender: str, relay_id: int, seq: int) -> int | None:
        """Note ``sender``'s latest number ``seq``; return the one known before, if any.

        ``None`` when ``relay_id`` is new: the sender's room of this document is.
        """
        known = self._seen.get(sender)
        last = known[1] if known is not None and known[0] == relay_id else None
        self._seen[sender] = (relay_id, seq if last is None else max(seq, last))
        return last

    async def _send_sync(self, channel: str, *, reply: bool) -> None:
        state = self._room.state_vector()
        await self._send(channel, {"type": "collab.sync", "state": state, "reply": reply})


async def announce_deleted(key: str) -> None:
    """Tell the rooms of document ``key`` in other processes to close their connections."""
    layer = cross_process_layer()
    if layer is not None:
        code = int(CloseCode.DOCUMENT_DELETED)
        message = {"type": "collab.close", "from": "", "key": key, "code": code}
        await layer.group_send(group_name(key), message)

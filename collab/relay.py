"""Keeps one document consistent across server processes through the Channels layer.

Each process's room joins the document's group once, so an update costs one layer
message per process, not per connection. Messages can be lost (a full channel, a
Redis outage), so every published update carries a per-sender sequence number and
every room sends a heartbeat with its latest number: a receiver that sees a gap, or
hears from a sender for the first time, runs the Yjs sync exchange (state vector in,
missing updates out, both ways) directly with that sender.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from pycrdt import merge_updates

from collab.close_codes import CloseCode
from collab.conf import conf
from collab.tasks import background

if TYPE_CHECKING:
    from channels.layers import BaseChannelLayer

    from collab.room import Room

logger = logging.getLogger(__name__)

RETRY_DELAY = 1.0
"""Seconds between attempts to reach a channel layer that failed."""

STOP_TIMEOUT = 1.0
"""Seconds a stopping relay waits for its tasks and for leaving the group."""

FORGET_SENDER_AFTER = 10
"""Heartbeat intervals of silence after which a sender (a process) counts as gone."""


def group_name(key: str) -> str:
    """The channel-layer group of document ``key`` (layer names allow no arbitrary text)."""
    return "collab." + hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


class Relay:
    """Connects one room to the rooms of the same document in other processes."""

    def __init__(
        self,
        room: Room,
        layer: BaseChannelLayer,
        on_close: Callable[[CloseCode], Coroutine[Any, Any, None]],
    ) -> None:
        self._room = room
        self._layer = layer
        self._on_close = on_close
        self._closing: asyncio.Task[None] | None = None
        self._outbox: list[bytes] = []
        self._sending: asyncio.Task[None] | None = None
        self._group = group_name(room.key)
        self.channel = ""
        self._seq = 0
        self._seen: dict[str, tuple[int, float]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = False
        self.messages_received = 0
        """Layer messages this room received from other processes (for tests and stats)."""

    async def start(self) -> None:
        """Open this room's layer channel, then listen and send heartbeats in the background.

        If the layer is unreachable, the background task keeps retrying, so a Redis
        outage never keeps a process from serving its own clients.
        """
        await self._open_channel()
        self._tasks = [background(self._run())]

    async def _open_channel(self) -> bool:
        """Try to get this room's layer channel; log and return False if the layer fails."""
        try:
            self.channel = await asyncio.wait_for(self._layer.new_channel(), STOP_TIMEOUT)
        except Exception as exc:
            logger.warning("collab: creating a layer channel failed: %r", exc)
            return False
        return True

    async def _run(self) -> None:
        while not self.channel and not self._stopped:
            if not await self._open_channel():
                await asyncio.sleep(RETRY_DELAY)
        if self._stopped:
            return
        self._tasks.append(background(self._receive_forever()))
        await self._heartbeat_forever()

    async def stop(self) -> None:
        """Stop listening and leave the group, waiting at most :data:`STOP_TIMEOUT`.

        A Redis command interrupted by cancellation can take long to unwind; the room
        unloads regardless (a late message only reaches a relay nobody reads). A layer
        call can also turn the cancellation into another error (a Redis timeout), so the
        loops check :attr:`_stopped` too rather than retry for ever, keeping the room alive.
        """
        self._stopped = True
        if self._sending is not None:
            await asyncio.wait([self._sending], timeout=STOP_TIMEOUT)
        for task in self._tasks:
            task.cancel()
        await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT)
        if self.channel:
            try:
                await asyncio.wait_for(
                    self._layer.group_discard(self._group, self.channel), STOP_TIMEOUT
                )
            except Exception as exc:
                logger.warning("collab: leaving the group of %r failed: %r", self._room.key, exc)

    def publish_update(self, update: bytes) -> None:
        """Queue an update this process applied for the other processes.

        Updates queued while the previous layer message is on its way to Redis leave
        together, merged into one message, and the frame that caused them never waits
        for Redis.
        """
        self._outbox.append(update)
        if self._sending is None:
            self._sending = background(self._send_outbox())

    async def _send_outbox(self) -> None:
        try:
            while self._outbox:
                batch, self._outbox = self._outbox, []
                self._seq += 1
                update = batch[0] if len(batch) == 1 else merge_updates(*batch)
                await self._group_send(
                    {"type": "collab.update", "seq": self._seq, "update": update}
                )
        finally:
            self._sending = None

    async def publish_awareness(self, payload: bytes) -> None:
        """Send an awareness update to the other processes.

        It carries the latest sequence number, as a heartbeat does: a receiver that
        never heard from this room before learns of it from its first state, so even a
        room that dies before its first heartbeat leaves no presence behind.
        """
        await self._group_send({"type": "collab.awareness", "seq": self._seq, "payload": payload})

    async def _group_send(self, message: dict[str, Any]) -> None:
        if not self.channel:
            return
        try:
            await self._layer.group_send(self._group, {**message, "from": self.channel})
        except Exception as exc:
            logger.warning("collab: publishing to other processes failed: %r", exc)

    async def _send(self, channel: str, message: dict[str, Any]) -> None:
        try:
            await self._layer.send(channel, {**message, "from": self.channel})
        except Exception as exc:
            logger.warning("collab: sending to process %s failed: %r", channel, exc)

    async def _heartbeat_forever(self) -> None:
        while not self._stopped:
            try:
                await self._layer.group_add(self._group, self.channel)
            except Exception as exc:
                logger.warning("collab: joining the layer group failed: %r", exc)
                await asyncio.sleep(RETRY_DELAY)
                continue
            await self._group_send({"type": "collab.heartbeat", "seq": self._seq})
            self._forget_silent_senders()
            await asyncio.sleep(conf.REPAIR_INTERVAL)

    def _forget_silent_senders(self) -> None:
        """Forget senders not heard for a while, and the presence states they relayed."""
        cutoff = time.monotonic() - FORGET_SENDER_AFTER * conf.REPAIR_INTERVAL
        for sender in [s for s, (_, heard) in self._seen.items() if heard < cutoff]:
            del self._seen[sender]
            self._room.forget_remote_awareness(sender)

    async def _receive_forever(self) -> None:
        while not self._stopped:
            try:
                message = await self._layer.receive(self.channel)
            except Exception as exc:
                logger.warning("collab: receiving from the channel layer failed: %r", exc)
                await asyncio.sleep(RETRY_DELAY)
                continue
            sender = message.get("from")
            if sender == self.channel or not isinstance(sender, str):
                continue
            self.messages_received += 1
            try:
                await self._handle(sender, message)
            except Exception:
                logger.exception("collab: a message from process %s was not applied", sender)

    async def _handle(self, sender: str, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "collab.update":
            await self._check_sequence(sender, message["seq"], is_update=True)
            self._room.apply_remote_update(message["update"])
        elif kind == "collab.heartbeat":
            await self._check_sequence(sender, message["seq"], is_update=False)
        elif kind == "collab.awareness":
            if sender not in self._seen:
                await self._check_sequence(sender, message.get("seq", 0), is_update=False)
            self._room.apply_remote_awareness(sender, message["payload"])
        elif kind == "collab.sync":
            missing = self._room.missing_for(message["state"])
            await self._send(sender, {"type": "collab.missing", "update": missing})
            if message["reply"]:
                await self._send_sync(sender, reply=False)
        elif kind == "collab.missing":
            self._room.apply_remote_update(message["update"])
        elif kind == "collab.close":
            self._closing = background(self._on_close(CloseCode(message["code"])))

    async def _check_sequence(self, sender: str, seq: int, *, is_update: bool) -> None:
        """Track ``sender``'s sequence; sync with it on first contact or after a loss.

        An update must carry the number after the last one seen; a heartbeat carries
        the sender's latest number, which reveals lost trailing updates.
        """
        last = self._seen.get(sender)
        self._seen[sender] = (seq if last is None else max(seq, last[0]), time.monotonic())
        if last is None:
            lost = True
        elif is_update:
            lost = seq > last[0] + 1
        else:
            lost = seq > last[0]
        if lost:
            await self._send_sync(sender, reply=True)

    async def _send_sync(self, channel: str, *, reply: bool) -> None:
        state = self._room.doc.get_state()
        await self._send(channel, {"type": "collab.sync", "state": state, "reply": reply})


def cross_process_layer() -> BaseChannelLayer | None:
    """The configured channel layer, unless it cannot reach other processes."""
    from channels.layers import InMemoryChannelLayer, get_channel_layer

    layer = get_channel_layer(conf.CHANNEL_LAYER)
    if layer is None or isinstance(layer, InMemoryChannelLayer):
        return None
    return layer


async def connect_relay(
    room: Room, on_close: Callable[[CloseCode], Coroutine[Any, Any, None]]
) -> None:
    """Link ``room`` to the other processes if the configured layer spans processes.

    The in-memory layer lives inside one process, so rooms then have no relay.
    ``on_close`` runs when another process announces that the document was deleted.
    """
    layer = cross_process_layer()
    if layer is None:
        return
    room.relay = Relay(room, layer, on_close)
    await room.relay.start()


async def announce_deleted(key: str) -> None:
    """Tell the rooms of document ``key`` in other processes to close their connections."""
    layer = cross_process_layer()
    if layer is not None:
        message = {"type": "collab.close", "from": "", "code": int(CloseCode.DOCUMENT_DELETED)}
        await layer.group_send(group_name(key), message)

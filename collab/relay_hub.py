"""One process's link to the other processes: one layer channel, one reader, one heartbeat.

Every open document's :class:`~collab.relay.Relay` attaches to its process's hub. The
hub's one channel joins the group of each open document, so a process receives only the
documents it has open, and one loop reads every message and hands it to the relay of
the document it names. Once per ``REPAIR_INTERVAL`` the hub sends one heartbeat to every
process: its number, and the latest sequence number of each document that published
since the previous heartbeat. An idle process therefore costs one layer message per
interval, however many documents it has open.

A receiver that misses a heartbeat (the numbers skip) or hears from a process for the
first time asks that process for the numbers of the documents it has open itself, so a
loss during a Redis outage is found too. A hub that does not receive its own heartbeat
back joins its groups again: the layer lost them (Redis restarted empty, or the core
layer's group expiry passed).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import time
from typing import TYPE_CHECKING, Any

from collab.aio import background, cancelling
from collab.conf import conf

if TYPE_CHECKING:
    from channels.layers import BaseChannelLayer

    from collab.relay import Relay

logger = logging.getLogger(__name__)

RETRY_DELAY = 1.0
"""Seconds between attempts to reach a channel layer that failed."""

STOP_TIMEOUT = 1.0
"""Seconds a stopping hub or relay waits for its tasks and for leaving a group."""

FORGET_SENDER_AFTER = 10
"""Heartbeat intervals of silence after which a sender (a process) counts as gone."""

PROCESSES_GROUP = "collab.processes"
"""The layer group of every process's hub: heartbeats go there."""

JOIN_BATCH = 100
"""Groups joined at once when a hub joins all of its groups again."""


def group_name(key: str) -> str:
    """The channel-layer group of document ``key`` (layer names allow no arbitrary text)."""
    return "collab." + hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def cross_process_layer() -> BaseChannelLayer | None:
    """The configured channel layer, unless it cannot reach other processes."""
    from channels.layers import InMemoryChannelLayer, get_channel_layer

    layer = get_channel_layer(conf.CHANNEL_LAYER)
    if layer is None or isinstance(layer, InMemoryChannelLayer):
        return None
    return layer


class RelayHub:
    """The layer channel, reader and heartbeat shared by the relays of one process.

    It starts with the first relay that attaches and stops when the last one detaches.
    """

    def __init__(self, layer: BaseChannelLayer) -> None:
        self.layer = layer
        self.channel = ""
        """This process's layer channel: the sender of everything its relays send."""
        self._opened = asyncio.Event()
        self._relays: dict[str, Relay] = {}
        self._changed: set[Relay] = set()
        self._ids = itertools.count(1)
        self._beat = 0
        self._echoed = True
        self._rejoin = True
        self._heard: dict[str, float] = {}
        self._beats_heard: dict[str, int] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.stopped = False

    def new_relay_id(self) -> int:
        """A number telling this process's relays apart, even of one document over time."""
        return next(self._ids)

    async def attach(self, relay: Relay) -> None:
        """Receive ``relay``'s document from now on, starting the hub if needed.

        The relay's number goes out with the next heartbeat, so other processes with the
        document open sync with it even if its own announcement is lost.
        """
        self._relays[relay.key] = relay
        self._changed.add(relay)
        if not self._tasks:
            self._tasks = [background(self._run())]
        if not self.channel:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._opened.wait(), STOP_TIMEOUT)
        if self.channel:
            await self._join(group_name(relay.key))

    async def detach(self, relay: Relay) -> None:
        """Stop receiving ``relay``'s document; stop the hub if it was the last one."""
        self._changed.discard(relay)
        if self._relays.get(relay.key) is not relay:
            return  # a newer relay of the document took over its group
        del self._relays[relay.key]
        if self.channel:
            await self._leave(group_name(relay.key))
        if not self._relays:
            await self.stop()

    def changed(self, relay: Relay) -> None:
        """Put ``relay``'s latest sequence number into the next heartbeat.

        Not for a relay already detached (its last update went out as its room closed):
        the hub would keep it, and its room, alive.
        """
        if self._relays.get(relay.key) is relay:
            self._changed.add(relay)

    async def stop(self) -> None:
        """Stop reading and sending heartbeats, waiting at most :data:`STOP_TIMEOUT`.

        A Redis command interrupted by cancellation can take long to unwind; the process
        goes on regardless (a late message only reaches a channel nobody reads). A layer
        call can also turn the cancellation into another error (a Redis timeout), so the
        loops check :attr:`stopped` too rather than retry for ever.
        """
        self.stopped = True
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT)
        if self.channel:
            await self._leave(PROCESSES_GROUP)

    async def group_send(self, key: str, message: dict[str, Any]) -> None:
        """Send ``message`` to the processes that have document ``key`` open; log failures."""
        if not self.channel:
            return
        try:
            await self.layer.group_send(group_name(key), {**message, "from": self.channel})
        except Exception as exc:
            logger.warning("collab: publishing to other processes failed: %r", exc)

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        """Send ``message`` to the process whose hub listens on ``channel``; log failures."""
        try:
            await self.layer.send(channel, {**message, "from": self.channel})
        except Exception as exc:
            logger.warning("collab: sending to process %s failed: %r", channel, exc)

    async def _open_channel(self) -> bool:
        """Try to get this process's layer channel; log and return False if the layer fails."""
        try:
            self.channel = await asyncio.wait_for(self.layer.new_channel(), STOP_TIMEOUT)
        except Exception as exc:
            logger.warning("collab: creating a layer channel failed: %r", exc)
            return False
        self._opened.set()
        return True

    async def _run(self) -> None:
        while not self.channel and not self.stopped and not cancelling():
            if not await self._open_channel():
                await asyncio.sleep(RETRY_DELAY)
        if self.stopped or cancelling():
            return
        self._tasks.append(background(self._receive_forever()))
        await self._heartbeat_forever()

    async def _join(self, group: str) -> None:
        try:
            await asyncio.wait_for(self.layer.group_add(group, self.channel), STOP_TIMEOUT)
        except Exception as exc:
            logger.warning("collab: joining the layer group failed: %r", exc)
            self._rejoin = True

    async def _leave(self, group: str) -> None:
        try:
            await asyncio.wait_for(self.layer.group_discard(group, self.channel), STOP_TIMEOUT)
        except Exception as exc:
            logger.warning("collab: leaving a layer group failed: %r", exc)

    async def _join_all(self) -> None:
        """Join the processes' group, then the group of every open document."""
        self._rejoin = False
        await self._join(PROCESSES_GROUP)
        if self._rejoin:
            return  # the layer is unreachable: try again with the next heartbeat
        groups = [group_name(key) for key in self._relays]
        for start in range(0, len(groups), JOIN_BATCH):
            await asyncio.gather(*(self._join(g) for g in groups[start : start + JOIN_BATCH]))

    async def _heartbeat_forever(self) -> None:
        while not self.stopped:
            if self._rejoin or not self._echoed:
                await self._join_all()
            await self._send_heartbeat()
            self._forget_silent_senders()
            if self.stopped or cancelling():
                return  # the layer turned the cancellation into another error
            await asyncio.sleep(conf.REPAIR_INTERVAL)

    async def _send_heartbeat(self) -> None:
        """Send the next heartbeat; the relays it names are not held once it went out.

        (A relay held across the heartbeat's sleep would keep its closed room alive.)
        """
        self._beat += 1
        self._echoed = False
        changed, self._changed = self._changed, set()
        entries = [[relay.key, relay.id, relay.seq] for relay in changed]
        message = {"type": "collab.beat", "n": self._beat, "changed": entries}
        try:
            await self.layer.group_send(PROCESSES_GROUP, {**message, "from": self.channel})
        except Exception as exc:
            logger.warning("collab: sending the heartbeat failed: %r", exc)
            self._changed |= {relay for relay in changed if self._relays.get(relay.key) is relay}

    def _forget_silent_senders(self) -> None:
        """Forget processes not heard for a while, and the presence states they relayed."""
        cutoff = time.monotonic() - FORGET_SENDER_AFTER * conf.REPAIR_INTERVAL
        for sender in [s for s, heard in self._heard.items() if heard < cutoff]:
            del self._heard[sender]
            self._beats_heard.pop(sender, None)
            for relay in list(self._relays.values()):
                relay.forget(sender)

    async def _receive_forever(self) -> None:
        while not self.stopped:
            try:
                message = await self.layer.receive(self.channel)
            except Exception as exc:
                if self.stopped or cancelling():
                    return  # the layer turned the cancellation into another error
                logger.warning("collab: receiving from the channel layer failed: %r", exc)
                await asyncio.sleep(RETRY_DELAY)
                continue
            sender = message.get("from")
            if not isinstance(sender, str):
                continue
            try:
                await self._dispatch(sender, message)
            except Exception:
                logger.exception("collab: a message from process %s was not applied", sender)

    async def _dispatch(self, sender: str, message: dict[str, Any]) -> None:
        """Handle a message for the whole process, or hand it to its document's relay."""
        kind = message["type"]
        if sender == self.channel:
            self._echoed = self._echoed or (kind == "collab.beat" and message["n"] == self._beat)
            return
        if sender:
            self._heard[sender] = time.monotonic()
        if kind == "collab.beat":
            last = self._beats_heard.get(sender)
            self._beats_heard[sender] = message["n"]
            if last is None or message["n"] != last + 1:
                await self.send(sender, {"type": "collab.ask", "keys": list(self._relays)})
            await self._check_numbers(sender, message["changed"])
        elif kind == "collab.ask":
            relays = [self._relays.get(key) for key in message["keys"]]
            entries = [[r.key, r.id, r.seq] for r in relays if r is not None]
            await self.send(sender, {"type": "collab.numbers", "changed": entries})
        elif kind == "collab.numbers":
            await self._check_numbers(sender, message["changed"])
        else:
            relay = self._relays.get(message.get("key", ""))
            if relay is not None:
                await relay.handle(sender, message)

    async def _check_numbers(self, sender: str, entries: list[list[Any]]) -> None:
        """Let each open document check ``sender``'s latest number for it."""
        for key, relay_id, seq in entries:
            relay = self._relays.get(key)
            if relay is not None:
                await relay.check_sequence(sender, relay_id, seq, is_update=False)

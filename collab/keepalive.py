"""Keepalive frames for silent connections, from one task per process.

Stock clients close a socket that received nothing for 30 seconds, so a connection that
was sent nothing for almost ``KEEPALIVE_INTERVAL`` gets a no-op frame. The schedule
knows when each connection may next be due (when it was last sent something, plus the
silence allowed) and looks at that connection then, and at no other: an idle process
pays per frame it must send, not per open document on every beat.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
import weakref
from typing import TYPE_CHECKING

from collab.conf import conf
from collab.protocol import KEEPALIVE_FRAME

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from collab.room import Peer, Room

KEEPALIVE_BEATS = 8
"""Checks for due connections per ``KEEPALIVE_INTERVAL``.

A connection gets a frame once it was sent nothing for all but one beat of the interval,
so none waits longer than the interval (below the clients' 30 seconds), and an idle one
gets about one frame per interval.
"""

KEEPALIVE_BATCH = 100
"""Keepalive frames queued before the beat yields to the loop, which sends them.

Frames queued by the thousand (one per idle connection) outlived young garbage
collections: their tasks and messages reached the oldest generation, and an idle
process with 10,000 open documents ran a full collection about every minute.
"""


class KeepaliveSchedule:
    """When each connection of each room may next need a keepalive frame."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, weakref.ref[Room], weakref.ref[Peer]]] = []
        """Weak references: a room unloaded or a connection gone is freed at once."""
        self._order = itertools.count()
        """Breaks ties between equal times (references do not compare)."""

    def watch(self, room: Room, peer: Peer) -> None:
        """Look after ``peer``, which just joined ``room``, until it leaves."""
        self._at(time.monotonic() + _allowed_silence() - peer.idle_for(), room, peer)

    def _at(self, when: float, room: Room, peer: Peer) -> None:
        entry = (when, next(self._order), weakref.ref(room), weakref.ref(peer))
        heapq.heappush(self._due, entry)

    async def run(self, rooms: Callable[[], Iterable[Room]]) -> None:
        """Every beat, renew the server's presence in ``rooms()`` and send what is due."""
        while True:
            await asyncio.sleep(conf.KEEPALIVE_INTERVAL / KEEPALIVE_BEATS)
            for room in [room for room in rooms() if room.presents]:
                room.renew_server_presence()
            await self.beat()

    async def beat(self) -> int:
        """Send a keepalive frame to each due connection; return how many were sent.

        A connection that was sent something meanwhile is looked at again when it may
        be due. One that left its room is forgotten.
        """
        silence = _allowed_silence()
        now = time.monotonic()
        sent = queued = 0
        while self._due and self._due[0][0] <= now:
            _, _, room_ref, peer_ref = heapq.heappop(self._due)
            room, peer = room_ref(), peer_ref()
            if room is None or peer is None or not room.has_peer(peer):
                continue
            idle = peer.idle_for()
            if idle >= silence:
                peer.send_frame(KEEPALIVE_FRAME)
                idle = 0.0
                sent += 1
                queued += 1
            self._at(now + silence - idle, room, peer)
            if queued >= KEEPALIVE_BATCH:
                queued = 0
                await asyncio.sleep(0)
                now = time.monotonic()
        return sent


def _allowed_silence() -> float:
    """Seconds a connection may go without a frame before the next beat sends it one."""
    return conf.KEEPALIVE_INTERVAL * (KEEPALIVE_BEATS - 1) / KEEPALIVE_BEATS

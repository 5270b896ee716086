"""The rooms open in this process: one per document, loaded once, unloaded after a grace period."""

from __future__ import annotations

import asyncio
import atexit
import logging
import multiprocessing
import multiprocessing.util
from collections.abc import Callable
from functools import partial
from weakref import WeakKeyDictionary

from collab import presence, recent
from collab.aio import background, in_worker_thread
from collab.close_codes import CloseCode
from collab.conf import conf
from collab.keepalive import KeepaliveSchedule
from collab.presence import PROCESS_ID, presence_rows
from collab.relay import Relay, announce_deleted
from collab.relay_hub import RelayHub, cross_process_layer
from collab.room import Peer, Room

logger = logging.getLogger(__name__)


class RoomRegistry:
    """Hands out the single :class:`Room` of each open document on one event loop."""

    def __init__(self) -> None:
        self._rooms: dict[str, Room] = {}
        self._loads: dict[str, asyncio.Task[None]] = {}
        self._unload_timers: dict[str, asyncio.Task[None]] = {}
        self._unloading: dict[str, asyncio.Task[None]] = {}
        self._closing: dict[str, Room] = {}
        self._hub: RelayHub | None = None
        self._process_tasks: list[asyncio.Task[None]] = []
        """Work for all rooms at once (keepalive, presence refresh), while any is open."""
        self._keepalive = KeepaliveSchedule()
        self._relays: dict[Room, Relay] = {}
        """The link of each room to the other processes (while the layer spans them)."""

    def open_rooms(self) -> list[Room]:
        """Every room this registry holds, loaded, loading or unloading."""
        return [*self._rooms.values(), *self._closing.values()]

    def get(self, key: str) -> Room | None:
        """Return the loaded room of document ``key``, if it is open in this process."""
        room = self._rooms.get(key)
        return room if room is not None and key not in self._loads else None

    async def join(self, key: str, document_id: int, peer: Peer, *, new: bool = False) -> Room:
        """Add ``peer`` to the room of ``key``, loading the document first if needed.

        Concurrent joins share one load; nobody is admitted before it finished. The
        room of a ``new`` document (its handshake just created it, and nothing was
        stored for it) starts empty without reading the store: in a reconnect storm of
        new documents those reads, each a write-locking transaction on SQLite, made
        every handshake wait. An edit another process made meanwhile reaches the room
        through its relay's first exchange with that process.

        Raises:
            DocumentLoadError: The document could not be loaded.
        """
        self._cancel_unload_timer(key)
        room = self._rooms.get(key)
        if room is not None and room.broken:
            self._start_unload(room)  # it stores what it holds; a fresh room loads after
            room = None
        if room is None:
            room = self._rooms[key] = Room(key, document_id)
            self._loads[key] = background(self._load(room, stored=not new))
            if not self._process_tasks:
                self._process_tasks = [
                    background(self._keepalive.run(self._rooms.values)),
                    background(self._refresh_presence()),
                ]
        load = self._loads.get(key)
        if load is not None:
            await asyncio.shield(load)
        room.add_peer(peer)
        self._keepalive.watch(room, peer)
        presence_rows.get().changed(room.document_id, room.connected_users)
        return room

    async def leave(self, room: Room, peer: Peer) -> None:
        """Remove ``peer``; the last one out starts the grace period before unloading."""
        room.remove_peer(peer)
        presence_rows.get().changed(room.document_id, room.connected_users)
        if room.peer_count == 0 and self._rooms.get(room.key) is room:
            self._unload_timers[room.key] = background(self._unload_later(room))
            try:
                await room.flush()
            except Exception:
                logger.exception("collab: storing document %r failed; will retry", room.key)

    async def close_all(self) -> None:
        """Store and unload every room now (server shutdown); the rooms' peers stay open."""
        for timer in self._unload_timers.values():
            timer.cancel()
        self._unload_timers.clear()
        rooms = list(self._rooms.values())
        self._rooms.clear()
        await asyncio.gather(*self._loads.values(), return_exceptions=True)
        await asyncio.gather(*(self._close(room) for room in rooms), *self._unloading.values())
        self._stop_process_tasks_if_empty()

    async def discard(self, key: str, code: CloseCode) -> None:
        """Close every connection to ``key`` with ``code`` and drop its room unsaved.

        For a document that was deleted: nothing is left to store it in.
        """
        recent.documents.forget(key)
        self._cancel_unload_timer(key)
        room = self._rooms.pop(key, None)
        if room is not None:
            await room.close_peers(code)
            room.abandon()
            await self._disconnect_relay(room)
            self._stop_process_tasks_if_empty()

    async def unload_now(self, key: str) -> None:
        """Store and unload the room of ``key`` at once if nobody is connected to it.

        For rooms opened by a server-side edit, which may run on an event loop that
        ends right afterwards (a management command, the shell).
        """
        room = self._rooms.get(key)
        if room is None or room.peer_count or key in self._loads:
            return
        self._cancel_unload_timer(key)
        await self._start_unload(room)

    def _cancel_unload_timer(self, key: str) -> None:
        timer = self._unload_timers.pop(key, None)
        if timer is not None:
            timer.cancel()

    def _start_unload(self, room: Room) -> asyncio.Task[None]:
        """Take ``room`` out of service and store and close it in the background."""
        del self._rooms[room.key]
        self._closing[room.key] = room
        task = self._unloading[room.key] = background(self._unload(room))
        return task

    async def _load(self, room: Room, *, stored: bool) -> None:
        try:
            unloading = self._unloading.get(room.key)
            if unloading is not None:
                await asyncio.shield(unloading)
            if stored:
                await room.load()
            await self._connect_relay(room)
        except BaseException:
            if self._rooms.get(room.key) is room:
                del self._rooms[room.key]
                self._stop_process_tasks_if_empty()
            raise
        finally:
            self._loads.pop(room.key, None)

    async def _connect_relay(self, room: Room) -> None:
        """Link ``room`` to the other processes if the configured layer spans processes.

        The rooms of a process share one :class:`RelayHub`, started with the first and
        stopped with the last. The in-memory layer lives inside one process, so rooms
        then have no relay.
        """
        if self._hub is None or self._hub.stopped:
            layer = cross_process_layer()
            if layer is None:
                return
            self._hub = RelayHub(layer)
        relay = self._relays[room] = Relay(
            room, self._hub, on_close=partial(self.discard, room.key)
        )
        room.relay = relay
        await relay.start()

    async def _disconnect_relay(self, room: Room) -> None:
        """Unlink ``room`` from the other processes, telling them it is gone."""
        relay = self._relays.pop(room, None)
        if relay is not None:
            room.relay = None
            await relay.stop()

    async def _close(self, room: Room) -> None:
        """Unlink ``room``, then store everything it holds and forget who was in it."""
        await self._disconnect_relay(room)
        await room.close()
        await presence_rows.get().remove_now(room.document_id)

    async def _unload_later(self, room: Room) -> None:
        await asyncio.sleep(conf.ROOM_GRACE_PERIOD)
        if room.peer_count or self._rooms.get(room.key) is not room:
            return
        self._unload_timers.pop(room.key, None)
        self._start_unload(room)

    async def _unload(self, room: Room) -> None:
        try:
            await self._close(room)
            logger.info("collab: unloaded document %r", room.key)
        finally:
            self._unloading.pop(room.key, None)
            self._closing.pop(room.key, None)
            self._stop_process_tasks_if_empty()

    async def _refresh_presence(self) -> None:
        """Keep this process's rows of who is connected fresh: one query for all rooms."""
        while True:
            await asyncio.sleep(conf.PRESENCE_REFRESH)
            try:
                await in_worker_thread(presence.refresh_presence)(PROCESS_ID)
            except Exception:
                logger.exception("collab: refreshing who is connected failed")

    def _stop_process_tasks_if_empty(self) -> None:
        if not self._rooms and not self._closing:
            for task in self._process_tasks:
                task.cancel()
            self._process_tasks = []


_registries: WeakKeyDictionary[asyncio.AbstractEventLoop, RoomRegistry] = WeakKeyDictionary()


def get_registry() -> RoomRegistry:
    """Return the registry of the running event loop (one per server process)."""
    loop = asyncio.get_running_loop()
    registry = _registries.get(loop)
    if registry is None:
        if not _registries:
            at_exit(store_pending_at_exit)
        registry = _registries[loop] = RoomRegistry()
    return registry


def at_exit(func: Callable[[], None]) -> None:
    """Run ``func`` when the process exits, in a server's worker processes too.

    A worker started by :mod:`multiprocessing` (granian's) ends with ``os._exit``, which
    skips :mod:`atexit`; it runs multiprocessing's own finalizers instead.
    """
    if multiprocessing.parent_process() is None:
        atexit.register(func)
    else:
        multiprocessing.util.Finalize(None, func, exitpriority=0)


def store_pending_at_exit() -> None:
    """Write every room's pending updates before the interpreter exits.

    A server may stop its event loop without letting connections finish (daphne does
    when a SIGTERM arrives while it is still tracking a fresh handshake), so what the
    loop could not store is written here, synchronously.
    """
    for registry in list(_registries.values()):
        for room in registry.open_rooms():
            try:
                room.store_pending_now()
            except Exception:
                logger.exception("collab: storing document %r at exit failed", room.key)


async def close_sessions(key: str) -> None:
    """Close every live connection to document ``key``, in every process (it was deleted)."""
    await get_registry().discard(key, CloseCode.DOCUMENT_DELETED)
    await announce_deleted(key)

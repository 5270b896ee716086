"""Rooms of one document in different processes, linked through a real Redis layer.

Each test builds two rooms with relays on hubs of their own, as two server processes
would have.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis
from channels.layers import BaseChannelLayer
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.test import override_settings
from pycrdt import Doc, Text

from collab.close_codes import CloseCode
from collab.models import Document
from collab.protocol import (
    AwarenessEntry,
    AwarenessUpdate,
    SyncUpdate,
    decode_message,
    encode_awareness,
    encode_awareness_update,
    encode_update,
)
from collab.relay import Relay, announce_deleted
from collab.relay_hub import FORGET_SENDER_AFTER, RelayHub, group_name
from collab.room import Room
from tests.hostile_updates import text_in_two_updates
from tests.ws import RecordingPeer, states_of

pytestmark = pytest.mark.django_db(transaction=True)

LAYERS: dict[str, Callable[[str], BaseChannelLayer]] = {
    "core": lambda url: RedisChannelLayer(hosts=[url]),
    "pubsub": lambda url: RedisPubSubChannelLayer(hosts=[url]),
}


@pytest.fixture(params=sorted(LAYERS))
async def layer(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[BaseChannelLayer]:
    """A channels-redis layer (core or pub/sub) on a real Redis."""
    channel_layer = LAYERS[request.param](redis_url)
    yield channel_layer
    await channel_layer.flush()


CLOSED: dict[int, list[CloseCode]] = {}
"""Close codes other processes asked each room (by id) to close its connections with."""


async def open_room(key: str, layer: BaseChannelLayer) -> Room:
    """A loaded room linked to the layer through a hub of its own, as in its own process."""
    return await open_room_on(RelayHub(layer), key)


async def open_room_on(hub: RelayHub, key: str) -> Room:
    """A loaded room linked to the other processes through ``hub``."""
    document, _ = await Document.objects.aget_or_create(key=key)
    room = Room(key, document.pk)
    await room.load()
    closed = CLOSED.setdefault(id(room), [])

    async def record_close(code: CloseCode) -> None:
        closed.append(code)

    room.relay = Relay(room, hub, record_close)
    await room.relay.start()
    return room


async def close_room(room: Room) -> None:
    """Unlink ``room`` from the other processes, then store and close it (as the registry)."""
    if isinstance(room.relay, Relay):
        await room.relay.stop()
        room.relay = None
    await room.close()


async def eventually(check: Callable[[], bool], within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def text_of(room: Room) -> str:
    return str(room.doc.get("content", type=Text))


class Writer:
    """Produces frames with Yjs updates appending text, like a client editor."""

    def __init__(self) -> None:
        self.doc: Doc[Any] = Doc()
        self.text = self.doc.get("content", type=Text)

    def type(self, chunk: str) -> bytes:
        state = self.doc.get_state()
        self.text += chunk
        return encode_update(self.doc.get_update(state))


@pytest.fixture
async def two_rooms(layer: BaseChannelLayer) -> AsyncIterator[tuple[Room, Room]]:
    with override_settings(COLLAB={"REPAIR_INTERVAL": 0.2, "FLUSH_INTERVAL": 0.05}):
        first = await open_room("shared", layer)
        second = await open_room("shared", layer)
        yield first, second
        await asyncio.gather(close_room(first), close_room(second))


async def test_updates_and_presence_cross_processes_once_per_process(
    two_rooms: tuple[Room, Room],
) -> None:
    first, second = two_rooms
    await asyncio.sleep(0.5)  # first-contact sync exchanges settle
    assert first.relay is not None
    assert second.relay is not None
    local = [RecordingPeer() for _ in range(10)]
    remote = [RecordingPeer() for _ in range(10)]
    for peer in local:
        first.add_peer(peer)
    for peer in remote:
        second.add_peer(peer)
    before = second.relay.messages_received
    writer = Writer()
    first.receive(local[0], decode_message(writer.type("hello")))
    await eventually(lambda: text_of(second) == "hello")
    for peer in remote:
        assert any(isinstance(m, SyncUpdate) for m in peer.messages())
    await asyncio.sleep(0.1)
    update_messages = second.relay.messages_received - before
    assert 1 <= update_messages <= 2, "one update message (plus at most one heartbeat)"

    presence = b"\x01\x05\x01\x02{}"
    second.receive(remote[0], decode_message(encode_awareness(presence)))
    await eventually(lambda: 5 in states_of(first.awareness))


async def test_lost_messages_are_repaired_without_reconnecting(
    two_rooms: tuple[Room, Room], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_rooms
    assert first.relay is not None
    peer = RecordingPeer()
    first.add_peer(peer)
    real_send = first.relay._group_send
    dropped: list[dict[str, Any]] = []
    losing = True

    async def lossy_send(message: dict[str, Any]) -> None:
        if message["type"] == "collab.update" and losing:
            dropped.append(message)
        else:
            await real_send(message)

    monkeypatch.setattr(first.relay, "_group_send", lossy_send)
    writer = Writer()
    for chunk in ("lost ", "in ", "transit"):
        first.receive(peer, decode_message(writer.type(chunk)))
    await eventually(lambda: bool(dropped))
    await eventually(lambda: text_of(second) == "lost in transit")
    assert len(dropped) >= 1, "every update message was lost on the way"
    losing = False
    first.receive(peer, decode_message(writer.type("!")))
    await eventually(lambda: text_of(second) == "lost in transit!")


async def test_deletion_closes_the_document_in_every_process(
    two_rooms: tuple[Room, Room], layer: BaseChannelLayer, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_rooms
    monkeypatch.setattr("collab.relay.cross_process_layer", lambda: layer)
    await announce_deleted("shared")
    await eventually(
        lambda: CLOSED[id(first)] == CLOSED[id(second)] == [CloseCode.DOCUMENT_DELETED]
    )


def presence_frame(client_id: int, clock: int, state: object) -> bytes:
    return encode_awareness(encode_awareness_update([AwarenessEntry(client_id, clock, state)]))


def last_states(peer: RecordingPeer) -> dict[int, object]:
    """The states the last awareness frame ``peer`` got carried (keepalives aside)."""
    updates = [m for m in peer.messages() if isinstance(m, AwarenessUpdate) and m.entries]
    return {entry.client_id: entry.state for entry in updates[-1].entries} if updates else {}


async def test_presence_of_a_process_that_went_silent_is_removed(
    two_rooms: tuple[Room, Room], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_rooms
    watcher, present = RecordingPeer(), RecordingPeer()
    first.add_peer(watcher)
    second.add_peer(present)
    second.receive(present, decode_message(presence_frame(5, 1, {"name": "P"})))
    await eventually(lambda: last_states(watcher) == {5: {"name": "P"}})

    assert second.relay is not None
    silenced = second.relay._hub
    killed = time.monotonic()

    async def killed_send(target: str, message: dict[str, Any]) -> None:
        """The process is gone: nothing it would send arrives."""

    monkeypatch.setattr(silenced, "group_send", killed_send)
    monkeypatch.setattr(silenced, "send", killed_send)
    monkeypatch.setattr(silenced, "stopped", True)  # its loops end: no more heartbeats
    await eventually(lambda: last_states(watcher) == {5: None}, within=4)
    assert time.monotonic() - killed <= (FORGET_SENDER_AFTER + 2) * 0.2 + 0.5
    assert first.awareness.client_count == 0


async def test_a_process_heard_only_through_presence_is_forgotten_too(
    two_rooms: tuple[Room, Room], layer: BaseChannelLayer
) -> None:
    """A process killed before its first heartbeat leaves no state behind."""
    first, _ = two_rooms
    watcher = RecordingPeer()
    first.add_peer(watcher)
    payload = encode_awareness_update([AwarenessEntry(6, 1, {"name": "short-lived"})])
    message = {"type": "collab.awareness", "key": "shared", "room": 1, "seq": 0, "payload": payload}
    await layer.group_send(group_name("shared"), {**message, "from": "specific.gone!1"})
    await eventually(lambda: last_states(watcher) == {6: {"name": "short-lived"}})
    await eventually(lambda: last_states(watcher) == {6: None}, within=4)


async def test_another_process_cannot_take_a_local_connections_id(
    two_rooms: tuple[Room, Room],
) -> None:
    first, _ = two_rooms
    local, watcher = RecordingPeer(), RecordingPeer()
    first.add_peer(local)
    first.add_peer(watcher)
    first.receive(local, decode_message(presence_frame(7, 1, {"name": "here"})))
    seen = len(watcher.frames)
    payload = encode_awareness_update([AwarenessEntry(7, 9, {"name": "elsewhere"})])
    first.apply_remote_awareness("specific.other!2", payload)
    assert states_of(first.awareness) == {7: {"name": "here"}}
    assert len(watcher.frames) == seen


async def test_a_client_reconnecting_to_another_process_is_not_held_for_its_old_one(
    two_rooms: tuple[Room, Room],
) -> None:
    """Its old connection cleared its state there; its edits made offline count at once."""
    first, second = two_rooms
    old, new, watcher = RecordingPeer(), RecordingPeer(), RecordingPeer()
    first.add_peer(old)
    second.add_peer(watcher)
    bob = Writer()
    first.receive(old, decode_message(presence_frame(bob.doc.client_id, 1, {"n": "bob"})))
    first.receive(old, decode_message(bob.type("online.")))
    await eventually(lambda: text_of(second) == "online.")
    first.receive(old, decode_message(presence_frame(bob.doc.client_id, 2, None)))
    await eventually(lambda: last_states(watcher) == {bob.doc.client_id: None})
    second.add_peer(new)
    second.receive(new, decode_message(bob.type(" offline.")))
    assert text_of(second) == "online. offline."
    await eventually(lambda: text_of(first) == "online. offline.")


async def test_a_local_update_released_by_another_processes_update_reaches_it_too(
    two_rooms: tuple[Room, Room],
) -> None:
    """The held update came from a connection here: only this process can publish it."""
    first, second = two_rooms
    await asyncio.sleep(0.5)  # first-contact sync exchanges settle: they would repair it
    earlier, later, _ = text_in_two_updates("first ", "second")
    holder, writer = RecordingPeer(), RecordingPeer()
    first.add_peer(holder)
    second.add_peer(writer)
    first.receive(holder, SyncUpdate(later))  # waits for the earlier update
    assert text_of(first) == ""
    second.receive(writer, SyncUpdate(earlier))
    await eventually(lambda: text_of(first) == "first second")
    await eventually(lambda: text_of(second) == "first second", within=1)


CANCELLED_RECEIVE_ENDS = 10.0
"""Seconds within which a cancelled core-layer receive returns (its Redis pop waits 5 s)."""


class TimeoutOnCancelLayer(RedisChannelLayer):
    """A core layer whose receive turns its cancellation into a TimeoutError.

    redis-py's socket reads can do this when the reading task is cancelled; it is what
    CI saw once ("receiving from the channel layer failed: TimeoutError") just before a
    stopped room stayed alive.
    """

    async def receive(self, channel: str) -> dict[str, Any]:
        try:
            return await super().receive(channel)
        except asyncio.CancelledError:
            raise TimeoutError("network") from None


async def test_a_stopped_hub_stops_even_if_the_layer_swallows_its_cancellation(
    redis_url: str,
) -> None:
    layer = TimeoutOnCancelLayer(hosts=[redis_url])
    room = await open_room("swallowed", layer)
    assert room.relay is not None
    hub = room.relay._hub
    await asyncio.sleep(0.1)  # the receive loop is waiting in the layer
    await room.relay.stop()  # the last relay of its hub: the hub stops
    assert hub._tasks
    # The core layer may finish a cancelled receive only once its blocking Redis pop
    # times out (5 s): the loops must end then, not retry for ever.
    _done, pending = await asyncio.wait(hub._tasks, timeout=CANCELLED_RECEIVE_ENDS)
    assert not pending
    await layer.flush()


async def test_hub_tasks_a_server_cancels_end_even_if_the_layer_swallows_it(
    redis_url: str,
) -> None:
    """A server shutting down cancels every task and waits for all of them (as
    ``asyncio.run`` does): hypercorn's shutdown hung on a receive loop that went on
    retrying after the layer turned its cancellation into a TimeoutError."""
    layer = TimeoutOnCancelLayer(hosts=[redis_url])
    room = await open_room("cancelled-by-server", layer)
    assert room.relay is not None
    hub = room.relay._hub
    await asyncio.sleep(0.1)  # the receive loop is waiting in the layer
    tasks = list(hub._tasks)
    for task in tasks:
        task.cancel()
    _done, pending = await asyncio.wait(tasks, timeout=CANCELLED_RECEIVE_ENDS)
    assert not pending
    await close_room(room)
    await layer.flush()


def commands_processed(redis_url: str) -> int:
    """Commands the test Redis processed so far (its own INFO included)."""
    client = redis.Redis.from_url(redis_url)
    try:
        return int(client.info("stats")["total_commands_processed"])
    finally:
        client.close()


async def test_idle_documents_cost_no_layer_traffic(
    layer: BaseChannelLayer, redis_url: str
) -> None:
    """Two processes with 40 documents open, idle: fewer Redis commands than documents.

    With a channel, reader and heartbeat per document, each document cost at least one
    command per heartbeat interval and process (160 a second here).
    """
    with override_settings(COLLAB={"REPAIR_INTERVAL": 0.5}):
        hubs = [RelayHub(layer), RelayHub(layer)]
        rooms = []
        for hub in hubs:
            for index in range(40):
                document, _ = await Document.objects.aget_or_create(key=f"idle-{index}")
                room = Room(document.key, document.pk)
                await room.load()
                room.relay = Relay(room, hub, CLOSED.setdefault(id(room), []).append)  # type: ignore[arg-type]
                rooms.append(room)
        await asyncio.gather(*(room.relay.start() for room in rooms if room.relay is not None))
        await asyncio.sleep(3)  # first-contact sync exchanges settle
        rates = []
        for _ in range(3):  # the quietest second: earlier tests' clean-up may still run
            before = commands_processed(redis_url)
            await asyncio.sleep(1)
            rates.append(commands_processed(redis_url) - before)
        per_second = min(rates)
        assert all(len(hub._tasks) == 2 for hub in hubs), "one reader and one heartbeat each"
        await asyncio.gather(*(close_room(room) for room in rooms))
    assert per_second < 2 * 40, f"{per_second} Redis commands/s"


async def test_rooms_recover_when_redis_forgets_everything(
    two_rooms: tuple[Room, Room], redis_url: str
) -> None:
    """As after Redis restarts empty: groups, queues and subscriptions are gone."""
    first, second = two_rooms
    peer = RecordingPeer()
    first.add_peer(peer)
    writer = Writer()
    first.receive(peer, decode_message(writer.type("before ")))
    await eventually(lambda: text_of(second) == "before ")
    client = redis.Redis.from_url(redis_url)
    try:
        client.flushall()
        client.client_kill_filter(_type="pubsub")
    finally:
        client.close()
    first.receive(peer, decode_message(writer.type("after")))
    await eventually(lambda: text_of(second) == "before after")


async def test_a_room_opened_again_in_a_process_is_new_to_the_others(
    layer: BaseChannelLayer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its numbers start again from 0, so they are told apart by the relay's id."""
    with override_settings(COLLAB={"REPAIR_INTERVAL": 0.2, "FLUSH_INTERVAL": 0.05}):
        far = await open_room("again", layer)
        near = await open_room("again", layer)
        assert near.relay is not None
        hub = near.relay._hub
        keeping_hub_open = await open_room_on(hub, "other")
        peer, writer = RecordingPeer(), Writer()
        near.add_peer(peer)
        for chunk in ("one ", "two ", "three "):
            near.receive(peer, decode_message(writer.type(chunk)))
        await eventually(lambda: text_of(far) == "one two three ")
        dropped: list[str] = []

        async def lossy_group_send(key: str, message: dict[str, Any]) -> None:
            dropped.append(message["type"])  # "left", then the reopened room's messages

        monkeypatch.setattr(hub, "group_send", lossy_group_send)
        await close_room(near)
        again = await open_room_on(hub, "again")
        again.add_peer(peer)
        again.receive(peer, decode_message(Writer().type("<lost>")))
        await eventually(lambda: "collab.update" in dropped)
        monkeypatch.undo()
        again.receive(peer, decode_message(Writer().type("<kept>")))
        await eventually(lambda: "<lost>" in text_of(far) and "<kept>" in text_of(far))
        assert "collab.left" in dropped
        await asyncio.gather(close_room(far), close_room(again), close_room(keeping_hub_open))

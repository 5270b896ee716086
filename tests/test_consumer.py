"""The websocket consumer end to end in-process, with Channels' WebsocketCommunicator."""

from __future__ import annotations

import asyncio
import itertools
import time

import channels.generic.websocket
import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser, User
from django.test import override_settings
from pycrdt import Awareness, Doc

from collab.close_codes import CloseCode
from collab.models import Document, DocumentUpdate
from collab.permissions import Access
from collab.protocol import (
    KEEPALIVE_FRAME,
    AwarenessUpdate,
    PermissionDenied,
    SyncStep1,
    SyncUpdate,
    encode_awareness,
    encode_query_awareness,
    encode_update,
)
from collab.registry import RoomRegistry
from tests.stored import stored_text, wait_for_stored_text
from tests.ws import Client, connected

pytestmark = pytest.mark.django_db(transaction=True)


def awareness_payload(client_id: int, clock: int, state: str) -> bytes:
    awareness = Awareness(Doc())
    awareness.apply_awareness_update(
        b"\x01" + bytes([client_id, clock, len(state)]) + state.encode(), "test"
    )
    return awareness.encode_awareness_update([client_id])


async def test_edit_reaches_other_client_and_database(editor: User, rooms: RoomRegistry) -> None:
    alice = await connected("doc", editor)
    bob = await connected("doc", editor)
    await alice.edit("hello")
    message = await bob.receive()
    assert isinstance(message, SyncUpdate)
    bob.apply(message)
    assert str(bob.text) == "hello"
    await alice.communicator.receive_nothing(0.1)
    await wait_for_stored_text("doc", "hello")
    await alice.disconnect()
    await bob.disconnect()


async def test_one_room_per_document(editor: User, rooms: RoomRegistry) -> None:
    clients = await asyncio.gather(*(connected("shared", editor) for _ in range(3)))
    room = rooms.get("shared")
    assert room is not None
    assert room.peer_count == 3
    for client in clients:
        await client.disconnect()


async def test_late_joiner_gets_the_whole_document(editor: User, rooms: RoomRegistry) -> None:
    alice = await connected("late", editor)
    await alice.edit("abc")
    await alice.edit("def")
    await alice.disconnect()
    bob = await connected("late", editor)
    assert str(bob.text) == "abcdef"
    await bob.disconnect()


async def test_room_unloads_after_grace_period_and_compacts(
    editor: User, rooms: RoomRegistry
) -> None:
    alice = await connected("unload", editor)
    await alice.edit("kept")
    await alice.disconnect()
    assert rooms.get("unload") is not None
    await asyncio.sleep(0.5)
    assert rooms.get("unload") is None
    document = await Document.objects.aget(key="unload")
    assert await DocumentUpdate.objects.filter(document=document).acount() == 0
    assert await document.snapshots.acount() == 1
    assert await database_sync_to_async(stored_text)("unload") == "kept"


async def test_awareness_is_relayed_and_sent_to_late_joiners(
    editor: User, rooms: RoomRegistry
) -> None:
    alice = await connected("aw", editor)
    payload = awareness_payload(7, 1, '{"user":{"name":"alice"}}')
    await alice.send(encode_awareness(payload))
    bob = Client("aw", editor)
    (known,) = await bob.connect()
    assert isinstance(known, AwarenessUpdate)
    assert [(e.client_id, e.state) for e in known.entries] == [(7, {"user": {"name": "alice"}})]
    await bob.send(encode_query_awareness())
    answer = await bob.receive()
    assert isinstance(answer, AwarenessUpdate)
    assert answer.entries == known.entries
    await alice.disconnect()
    await bob.disconnect()


async def test_dropped_connection_removes_its_awareness_states(
    editor: User, rooms: RoomRegistry
) -> None:
    alice = await connected("gone", editor)
    bob = await connected("gone", editor)
    await alice.send(encode_awareness(awareness_payload(9, 2, '{"cursor":1}')))
    relayed = await bob.receive()
    assert isinstance(relayed, AwarenessUpdate)
    await bob.send(encode_awareness(relayed.payload))  # stock clients echo others' states
    await alice.communicator.send_input({"type": "websocket.disconnect", "code": 1006})
    removal = await bob.receive(timeout=1)
    assert isinstance(removal, AwarenessUpdate)
    assert [(e.client_id, e.clock, e.state) for e in removal.entries] == [(9, 2, None)]
    await bob.disconnect()


async def test_idle_connection_gets_keepalive_frames(editor: User, rooms: RoomRegistry) -> None:
    with override_settings(COLLAB={"KEEPALIVE_INTERVAL": 0.2}):
        alice = await connected("idle", editor)
        frame = await alice.communicator.receive_from(timeout=1)
        assert frame == KEEPALIVE_FRAME
        await alice.disconnect()


async def test_a_disconnect_takes_no_hop_to_djangos_thread(
    editor: User, rooms: RoomRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When every client drops at once, such hops queued ahead of their reconnections."""
    hops: list[None] = []

    async def counted_hop() -> None:
        hops.append(None)

    monkeypatch.setattr(channels.generic.websocket, "aclose_old_connections", counted_hop)
    alice = await connected("blip", editor)
    await alice.disconnect()
    assert hops == []


async def test_an_idle_connection_gets_about_one_keepalive_frame_per_interval(
    editor: User, rooms: RoomRegistry
) -> None:
    """Each frame is a send through the server for every idle connection: the idle cost
    of 10,000 connections. Not more often than 7/8 of the interval, never later than it
    (here with a second of slack for a busy machine)."""
    interval = 0.8
    with override_settings(COLLAB={"KEEPALIVE_INTERVAL": interval}):
        alice = await connected("idle-rate", editor)
        assert await alice.communicator.receive_from(timeout=2) == KEEPALIVE_FRAME
        arrivals = [time.monotonic()]
        for _ in range(3):
            assert await alice.communicator.receive_from(timeout=2) == KEEPALIVE_FRAME
            arrivals.append(time.monotonic())
        gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
        assert all(interval * 7 / 8 - 0.05 <= gap <= interval + 1.0 for gap in gaps), gaps
        await alice.disconnect()


async def test_read_only_edits_reach_nobody(
    editor: User, reader: User, rooms: RoomRegistry
) -> None:
    writer = await connected("ro", editor)
    await writer.edit("base")
    viewer = Client("ro", reader)
    (notice,) = await viewer.connect()
    assert isinstance(notice, PermissionDenied)
    assert str(viewer.text) == "base"
    await viewer.edit(" vandalism")
    denied = await viewer.receive()
    assert isinstance(denied, PermissionDenied)
    assert "read-only" in denied.reason
    await writer.communicator.receive_nothing(0.2)
    await writer.edit("!")
    live = await viewer.receive()
    assert isinstance(live, SyncUpdate)
    await wait_for_stored_text("ro", "base!")
    await writer.disconnect()
    await viewer.disconnect()


@pytest.fixture
def user(request: pytest.FixtureRequest) -> User | AnonymousUser:
    """The user named by the test's parameter (None: anonymous)."""
    name: str | None = request.param
    return request.getfixturevalue(name) if name else AnonymousUser()


@pytest.mark.parametrize(
    ("settings", "user", "code"),
    [
        ({}, None, CloseCode.NOT_AUTHENTICATED),
        ({}, "outsider", CloseCode.FORBIDDEN),
        ({"AUTO_CREATE": False}, "editor", CloseCode.NOT_FOUND),
        ({}, "reader", CloseCode.NOT_FOUND),
    ],
    indirect=["user"],
)
async def test_refused_connections_get_documented_codes(
    rooms: RoomRegistry, settings: dict[str, object], user: User | AnonymousUser, code: CloseCode
) -> None:
    with override_settings(COLLAB=settings):
        assert await Client("missing", user).refused_with() == code
    assert not await Document.objects.filter(key="missing").aexists()


async def test_anonymous_access_setting(rooms: RoomRegistry) -> None:
    await Document.objects.acreate(key="public")
    with override_settings(COLLAB={"ANONYMOUS_ACCESS": "read"}):
        client = Client("public", AnonymousUser())
        (notice,) = await client.connect()
        assert isinstance(notice, PermissionDenied)
        await client.disconnect()


def only_documents_starting_with_team(user: object, key: str, document: object) -> Access:
    return Access.EDIT if key.startswith("team-") else Access.NONE


async def test_permission_policy_is_replaceable(editor: User, rooms: RoomRegistry) -> None:
    policy = f"{__name__}.only_documents_starting_with_team"
    with override_settings(COLLAB={"PERMISSION_POLICY": policy}):
        allowed = await connected("team-a", editor)
        assert await Client("private", editor).refused_with() == CloseCode.FORBIDDEN
        await allowed.disconnect()


def slow_to_decide(user: object, key: str, document: object) -> Access:
    time.sleep(0.35)  # the handshake's turn comes late, as in a reconnect storm
    return Access.EDIT


async def test_a_handshake_waiting_for_its_turn_is_kept_alive(
    editor: User, rooms: RoomRegistry
) -> None:
    """Stock clients close a socket silent for 30 s after it opened, and reconnect."""
    policy = f"{__name__}.slow_to_decide"
    with override_settings(COLLAB={"PERMISSION_POLICY": policy, "KEEPALIVE_INTERVAL": 0.1}):
        client = Client("slow-turn", editor)
        connected_, _ = await client.communicator.connect()
        assert connected_
        waited = []
        while not isinstance(message := await client.receive(), SyncStep1):
            waited.append(message)
        assert len(waited) >= 2
        assert all(isinstance(m, AwarenessUpdate) and not m.entries for m in waited)
        await client.disconnect()


BAD_FRAMES = [
    pytest.param({"bytes": b"\x00\x02\x09abc"}, CloseCode.MALFORMED_FRAME, id="truncated"),
    pytest.param({"bytes": b"\x09\x00"}, CloseCode.MALFORMED_FRAME, id="unknown-type"),
    pytest.param({"bytes": b""}, CloseCode.MALFORMED_FRAME, id="empty"),
    pytest.param({"bytes": encode_update(b"garbage!")}, CloseCode.MALFORMED_FRAME, id="bad-update"),
    pytest.param({"bytes": b"\x00\x00\x03\xff\xff\xff"}, CloseCode.MALFORMED_FRAME, id="bad-state"),
    pytest.param({"bytes": b"\x02\x00\x01x"}, CloseCode.MALFORMED_FRAME, id="client-auth"),
    pytest.param({"text": "hello"}, CloseCode.UNSUPPORTED_DATA, id="text"),
    pytest.param({"bytes": encode_update(bytes(2000))}, CloseCode.FRAME_TOO_LARGE, id="oversize"),
]


@pytest.mark.parametrize(("frame", "code"), BAD_FRAMES)
async def test_bad_frame_closes_only_the_sender(
    editor: User, rooms: RoomRegistry, frame: dict[str, bytes | str], code: CloseCode
) -> None:
    with override_settings(COLLAB={"MAX_FRAME_BYTES": 1024}):
        good = await connected("bad", editor)
        await good.edit("intact")
        bad = await connected("bad", editor)
        await bad.communicator.send_input({"type": "websocket.receive", **frame})
        assert await bad.receive_close() == code
        await good.communicator.receive_nothing(0.2)
        other = await connected("bad", editor)
        await good.edit("!")
        relayed = await other.receive()
        assert isinstance(relayed, SyncUpdate)
        await wait_for_stored_text("bad", "intact!")
        await good.disconnect()
        await other.disconnect()


async def test_a_client_over_the_rate_limit_is_slowed_down_not_closed(
    editor: User, rooms: RoomRegistry
) -> None:
    """Its frames are read later, once the window renews; nothing is lost or closed."""
    with override_settings(COLLAB={"RATE_LIMIT_MESSAGES": 3, "RATE_LIMIT_PERIOD": 0.4}):
        fast = await connected("fast", editor)
        watcher = await connected("fast", editor)
        started = asyncio.get_running_loop().time()
        for edit in range(7):
            await fast.edit(str(edit))
        while str(watcher.text) != "0123456":
            watcher.apply(await watcher.receive())
        elapsed = asyncio.get_running_loop().time() - started
        assert elapsed >= 0.7  # 3 + 3 + 1 changes: read in three windows
        await fast.edit("!")
        assert await fast.communicator.receive_nothing(0.5)  # not closed
        await fast.disconnect()
        await watcher.disconnect()


async def test_frames_that_change_nothing_do_not_count(editor: User, rooms: RoomRegistry) -> None:
    """Echoes of updates (pycrdt providers send each one back), empty updates and known
    presence leave the budget alone: the echoing client's own edit goes out at once."""
    with override_settings(COLLAB={"RATE_LIMIT_MESSAGES": 2, "RATE_LIMIT_PERIOD": 60}):
        writer = await connected("echo", editor)
        echoer = await connected("echo", editor)
        presence = awareness_payload(7, 1, "{}")
        await echoer.send(encode_awareness(presence))  # one change: its own presence
        for _ in range(2):
            update = await writer.edit("w")
            message = await echoer.receive()
            assert isinstance(message, SyncUpdate)
            echoer.apply(message)
            for _ in range(20):
                await echoer.send(encode_update(update))
                await echoer.send(encode_update(b"\x00\x00"))
                await echoer.send(encode_awareness(presence))
        await echoer.edit("e")  # the second change: within the budget, read at once
        while str(writer.text) != "wwe":
            message = await writer.receive(timeout=1)
            if isinstance(message, SyncUpdate):
                writer.apply(message)
        await writer.disconnect()
        await echoer.disconnect()

"""Presence between connections, in-process: who may set which state, and what is kept."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from collab.close_codes import CloseCode
from collab.protocol import (
    AwarenessEntry,
    AwarenessUpdate,
    Message,
    PermissionDenied,
    encode_awareness,
    encode_awareness_update,
    encode_query_awareness,
)
from collab.registry import RoomRegistry
from tests.ws import Client, connected

pytestmark = pytest.mark.django_db(transaction=True)


def presence(*entries: tuple[int, int, object]) -> bytes:
    """An awareness frame holding (client id, clock, state) entries."""
    return encode_awareness(encode_awareness_update(AwarenessEntry(*entry) for entry in entries))


def states(message: Message) -> dict[int, object]:
    assert isinstance(message, AwarenessUpdate), message
    return {entry.client_id: entry.state for entry in message.entries}


async def joined_as_reader(key: str, reader: User) -> Client:
    client = Client(key, reader)
    others = await client.connect()
    assert isinstance(others[-1], PermissionDenied)
    return client


async def test_a_reader_cannot_set_or_clear_another_connections_state(
    editor: User, reader: User, rooms: RoomRegistry
) -> None:
    victim = await connected("forge", editor)
    await victim.send(presence((7, 3, {"user": {"name": "Vic"}})))
    forger = await joined_as_reader("forge", reader)
    witness = Client("forge", editor)
    assert [states(message) for message in await witness.connect()] == [
        {7: {"user": {"name": "Vic"}}}
    ]

    await forger.send(presence((7, 99, {"user": {"name": "ADMIN (impersonated)"}})))
    await forger.send(presence((7, 100, None)))
    await forger.send(encode_query_awareness())
    assert states(await forger.receive()) == {7: {"user": {"name": "Vic"}}}
    await victim.communicator.receive_nothing(0.1)
    await witness.communicator.receive_nothing(0.1)
    await witness.send(encode_query_awareness())
    assert states(await witness.receive()) == {7: {"user": {"name": "Vic"}}}
    for client in (victim, forger, witness):
        await client.disconnect()


async def test_a_reader_may_set_its_own_state(
    editor: User, reader: User, rooms: RoomRegistry
) -> None:
    watcher = await connected("own", editor)
    present = await joined_as_reader("own", reader)
    await present.send(presence((8, 1, {"user": {"name": "Reed"}})))
    assert states(await watcher.receive()) == {8: {"user": {"name": "Reed"}}}
    await present.disconnect()
    await watcher.disconnect()


async def test_no_ghost_outlives_the_connection_that_set_it(
    editor: User, reader: User, rooms: RoomRegistry
) -> None:
    watcher = await connected("ghost", editor)
    ghost = await joined_as_reader("ghost", reader)
    await ghost.send(presence((11, 4, {"user": {"name": "alice"}})))
    assert states(await watcher.receive()) == {11: {"user": {"name": "alice"}}}
    await watcher.send(presence((11, 4, {"user": {"name": "alice"}})))  # a stock client's echo
    await ghost.send(presence((11, 3, None)))  # stale: dropped, and 11 stays the reader's
    await ghost.communicator.send_input({"type": "websocket.disconnect", "code": 1006})
    removal = await watcher.receive()
    assert isinstance(removal, AwarenessUpdate)
    assert [(e.client_id, e.clock, e.state) for e in removal.entries] == [(11, 4, None)]
    late = Client("ghost", editor)
    assert await late.connect() == []
    room = rooms.get("ghost")
    assert room is not None
    assert room.awareness.client_count == 0
    await late.disconnect()
    await watcher.disconnect()


async def test_frames_of_null_states_for_made_up_ids_keep_nothing(
    editor: User, reader: User, rooms: RoomRegistry
) -> None:
    """Ten ~0.9 MB frames of 100k nulls each: the room holds the one real state only."""
    watcher = await connected("flood", editor)
    await watcher.send(presence((1, 1, {"user": {"name": "W"}})))
    flooder = await joined_as_reader("flood", reader)
    room = rooms.get("flood")
    assert room is not None
    for round_ in range(10):
        start = 1_000_000 + round_ * 100_000
        frame = presence(*((client_id, 1, None) for client_id in range(start, start + 100_000)))
        assert len(frame) < 1024 * 1024
        await flooder.send(frame)
    await flooder.send(encode_query_awareness())
    # The answer goes out from the connection's sending task once the room has read all
    # ten frames (seconds of work without a pause): the wait must outlast that.
    assert states(await flooder.receive(timeout=30)) == {1: {"user": {"name": "W"}}}
    assert room.awareness.client_count == 1
    await watcher.communicator.receive_nothing(0.1)
    await flooder.disconnect()
    await watcher.disconnect()


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
async def test_a_state_json_parse_rejects_closes_with_4400(
    editor: User, rooms: RoomRegistry, constant: bytes
) -> None:
    watcher = await connected("nan", editor)
    sender = await connected("nan", editor)
    state = b'{"cursor":' + constant + b"}"
    await sender.send(encode_awareness(b"\x01\x05\x01" + bytes([len(state)]) + state))
    assert await sender.receive_close() == CloseCode.MALFORMED_FRAME
    await watcher.communicator.receive_nothing(0.1)
    room = rooms.get("nan")
    assert room is not None
    assert room.awareness.client_count == 0
    await watcher.disconnect()


async def test_oversize_and_non_object_states_are_dropped_and_the_connection_stays(
    editor: User, rooms: RoomRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    watcher = await connected("shape", editor)
    sender = await connected("shape", editor)
    with override_settings(COLLAB={"MAX_AWARENESS_STATE_BYTES": 64}):
        await sender.send(presence((3, 1, {"user": {"name": "x" * 64}})))
        await sender.send(presence((3, 2, ["not", "an", "object"])))
        await sender.send(presence((3, 3, {"user": {"name": "fits"}})))
        assert states(await watcher.receive()) == {3: {"user": {"name": "fits"}}}
    assert "dropped a 84 byte state (client 3)" in caplog.text
    await sender.send(encode_query_awareness())
    assert states(await sender.receive()) == {3: {"user": {"name": "fits"}}}
    await sender.disconnect()
    await watcher.disconnect()


async def test_ids_beyond_max_awareness_clients_are_dropped(
    editor: User, reader: User, rooms: RoomRegistry
) -> None:
    watcher = await connected("many", editor)
    sender = await joined_as_reader("many", reader)
    with override_settings(COLLAB={"MAX_AWARENESS_CLIENTS": 2}):
        await sender.send(presence(*((client_id, 1, {"n": client_id}) for client_id in range(5))))
        assert states(await watcher.receive()) == {0: {"n": 0}, 1: {"n": 1}}
        await sender.send(presence((2, 1, {"n": 2})))
        await sender.send(presence((1, 2, {"n": "moved"})))
        relayed = states(await watcher.receive())  # soon after the last: the owner's states
        assert relayed[1] == {"n": "moved"}
        assert 2 not in relayed
    await sender.disconnect()
    assert states(await watcher.receive()) == {0: None, 1: None}
    await watcher.disconnect()


async def test_the_server_state_reaches_everyone_and_is_renewed(
    editor: User, rooms: RoomRegistry
) -> None:
    with override_settings(COLLAB={"KEEPALIVE_INTERVAL": 0.2}):
        present = await connected("server", editor)
        room = rooms.get("server")
        assert room is not None
        server_id = room.doc.client_id
        room.set_server_presence({"saved": False})
        first = await present.receive()
        assert states(first) == {server_id: {"saved": False}}
        joiner = Client("server", editor)
        assert [states(message) for message in await joiner.connect()] == [
            {server_id: {"saved": False}}
        ]
        renewal = await present.receive(timeout=1)
        assert isinstance(first, AwarenessUpdate)
        assert isinstance(renewal, AwarenessUpdate)
        assert states(renewal) == {server_id: {"saved": False}}
        assert renewal.entries[0].clock > first.entries[0].clock
        room.set_server_presence(None)
        for _ in range(20):  # renewals and keepalives may come first
            if states(await joiner.receive()) == {server_id: None}:
                break
        else:
            pytest.fail("the server state was not cleared")
        assert room.awareness.state_count == 0
        await present.disconnect()
        await joiner.disconnect()


async def test_presence_changes_are_relayed_at_most_every_interval(
    editor: User, reader: User, rooms: RoomRegistry
) -> None:
    """Stock clients send back every change they get: a flood must not reach them whole."""
    watcher = await connected("paced", editor)
    sender = await joined_as_reader("paced", reader)
    for clock in range(1, 51):
        await sender.send(presence((7, clock, {"n": clock})))
    relayed = []
    while not await watcher.communicator.receive_nothing(0.3):
        relayed.append(states(await watcher.receive()))
    assert relayed[-1] == {7: {"n": 50}}
    assert len(relayed) < 10
    await sender.disconnect()
    await watcher.disconnect()

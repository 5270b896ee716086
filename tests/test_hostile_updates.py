"""Updates no stock client sends: refused at the door, nothing relayed, nothing stored."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from pycrdt import Doc, Text

from collab.close_codes import CloseCode
from collab.protocol import encode_update
from collab.rooms import RoomRegistry
from tests.hostile_updates import deep_value_update, half_valid_update, nested_elements_update
from tests.stored import stored_text, wait_for_stored_text
from tests.ws import connected

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("update", "code"),
    [
        pytest.param(deep_value_update(100_000), CloseCode.CONTENT_REFUSED, id="value-too-deep"),
        pytest.param(nested_elements_update(20_000), CloseCode.CONTENT_REFUSED, id="xml-too-deep"),
        pytest.param(b"\x01\x01\x01\x00\x1f\x00", CloseCode.MALFORMED_FRAME, id="malformed"),
    ],
)
async def test_a_refused_update_closes_only_its_sender(
    editor: User, rooms: RoomRegistry, update: bytes, code: CloseCode
) -> None:
    attacker = await connected("target", editor)
    watcher = await connected("target", editor)
    await watcher.edit("kept")
    await wait_for_stored_text("target", "kept")
    await attacker.receive()  # the watcher's edit
    await attacker.send(encode_update(update))
    assert await attacker.receive_close() == code
    await watcher.edit(" going")
    await wait_for_stored_text("target", "kept going")
    assert await watcher.communicator.receive_nothing(0.2)
    await watcher.disconnect()


async def test_half_valid_update_is_refused_whole_so_every_replica_agrees(
    editor: User, rooms: RoomRegistry
) -> None:
    """pycrdt would integrate the first struct ("X") and then fail on the second."""
    attacker = await connected("agree", editor)
    watcher = await connected("agree", editor)
    await watcher.edit("hello")
    await wait_for_stored_text("agree", "hello")
    await attacker.receive()
    await attacker.send(encode_update(half_valid_update(watcher.doc.client_id, 0)))
    assert await attacker.receive_close() == CloseCode.MALFORMED_FRAME
    room = rooms.get("agree")
    assert room is not None
    assert str(room.doc.get("content", type=Text)) == "hello"
    latecomer = await connected("agree", editor)
    assert str(latecomer.text) == "hello"
    assert await watcher.communicator.receive_nothing(0.2)
    await watcher.disconnect()
    await latecomer.disconnect()
    await rooms.close_all()
    assert await database_sync_to_async(stored_text)("agree") == "hello"


async def test_an_update_with_missing_dependencies_is_held_then_relayed_and_stored(
    editor: User, rooms: RoomRegistry
) -> None:
    author = Doc()
    text = author.get("content", type=Text)
    text.insert(0, "first ")
    first = author.get_update()
    state = author.get_state()
    text.insert(6, "second")
    second = author.get_update(state)
    sender = await connected("held", editor)
    watcher = await connected("held", editor)
    await sender.send(encode_update(second))
    assert await watcher.communicator.receive_nothing(0.2)
    await sender.send(encode_update(first))
    watcher.apply(await watcher.receive())
    assert str(watcher.text) == "first second"
    await wait_for_stored_text("held", "first second")
    await sender.disconnect()
    await watcher.disconnect()


async def test_unloaded_rooms_are_collected(editor: User, rooms: RoomRegistry) -> None:
    """A room (its document, awareness and tasks) is freed once unloaded."""
    collected = []
    for number in range(5):
        client = await connected(f"gc-{number}", editor)
        await client.edit("some text")
        room = rooms.get(f"gc-{number}")
        assert room is not None
        collected += [weakref.ref(room), weakref.ref(room.replica)]
        del room
        await client.disconnect()
    await rooms.close_all()
    await asyncio.sleep(0.1)
    gc.collect()
    assert [ref() for ref in collected] == [None] * 10

"""Updates no stock client sends: refused at the door, nothing relayed, nothing stored."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.test import Client as DjangoClient
from django.urls import reverse
from pycrdt import Doc, Text

from collab import documents
from collab.admin import UNREADABLE
from collab.close_codes import CloseCode
from collab.exceptions import ContentRefused
from collab.models import Document, DocumentSnapshot
from collab.protocol import (
    AwarenessEntry,
    encode_awareness,
    encode_awareness_update,
    encode_sync_step1,
    encode_update,
)
from collab.registry import RoomRegistry
from tests.hostile_updates import (
    deep_value_update,
    half_valid_update,
    nested_elements_update,
    text_in_two_updates,
)
from tests.stored import stored_text, wait_for_stored_text
from tests.test_replica import panic
from tests.ws import Client, connected

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
    first, second, _ = text_in_two_updates("first ", "second")
    sender = await connected("held", editor)
    watcher = await connected("held", editor)
    await sender.send(encode_update(second))
    assert await watcher.communicator.receive_nothing(0.2)
    await sender.send(encode_update(first))
    watcher.apply(await watcher.receive())  # the update itself
    watcher.apply(await watcher.receive())  # and the one it released
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
    for _ in range(120):  # a cancelled core-layer receive ends when its 5 s Redis pop does
        gc.collect()
        if all(ref() is None for ref in collected):
            break
        await asyncio.sleep(0.1)
    assert [ref() for ref in collected] == [None] * 10


def store_snapshot(key: str, state: bytes) -> Document:
    """Document ``key`` whose only state is ``state``, written straight to the database."""
    document = Document.objects.create(key=key)
    DocumentSnapshot.objects.create(document=document, state=state, last_update_id=0, name="v")
    return document


@pytest.mark.django_db(transaction=True)
def test_hostile_stored_content_is_refused_by_every_reader(admin_user: User) -> None:
    """Stored before collab checked updates (or through the ORM): never given to pycrdt."""
    document = store_snapshot("stored-hostile", deep_value_update(100_000))
    with pytest.raises(ContentRefused):
        documents.read_text("stored-hostile")
    client = DjangoClient()
    client.force_login(admin_user)
    change = client.get(reverse("admin:collab_document_change", args=[document.pk]))
    assert change.status_code == 200
    assert UNREADABLE in change.content.decode()
    for view, args in [
        ("export", [document.pk, "json"]),
        ("version", [document.pk, document.snapshots.get().pk]),
        ("compare", [document.pk, document.snapshots.get().pk]),
    ]:
        response = client.get(reverse(f"admin:collab_document_{view}", args=args), follow=True)
        shown = [str(message) for message in response.context["messages"]]
        assert any(message.startswith(UNREADABLE) for message in shown), view


@pytest.mark.django_db(transaction=True)
def test_a_version_too_deep_to_restore_is_refused_with_a_message(admin_user: User) -> None:
    with documents.edit("restore-deep", user=admin_user) as doc:
        doc.get("content", type=Text).insert(0, "current")
    document = Document.objects.get(key="restore-deep")
    deep = DocumentSnapshot.objects.create(
        document=document, state=nested_elements_update(1_000), last_update_id=0, name="deep"
    )
    client = DjangoClient()
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:collab_document_restore", args=[document.pk, deep.pk]), follow=True
    )
    assert "over 128 deep" in response.content.decode()
    assert documents.read_text("restore-deep") == "current"


async def test_a_client_of_a_hostile_stored_document_is_refused_and_the_server_lives(
    editor: User, rooms: RoomRegistry
) -> None:
    await database_sync_to_async(store_snapshot)("stored-deep", deep_value_update(100_000))
    assert await Client("stored-deep", editor).refused_with() == CloseCode.SERVER_ERROR
    survivor = await connected("elsewhere", editor)
    await survivor.edit("still here")
    await wait_for_stored_text("elsewhere", "still here")
    await survivor.disconnect()


async def test_a_pycrdt_panic_closes_its_connection_and_leaves_the_room(
    editor: User, rooms: RoomRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A panic is a BaseException: it must not escape and leave the connection behind."""
    client = await connected("panicky", editor)
    room = rooms.get("panicky")
    assert room is not None

    def panicking_answer(state_vector: bytes) -> bytes:
        panic()
        return b""

    monkeypatch.setattr(room, "missing_for", panicking_answer)
    await client.send(encode_sync_step1(client.doc.get_state()))
    assert await client.receive_close() == CloseCode.SERVER_ERROR
    assert room.peer_count == 0


async def test_a_panic_while_applying_restarts_the_room_from_storage(
    editor: User, rooms: RoomRegistry
) -> None:
    """No connection stays on a document pycrdt may have left half changed."""
    sender = await connected("restart", editor)
    watcher = await connected("restart", editor)
    await watcher.edit("stored")
    await wait_for_stored_text("restart", "stored")
    await sender.receive()
    room = rooms.get("restart")
    assert room is not None
    panics = [panic]

    def panic_once(event: object) -> None:
        if panics:
            panics.pop()()

    room.doc.observe(panic_once)
    await sender.edit(" more")
    assert await sender.receive_close() == CloseCode.SERVER_ERROR
    assert await watcher.receive_close() == CloseCode.SERVER_ERROR
    fresh = await connected("restart", editor)
    assert rooms.get("restart") is not room
    assert str(fresh.text) == "stored"
    await fresh.disconnect()


async def test_items_under_another_connections_client_id_never_take_its_place(
    editor: User, rooms: RoomRegistry
) -> None:
    """Yjs trusts client ids; a forger's items under the victim's id would split replicas."""
    victim = await connected("forged-ids", editor)
    attacker = await connected("forged-ids", editor)
    watcher = await connected("forged-ids", editor)
    presence = AwarenessEntry(victim.doc.client_id, 1, {"user": {"name": "victim"}})
    await victim.send(encode_awareness(encode_awareness_update([presence])))
    await attacker.receive()
    await watcher.receive()
    forger = Doc(client_id=victim.doc.client_id)
    forger.get("content", type=Text).insert(0, "forged")
    await attacker.send(encode_update(forger.get_update()))
    assert await watcher.communicator.receive_nothing(0.2)
    await victim.edit("genuine")
    watcher.apply(await watcher.receive())
    await wait_for_stored_text("forged-ids", "genuine")
    assert str(watcher.text) == "genuine"
    room = rooms.get("forged-ids")
    assert room is not None
    assert str(room.doc.get("content", type=Text)) == "genuine"
    assert room.replica.pending_bytes == 0  # the forgery was released as a duplicate
    for client in (victim, attacker, watcher):
        await client.disconnect()


def announce(client: Client, clock: int, state: object) -> bytes:
    """The awareness frame of ``client``'s own presence state."""
    entry = AwarenessEntry(client.doc.client_id, clock, state)
    return encode_awareness(encode_awareness_update([entry]))


async def present_and_watched(user: User) -> tuple[Client, Client]:
    """A page's connection that showed its presence and wrote "online.", and a watcher."""
    page = await connected("reconnect", user)
    watcher = await connected("reconnect", user)
    await page.send(announce(page, 1, {"user": {"name": "bob"}}))
    await watcher.receive()
    await page.edit("online.")
    watcher.apply(await watcher.receive())
    return page, watcher


async def reconnected(old: Client, user: User, offline_edit: str) -> Client:
    """The same page's document on a new connection, with an edit made while offline."""
    new = Client("reconnect", user)
    new.doc, new.text = old.doc, old.text
    new.text += offline_edit
    await new.connect()  # its sync step 2 carries the offline edit
    return new


async def test_a_reconnecting_clients_edits_are_not_held_after_its_old_connection_cleared(
    editor: User, rooms: RoomRegistry
) -> None:
    """Stock clients clear their state when they disconnect; the old socket may linger.

    Chromium's offline mode closed the page's socket only after its new connection had
    sent the edits made offline: they waited for the old connection as for a forger.
    """
    old, watcher = await present_and_watched(editor)
    await old.send(announce(old, 2, None))  # y-websocket's goodbye, the socket still open
    await watcher.receive()
    new = await reconnected(old, editor, " offline.")
    watcher.apply(await watcher.receive())
    assert str(watcher.text) == "online. offline."
    await wait_for_stored_text("reconnect", "online. offline.")
    for client in (old, new, watcher):
        await client.disconnect()


async def test_edits_held_for_a_client_ids_owner_are_released_when_it_leaves(
    editor: User, rooms: RoomRegistry
) -> None:
    """A dropped network leaves the old connection open, with its state, until it closes."""
    old, watcher = await present_and_watched(editor)
    new = await reconnected(old, editor, " offline.")
    assert await watcher.communicator.receive_nothing(0.2)  # as a forger's, while it is there
    await old.disconnect()
    await watcher.receive()  # the old connection's state is gone
    watcher.apply(await watcher.receive())
    assert str(watcher.text) == "online. offline."
    await wait_for_stored_text("reconnect", "online. offline.")
    room = rooms.get("reconnect")
    assert room is not None
    assert room.replica.pending_bytes == 0
    for client in (new, watcher):
        await client.disconnect()


async def test_a_held_update_released_by_another_sender_reaches_that_sender_too(
    editor: User, rooms: RoomRegistry
) -> None:
    """The one whose update releases a held one has not got the held one either."""
    first, second, _ = text_in_two_updates("first ", "second")
    holder = await connected("released", editor)
    releaser = await connected("released", editor)
    await holder.send(encode_update(second))
    releaser.doc.apply_update(first)
    await releaser.send(encode_update(first))
    releaser.apply(await releaser.receive())
    assert str(releaser.text) == "first second"
    for client in (holder, releaser):
        await client.disconnect()


async def test_a_panic_in_a_deferred_answer_also_closes_and_leaves(
    editor: User, rooms: RoomRegistry, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """Whole-state requests over budget are answered later, through the same guard."""
    settings.COLLAB = {**settings.COLLAB, "STATE_REQUEST_LIMIT": 1, "STATE_REQUEST_PERIOD": 0.2}
    client = await connected("panicky-later", editor)  # its step 1 used the budget
    room = rooms.get("panicky-later")
    assert room is not None

    def panicking_answer(state_vector: bytes) -> bytes:
        panic()
        return b""

    monkeypatch.setattr(room, "missing_for", panicking_answer)
    await client.send(encode_sync_step1(client.doc.get_state()))
    assert await client.receive_close() == CloseCode.SERVER_ERROR
    assert room.peer_count == 0

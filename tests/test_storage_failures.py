"""A room keeps every edit while the database fails, says so, and learns of deletions.

The outage here makes the store's calls fail as an unreachable database makes them
fail; the end-to-end suite (``tests/e2e/test_storage_outage.py``) takes real databases
away from a real server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from channels.layers import BaseChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.contrib.auth.models import User
from django.db import connection
from django.db.utils import OperationalError
from pycrdt import Doc, Text

from collab import store, update_log
from collab.close_codes import CloseCode
from collab.models import Document, DocumentUpdate
from collab.protocol import AwarenessUpdate, Message
from collab.registry import RoomRegistry
from collab.room import STORAGE_FAILING, Room
from tests.e2e.server import ROOT
from tests.stored import stored_text, wait_for_stored_text
from tests.test_relay import eventually, open_room
from tests.ws import Client, RecordingPeer, connected

pytestmark = pytest.mark.django_db(transaction=True)

RETRY_DELAY = 0.05


class Outage:
    """While ``down``, every write and existence check of the store fails."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.down = False
        self.failed_writes = 0
        real_append, real_exists = store.append_updates, store.document_exists

        def append_updates(document_id: int, updates: list[bytes], authors: list[int]) -> int:
            if self.down:
                self.failed_writes += 1
                raise OperationalError("connection refused")
            return real_append(document_id, updates, authors)

        def document_exists(document_id: int) -> bool:
            if self.down:
                raise OperationalError("connection refused")
            return real_exists(document_id)

        monkeypatch.setattr(store, "append_updates", append_updates)
        monkeypatch.setattr(store, "document_exists", document_exists)

    async def failed_writes_reach(self, count: int) -> None:
        await eventually(lambda: self.failed_writes >= count)


@pytest.fixture
def outage(monkeypatch: pytest.MonkeyPatch) -> Outage:
    monkeypatch.setattr(update_log, "RETRY_DELAY", RETRY_DELAY)
    return Outage(monkeypatch)


def server_states(messages: list[Message], server_id: int) -> list[object]:
    """The server's presence states in ``messages``, in order."""
    return [
        entry.state
        for message in messages
        if isinstance(message, AwarenessUpdate)
        for entry in message.entries
        if entry.client_id == server_id
    ]


async def receive_server_state(client: Client, server_id: int) -> object:
    """Skip frames until one carries the server's presence state; return that state."""
    while not (states := server_states([await client.receive()], server_id)):
        pass
    return states[-1]


async def test_edits_made_while_the_database_is_down_are_all_stored(
    editor: User, rooms: RoomRegistry, outage: Outage
) -> None:
    """The batch whose write failed is kept although the existence check failed too.

    Later batches depend on it: without it they would be stored but never shown.
    """
    client = await connected("outage", editor)
    outage.down = True
    await client.edit("first ")
    await outage.failed_writes_reach(2)
    await client.edit("second")
    await outage.failed_writes_reach(4)
    outage.down = False
    await wait_for_stored_text("outage", "first second", within=2)
    await client.disconnect()


async def test_a_room_that_cannot_store_says_so_until_it_can(
    editor: User, rooms: RoomRegistry, outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    """One ERROR line (not one per retry), the server's presence state to every client
    (also to one that joins meanwhile), and a WARNING and a cleared state on recovery."""
    writer = await connected("says-so", editor)
    room = rooms.get("says-so")
    assert room is not None
    server_id = room.doc.client_id
    caplog.set_level(logging.INFO, logger="collab.update_log")
    outage.down = True
    await writer.edit("kept")
    assert await receive_server_state(writer, server_id) == STORAGE_FAILING
    assert room.storage_failing
    await outage.failed_writes_reach(5)
    joining = Client("says-so", editor)
    assert server_states(await joining.connect(), server_id) == [STORAGE_FAILING]

    outage.down = False
    assert await receive_server_state(writer, server_id) is None
    assert await receive_server_state(joining, server_id) is None
    assert not room.storage_failing
    await wait_for_stored_text("says-so", "kept")
    room_lines = [record for record in caplog.records if record.name == "collab.update_log"]
    assert [record.levelname for record in room_lines] == ["ERROR", "WARNING"]
    assert "'says-so'" in room_lines[0].getMessage()
    assert "works again" in room_lines[1].getMessage()
    await writer.disconnect()
    await joining.disconnect()


async def test_a_long_outage_is_logged_and_renewed_at_intervals(
    editor: User,
    rooms: RoomRegistry,
    outage: Outage,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    """Stock clients drop a presence state not renewed for 30 s: it is renewed (on the
    keepalive beat) while the outage lasts, and the ERROR line comes again now and then."""
    monkeypatch.setattr(update_log, "FAILURE_LOG_INTERVAL", 0.2)
    settings.COLLAB = {**settings.COLLAB, "KEEPALIVE_INTERVAL": 0.4}
    writer = await connected("long-outage", editor)
    room = rooms.get("long-outage")
    assert room is not None
    outage.down = True
    await writer.edit("kept")
    for _ in range(6):  # renewed every KEEPALIVE_INTERVAL / 4: over 0.5 s
        assert await receive_server_state(writer, room.doc.client_id) == STORAGE_FAILING
    outage.down = False
    while (state := await receive_server_state(writer, room.doc.client_id)) == STORAGE_FAILING:
        pass  # a renewal sent before the next retry stored the edit
    assert state is None
    errors = [record for record in caplog.records if record.levelname == "ERROR"]
    assert 2 <= len(errors) < outage.failed_writes
    await wait_for_stored_text("long-outage", "kept")
    await writer.disconnect()


async def test_a_cancelled_write_keeps_its_batch(
    rooms: RoomRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelling a flush while its write is under way leaves the batch pending.

    The write may still finish in the database thread: the batch is then stored twice,
    which the log tolerates.
    """
    document = await Document.objects.acreate(key="cancelled")
    room = await rooms.join("cancelled", document.pk, RecordingPeer())
    room.doc.get("content", type=Text).insert(0, "kept")
    room.log.pending.append(room.doc.get_update())
    writing, release = threading.Event(), threading.Event()
    real_append = store.append_updates

    def held_append(document_id: int, updates: list[bytes], authors: list[int]) -> int:
        writing.set()
        release.wait(5)
        return real_append(document_id, updates, authors)

    monkeypatch.setattr(store, "append_updates", held_append)
    flushing = asyncio.ensure_future(room.flush())
    assert await asyncio.to_thread(writing.wait, 5)
    flushing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await flushing
    assert room.log.pending
    release.set()
    await room.flush()
    await wait_for_stored_text("cancelled", "kept")


async def test_the_server_presence_state_reaches_other_processes(redis_url: str) -> None:
    """Rooms of the document in other processes relay it, to joining clients too."""
    layer: BaseChannelLayer = RedisPubSubChannelLayer(hosts=[redis_url])
    failing, other = await open_room("relayed", layer), await open_room("relayed", layer)
    watcher = RecordingPeer()
    other.add_peer(watcher)
    server_id = failing.doc.client_id
    try:
        failing.set_server_presence(STORAGE_FAILING)
        await eventually(lambda: server_states(watcher.messages(), server_id) == [STORAGE_FAILING])
        joining = RecordingPeer()
        other.add_peer(joining)
        assert server_states(joining.messages(), server_id) == [STORAGE_FAILING]
        failing.set_server_presence(None)
        await eventually(lambda: server_states(watcher.messages(), server_id)[-1:] == [None])
    finally:
        for room in (failing, other):
            await room.close()
        await layer.flush()


def delete_in_another_process(key: str) -> None:
    """Delete document ``key`` from a separate Django process on the in-memory layer.

    Its deletion signal closes sessions in that process only, as a shell or a
    management command would.
    """
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    env.pop("REDIS_URL", None)
    if "DATABASE_URL" in env:
        test_database = f"/{connection.settings_dict['NAME']}"
        env["DATABASE_URL"] = urlsplit(env["DATABASE_URL"])._replace(path=test_database).geturl()
    script = (
        "import django, sys; django.setup(); from collab.models import Document; "
        "assert Document.objects.filter(key=sys.argv[1]).delete()[0]"
    )
    subprocess.run([sys.executable, "-c", script, key], env=env, cwd=ROOT, check=True)


async def test_a_document_deleted_elsewhere_closes_its_connections_with_4410(
    editor: User, rooms: RoomRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    """The failed write finds the document gone: its edits have nowhere to go, and
    the clients are told instead of editing on in vain."""
    client = await connected("deleted-elsewhere", editor)
    await client.edit("stored")
    await wait_for_stored_text("deleted-elsewhere", "stored")
    await asyncio.to_thread(delete_in_another_process, "deleted-elsewhere")
    await client.edit(" and dropped")
    assert await client.receive_close() == CloseCode.DOCUMENT_DELETED
    assert "'deleted-elsewhere' no longer exists" in caplog.text
    assert not await DocumentUpdate.objects.aexists()


@pytest.fixture
def exiting_room(editor: User) -> Iterator[Room]:
    """A room with an unstored edit, as the process exits (no event loop runs)."""
    document = Document.objects.create(key="exiting")
    room = Room("exiting", document.pk)
    writer: Doc[Text] = Doc()
    writer.get("content", type=Text).insert(0, "last words")
    room.log.pending.append(writer.get_update())
    update_log._exit_deadline.cache_clear()
    yield room
    update_log._exit_deadline.cache_clear()


def test_storing_at_exit_retries_while_the_database_fails(
    exiting_room: Room, outage: Outage
) -> None:
    outage.down = True
    threading.Timer(0.3, setattr, (outage, "down", False)).start()
    exiting_room.store_pending_now()
    assert outage.failed_writes >= 2
    assert stored_text("exiting") == "last words"


def test_storing_at_exit_gives_up_at_the_deadline(
    exiting_room: Room, outage: Outage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(update_log, "EXIT_RETRY_TIMEOUT", 0.2)
    outage.down = True
    with pytest.raises(OperationalError):
        exiting_room.store_pending_now()
    assert outage.failed_writes >= 2
    assert exiting_room.log.pending


def test_storing_at_exit_drops_the_edits_of_a_deleted_document(exiting_room: Room) -> None:
    Document.objects.filter(pk=exiting_room.document_id).delete()
    exiting_room.store_pending_now()
    assert not exiting_room.log.pending

"""The server-side document API, versions, signals, presence and deletion."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from django.contrib.auth.models import User
from django.db import transaction
from django.dispatch import Signal
from django.test import override_settings
from pycrdt import Text

from collab import documents, presence, signals, store, versions
from collab.close_codes import CloseCode
from collab.models import Document, DocumentSnapshot
from collab.protocol import SyncUpdate
from collab.registry import RoomRegistry
from collab.relay import Relay
from collab.relay_hub import RelayHub
from collab.room import Room
from tests.stored import wait_for_stored_text
from tests.ws import connected

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def received() -> Iterator[Callable[[Signal], list[dict[str, Any]]]]:
    """Record what a signal is sent with: ``received(signal)`` returns its list."""
    connections: list[tuple[Signal, Callable[..., None]]] = []

    def record(signal: Signal) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = []

        def receiver(sender: object, **kwargs: Any) -> None:
            calls.append({"sender": sender, **kwargs})

        signal.connect(receiver, weak=False)
        connections.append((signal, receiver))
        return calls

    yield record
    for signal, receiver in connections:
        signal.disconnect(receiver)


async def until(check: Callable[[], bool], within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def test_edit_from_sync_code_creates_stores_and_reads(editor: User) -> None:
    with documents.edit("notes", user=editor) as doc:
        doc.get("content", type=Text).insert(0, "from the shell")
    assert documents.read_text("notes") == "from the shell"
    assert documents.read_json("notes") == {"content": "from the shell"}
    assert DocumentSnapshot.objects.get().authors == [editor.pk]


def test_read_of_a_missing_document_raises() -> None:
    with pytest.raises(Exception, match="missing"):
        documents.read("missing")
    with pytest.raises(Exception, match="missing"), documents.edit("missing", create=False):
        pass


async def test_api_edit_reaches_connected_clients_and_signals_who(
    editor: User, rooms: RoomRegistry, received: Callable[[Signal], list[dict[str, Any]]]
) -> None:
    changed = received(signals.document_changed)
    client = await connected("live", editor)
    with override_settings(COLLAB={"CHANGE_SIGNAL_DELAY": 0.05}):
        async with documents.aedit("live", user=editor) as doc:
            doc.get("content", type=Text).insert(0, "server says hi")
        update = await client.receive()
        assert isinstance(update, SyncUpdate)
        client.apply(update)
        assert str(client.text) == "server says hi"
        await wait_for_stored_text("live", "server says hi")
        await until(lambda: bool(changed))
    assert changed[0]["key"] == "live"
    assert changed[0]["user_ids"] == {editor.pk}
    assert changed[0]["sender"] is Document
    await client.disconnect()


async def test_restoring_a_version_is_a_live_forward_edit(
    editor: User, rooms: RoomRegistry
) -> None:
    client = await connected("history", editor)
    await client.edit("first draft")
    await wait_for_stored_text("history", "first draft")
    document = await Document.objects.aget(key="history")
    version = await database_sync_to_async(versions.create_version)(document, "v1", user=editor)
    assert version.name == "v1"
    assert version.created_by_id == editor.pk
    await client.edit(", then more")
    await wait_for_stored_text("history", "first draft, then more")

    await database_sync_to_async(versions.restore_version)(version, user=editor)
    client.apply(await client.receive())
    assert str(client.text) == "first draft"
    await wait_for_stored_text("history", "first draft")
    assert await DocumentSnapshot.objects.filter(name="v1").aexists()
    await client.disconnect()


def test_named_versions_outlive_retention(editor: User) -> None:
    document = store.create_document("kept")
    with override_settings(COLLAB={"SNAPSHOT_RETENTION": 1}):
        for word in ("one", "two", "three"):
            with documents.edit("kept") as doc:
                doc.get("content", type=Text).insert(0, word)
            if word == "one":
                versions.create_version(document, "first", user=editor)
            store.compact(document.pk)
    names = sorted(
        DocumentSnapshot.objects.filter(document=document).values_list("name", flat=True)
    )
    assert names == ["", "first"]


async def test_created_and_deleted_signals_and_sessions_closed(
    editor: User, rooms: RoomRegistry, received: Callable[[Signal], list[dict[str, Any]]]
) -> None:
    created = received(signals.document_created)
    deleted = received(signals.document_deleted)
    client = await connected("doomed", editor)
    assert [call["document"].key for call in created] == ["doomed"]
    await client.edit("unsaved?")
    await Document.objects.filter(key="doomed").adelete()
    assert await client.receive_close() == CloseCode.DOCUMENT_DELETED
    assert [call["document"].key for call in deleted] == ["doomed"]
    assert rooms.get("doomed") is None
    await asyncio.sleep(0.1)
    assert not await Document.objects.filter(key="doomed").aexists()


async def test_presence_shows_who_is_connected(editor: User, rooms: RoomRegistry) -> None:
    client = await connected("busy", editor)
    document = await Document.objects.aget(key="busy")
    live = database_sync_to_async(presence.live_presence)
    deadline = time.monotonic() + 3
    while (rows := await live([document.pk])) != {document.pk: (1, [editor.pk])}:
        assert time.monotonic() < deadline, rows
        await asyncio.sleep(0.05)
    await client.disconnect()
    while await live([document.pk]):
        assert time.monotonic() < deadline + 3
        await asyncio.sleep(0.05)


async def test_api_edit_reaches_another_process(
    redis_url: str, rooms: RoomRegistry, editor: User
) -> None:
    layers = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url]},
        }
    }
    with override_settings(CHANNEL_LAYERS=layers):
        channel_layers.backends.clear()
        document = await database_sync_to_async(store.create_document)("far")
        elsewhere = Room("far", document.pk)
        await elsewhere.load()

        async def ignore_close(code: CloseCode) -> None:
            raise AssertionError(code)

        elsewhere.relay = Relay(elsewhere, RelayHub(channel_layers["default"]), ignore_close)
        await elsewhere.relay.start()
        async with documents.aedit("far", user=editor) as doc:
            doc.get("content", type=Text).insert(0, "across processes")
        await until(lambda: str(elsewhere.doc.get("content", type=Text)) == "across processes")
        await elsewhere.relay.stop()
        await elsewhere.close()
        channel_layers.backends.clear()


def test_every_new_document_is_announced_once_and_only_a_committed_deletion(
    received: Callable[[Signal], list[dict[str, Any]]],
) -> None:
    """``document_created`` comes from one place, whatever saves the document;
    ``document_deleted`` only once the deleting transaction committed."""
    created = received(signals.document_created)
    deleted = received(signals.document_deleted)
    document = Document.objects.create(key="by-the-orm")
    document.save()
    store.get_or_create_document("by-the-store")
    store.get_or_create_document("by-the-store")
    assert [(c["sender"], c["document"].key) for c in created] == [
        (Document, "by-the-orm"),
        (Document, "by-the-store"),
    ]
    with transaction.atomic():
        document.delete()
        transaction.set_rollback(True)
    assert deleted == []
    assert Document.objects.filter(key="by-the-orm").exists()
    with transaction.atomic():
        Document.objects.get(key="by-the-orm").delete()
        assert deleted == []
    assert [(c["sender"], c["document"].key) for c in deleted] == [(Document, "by-the-orm")]

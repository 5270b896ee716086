"""Room lifecycle: one load per document, safe failure, batched writes, unloading."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.db.utils import OperationalError
from django.test import override_settings
from pycrdt import Text

from collab import keepalive, presence, store
from collab.close_codes import CloseCode
from collab.exceptions import DocumentLoadError
from collab.models import Document, DocumentPresence, DocumentUpdate
from collab.presence import PRESENCE_DEBOUNCE
from collab.registry import RoomRegistry
from tests.stored import stored_text, wait_for_stored_text
from tests.ws import Client, RecordingPeer, connected

pytestmark = pytest.mark.django_db(transaction=True)


async def test_concurrent_joins_share_one_load(
    rooms: RoomRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = await Document.objects.acreate(key="once")
    loads: list[int] = []
    real_load = store.load_updates

    def slow_load(document_id: int) -> list[bytes]:
        loads.append(document_id)
        time.sleep(0.2)
        return real_load(document_id)

    monkeypatch.setattr(store, "load_updates", slow_load)
    peers = [RecordingPeer() for _ in range(5)]
    joined = await asyncio.gather(*(rooms.join("once", document.pk, p) for p in peers))
    assert loads == [document.pk]
    assert len({id(room) for room in joined}) == 1
    assert all(len(p.frames) == 1 for p in peers)


async def test_failed_load_refuses_connections_and_keeps_stored_data(
    editor: User, rooms: RoomRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = await connected("precious", editor)
    await writer.edit("stored text")
    await wait_for_stored_text("precious", "stored text")
    await writer.disconnect()
    await rooms.close_all()

    def broken_load(document_id: int) -> list[bytes]:
        raise OperationalError("database is down")

    monkeypatch.setattr(store, "load_updates", broken_load)
    assert await Client("precious", editor).refused_with() == CloseCode.SERVER_ERROR
    assert rooms.get("precious") is None

    monkeypatch.undo()
    reader = await connected("precious", editor)
    assert str(reader.text) == "stored text"
    await reader.disconnect()


async def test_load_error_type(rooms: RoomRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    document = await Document.objects.acreate(key="corrupt")
    monkeypatch.setattr(store, "load_updates", lambda document_id: [b"not a yjs update"])
    with pytest.raises(DocumentLoadError):
        await rooms.join("corrupt", document.pk, RecordingPeer())


async def test_failed_write_is_retried_without_loss(
    editor: User, rooms: RoomRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_append = store.append_updates
    failures = [OperationalError("database is locked")]

    def flaky_append(document_id: int, updates: list[bytes], authors: list[int]) -> int:
        if failures:
            raise failures.pop()
        return real_append(document_id, updates, authors)

    monkeypatch.setattr(store, "append_updates", flaky_append)
    monkeypatch.setattr("collab.update_log.RETRY_DELAY", 0.05)
    client = await connected("retry", editor)
    await client.edit("survives")
    await wait_for_stored_text("retry", "survives", within=2)
    assert not failures
    await client.disconnect()


async def test_updates_are_written_in_batches(editor: User, rooms: RoomRegistry) -> None:
    with override_settings(COLLAB={"FLUSH_INTERVAL": 0.3}):
        client = await connected("batch", editor)
        for char in "keystrokes":
            await client.edit(char)
        await wait_for_stored_text("batch", "keystrokes", within=1)
        assert await DocumentUpdate.objects.acount() == 1
        await client.disconnect()


async def test_log_is_compacted_past_threshold(editor: User, rooms: RoomRegistry) -> None:
    with override_settings(COLLAB={"FLUSH_INTERVAL": 0.01, "COMPACT_AFTER_UPDATES": 3}):
        client = await connected("compact", editor)
        for char in "abcd":
            await client.edit(char)
            await asyncio.sleep(0.05)
        await wait_for_stored_text("compact", "abcd")
        document = await Document.objects.aget(key="compact")
        assert await document.snapshots.acount() >= 1
        assert await DocumentUpdate.objects.filter(document=document).acount() < 3
        await client.disconnect()


async def test_rejoin_during_unload_waits_for_the_final_write(
    rooms: RoomRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = await Document.objects.acreate(key="cycle")
    writing = threading.Event()
    real_append = store.append_updates

    def slow_append(document_id: int, updates: list[bytes], authors: list[int]) -> int:
        writing.set()
        time.sleep(0.3)
        return real_append(document_id, updates, authors)

    monkeypatch.setattr(store, "append_updates", slow_append)
    with override_settings(COLLAB={"FLUSH_INTERVAL": 60, "ROOM_GRACE_PERIOD": 0}):
        first = RecordingPeer()
        room = await rooms.join("cycle", document.pk, first)
        room.doc.get("content", type=Text).insert(0, "unsaved")
        room.log.pending.append(room.doc.get_update())
        await rooms.leave(room, first)
        assert await asyncio.to_thread(writing.wait, 5)
        second = RecordingPeer()
        new_room = await rooms.join("cycle", document.pk, second)
    assert new_room is not room
    assert str(new_room.doc.get("content", type=Text)) == "unsaved"
    assert await database_sync_to_async(stored_text)("cycle") == "unsaved"


async def test_presence_rows_of_idle_rooms_are_refreshed_in_one_query(
    rooms: RoomRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rooms write their row when who is connected changes; the registry refreshes all."""
    documents = [await Document.objects.acreate(key=f"present-{i}") for i in range(3)]
    refreshes: list[str] = []
    real_refresh = presence.refresh_presence

    def counted_refresh(process: str) -> None:
        refreshes.append(process)
        real_refresh(process)

    monkeypatch.setattr(presence, "refresh_presence", counted_refresh)
    with override_settings(COLLAB={"PRESENCE_REFRESH": 0.3}):
        for document in documents:
            await rooms.join(document.key, document.pk, RecordingPeer())
        await asyncio.sleep(1)  # rows written, then refreshed about three times
        live = await database_sync_to_async(presence.live_presence)([d.pk for d in documents])
        assert set(live) == {d.pk for d in documents}
        assert 2 <= len(refreshes) <= 4, "one refresh per interval for all three rooms"
        await rooms.close_all()


async def test_joins_to_many_rooms_are_recorded_in_one_batch(
    rooms: RoomRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reconnect storm writes who is connected once per debounce, not once per room."""
    documents = [await Document.objects.acreate(key=f"storm-{i}") for i in range(20)]
    batches: list[dict[int, list[int | None]]] = []
    real_record = presence.record_presences

    def counted_record(process: str, rows: dict[int, list[int | None]]) -> None:
        batches.append(dict(rows))
        real_record(process, rows)

    monkeypatch.setattr(presence, "record_presences", counted_record)
    for document in documents:
        for _ in range(3):
            await rooms.join(document.key, document.pk, RecordingPeer())
    await asyncio.sleep(PRESENCE_DEBOUNCE + 0.5)
    assert len(batches) == 1
    assert batches[0] == {document.pk: [None, None, None] for document in documents}
    live = await database_sync_to_async(presence.live_presence)([d.pk for d in documents])
    assert live == {document.pk: (3, []) for document in documents}
    await rooms.close_all()
    assert not await DocumentPresence.objects.filter(document__in=documents).aexists()


def test_a_document_deleted_meanwhile_does_not_lose_the_other_rows(editor: User) -> None:
    kept, deleted = Document.objects.create(key="kept"), Document.objects.create(key="gone")
    gone_pk = deleted.pk
    deleted.delete()
    presence.record_presences("process-a", {kept.pk: [editor.pk], gone_pk: [None]})
    assert presence.live_presence([kept.pk, gone_pk]) == {kept.pk: (1, [editor.pk])}


class SilentPeer(RecordingPeer):
    """A connection sent nothing for ages, whose frames go out when the loop next runs."""

    waiting = 0
    most_waiting = 0

    def idle_for(self) -> float:
        return 3600.0

    def send_frame(self, frame: bytes) -> None:
        super().send_frame(frame)
        SilentPeer.waiting += 1
        SilentPeer.most_waiting = max(SilentPeer.most_waiting, SilentPeer.waiting)
        asyncio.get_running_loop().call_soon(self._sent)

    @staticmethod
    def _sent() -> None:
        SilentPeer.waiting -= 1


class AnyRoom:
    """A room every connection is in, for the keepalive schedule alone."""

    def has_peer(self, peer: object) -> bool:
        return True


async def test_keepalive_frames_go_out_a_batch_at_a_time() -> None:
    """Thousands of frames queued at once outlived young garbage collections: an idle
    process with 10,000 open documents ran a full collection every minute or so."""
    schedule = keepalive.KeepaliveSchedule()
    room = AnyRoom()
    peers = [SilentPeer() for _ in range(300)]
    for peer in peers:
        schedule.watch(room, peer)  # type: ignore[arg-type]
    SilentPeer.waiting = SilentPeer.most_waiting = 0
    assert await schedule.beat() == 300
    assert SilentPeer.most_waiting == keepalive.KEEPALIVE_BATCH


async def test_a_document_its_handshake_created_is_not_read_from_the_store(
    editor: User, rooms: RoomRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is stored for it. In a reconnect storm of new documents each of those
    reads was a write-locking transaction on SQLite, which other handshakes waited for."""
    loads: list[int] = []
    real_load = store.load_updates

    def counted_load(document_id: int) -> list[bytes]:
        loads.append(document_id)
        return real_load(document_id)

    monkeypatch.setattr(store, "load_updates", counted_load)
    alice = await connected("born-now", editor)
    await alice.edit("typed")
    bob = await connected("born-now", editor)
    assert str(bob.text) == "typed"
    assert loads == []
    await alice.disconnect()
    await bob.disconnect()
    await wait_for_stored_text("born-now", "typed")
    await rooms.unload_now("born-now")
    assert rooms.get("born-now") is None
    loads.clear()
    carol = await connected("born-now", editor)
    assert str(carol.text) == "typed"
    assert len(loads) == 1
    await carol.disconnect()


class BusyPeer(RecordingPeer):
    """A connection that was always just sent something; counts how often it is asked."""

    asked = 0

    def idle_for(self) -> float:
        BusyPeer.asked += 1
        return 0.0


async def test_a_connection_is_checked_for_keepalive_once_per_interval(
    rooms: RoomRegistry,
) -> None:
    """Not on every beat: checking every connection of every room eight times per interval
    was the last cost an idle process paid per open document (at 10,000 documents, a
    fifth of its busy time)."""
    documents = 20
    with override_settings(COLLAB={"KEEPALIVE_INTERVAL": 0.8}):
        for n in range(documents):
            document = await Document.objects.acreate(key=f"busy-{n}")
            await rooms.join(document.key, document.pk, BusyPeer())
        BusyPeer.asked = 0
        await asyncio.sleep(1.6)  # two intervals, sixteen beats
    assert BusyPeer.asked <= documents * 3

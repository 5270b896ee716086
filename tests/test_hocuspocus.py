"""The Hocuspocus route: many documents on one socket, each authorized on its own."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.contrib.auth.models import Permission, User
from django.test import override_settings

from collab import hocuspocus, signals
from collab.close_codes import CloseCode
from collab.hocuspocus import MAX_HELD_FRAMES, MAX_PENDING_DOCUMENTS, send_stateless
from collab.hocuspocus_protocol import HocuspocusType
from collab.models import Document
from collab.permissions import Access
from collab.protocol import AwarenessUpdate, Reader, encode_awareness, encode_update
from collab.registry import RoomRegistry
from collab.tokens import make_token
from tests.hocuspocus_client import AUTHENTICATED, PERMISSION_DENIED, HocuspocusSocket, string
from tests.stored import wait_for_stored_text
from tests.test_identity import logged_in_cookie
from tests.ws import connected

pytestmark = pytest.mark.django_db(transaction=True)

AWARENESS = encode_awareness(b"\x01\x07\x01" + string('{"user":"ann"}'))


def auth_answer(received_body: bytes) -> tuple[int, str]:
    """The sub-type and string of an auth frame's body."""
    reader = Reader(received_body[1:])
    return reader.var_uint(), reader.var_string()


async def opened(socket: HocuspocusSocket, address: str, token: str = "") -> str:
    """Open ``address`` on ``socket``, sync it, and return the access it was given."""
    await socket.open(address, token)
    answer = await socket.receive()
    assert (answer.address, answer.type) == (address, HocuspocusType.AUTH), answer
    kind, scope = auth_answer(answer.body)
    assert kind == AUTHENTICATED, scope
    await socket.synced(address)
    return scope


async def test_an_editor_edits_and_a_y_websocket_client_of_the_same_room_sees_it(
    editor: User, rooms: RoomRegistry
) -> None:
    socket = HocuspocusSocket(editor)
    await socket.connect()
    assert await opened(socket, "shared") == "read-write"
    other = await connected("shared", editor)
    await socket.edit("shared", "from tiptap")
    assert (await socket.receive()).type is HocuspocusType.SYNC_STATUS
    other.apply(await other.receive())
    assert str(other.text) == "from tiptap"
    await other.edit(" and y-websocket")
    received = await socket.receive()
    socket.replicas["shared"].doc.apply_update(received.message.update)  # type: ignore[union-attr]
    assert str(socket.replicas["shared"].text) == "from tiptap and y-websocket"
    await wait_for_stored_text("shared", "from tiptap and y-websocket")
    await socket.disconnect()
    await other.disconnect()


async def test_three_documents_share_one_socket(editor: User, rooms: RoomRegistry) -> None:
    socket = HocuspocusSocket(editor)
    await socket.connect()
    for name in ("one", "two", "three"):
        await opened(socket, name)
    for name in ("one", "two", "three"):
        await socket.edit(name, f"text of {name}")
    statuses = [await socket.receive() for _ in range(3)]
    assert {(s.address, s.type) for s in statuses} == {
        (name, HocuspocusType.SYNC_STATUS) for name in ("one", "two", "three")
    }
    for name in ("one", "two", "three"):
        await wait_for_stored_text(name, f"text of {name}")
    await socket.disconnect()


async def test_a_reader_is_told_readonly_and_its_change_is_not_applied(
    editor: User, reader: User, rooms: RoomRegistry
) -> None:
    owner = await connected("kept", editor)
    await owner.edit("original")
    socket = HocuspocusSocket(reader)
    await socket.connect()
    assert await opened(socket, "kept") == "readonly"
    assert str(socket.replicas["kept"].text) == "original"
    await socket.edit("kept", " vandalised")
    status = await socket.receive()
    assert status.type is HocuspocusType.SYNC_STATUS
    assert status.body == bytes((8, 0))
    await wait_for_stored_text("kept", "original")
    await socket.disconnect()
    await owner.disconnect()


async def test_a_bad_token_is_denied_with_a_reason_and_the_socket_stays_open(
    editor: User, outsider: User, rooms: RoomRegistry
) -> None:
    socket = HocuspocusSocket()
    await socket.connect()
    await socket.open("secret", token="not-a-token")
    answer = await socket.receive()
    kind, reason = auth_answer(answer.body)
    assert (answer.address, kind) == ("secret", PERMISSION_DENIED)
    assert reason.startswith("4401 NOT_AUTHENTICATED")
    assert await opened(socket, "open-one", make_token(editor)) == "read-write"
    await socket.open("other-doc", make_token(editor, keys=["open-one"]))
    kind, reason = auth_answer((await socket.receive()).body)
    assert kind == PERMISSION_DENIED
    assert reason.startswith("4403 FORBIDDEN")
    await socket.edit("open-one", "still works")
    assert (await socket.receive()).type is HocuspocusType.SYNC_STATUS
    await socket.disconnect()


async def test_a_read_only_token_narrows_an_editor(editor: User, rooms: RoomRegistry) -> None:
    """A read-only token cannot create the document either."""
    socket = HocuspocusSocket()
    await socket.connect()
    await socket.open("narrow", make_token(editor, read_only=True))
    kind, reason = auth_answer((await socket.receive()).body)
    assert kind == PERMISSION_DENIED
    assert reason.startswith("4404 NOT_FOUND")
    assert await opened(socket, "narrow", make_token(editor)) == "read-write"
    await socket.disconnect()
    socket = HocuspocusSocket()
    await socket.connect()
    assert await opened(socket, "narrow", make_token(editor, read_only=True)) == "readonly"
    await socket.disconnect()


async def test_a_client_close_detaches_one_document_only(editor: User, rooms: RoomRegistry) -> None:
    socket = HocuspocusSocket(editor)
    await socket.connect()
    await opened(socket, "left")
    await opened(socket, "stays")
    await socket.send("left", bytes((HocuspocusType.CLOSE,)))
    await socket.edit("stays", "here")
    assert (await socket.receive()).address == "stays"
    for _ in range(50):
        room = rooms.get("left")
        if room is None or room.peer_count == 0:
            break
        await asyncio.sleep(0.02)
    assert rooms.get("left") is None or rooms.get("left").peer_count == 0  # type: ignore[union-attr]
    assert rooms.get("stays").peer_count == 1  # type: ignore[union-attr]
    await socket.disconnect()


async def test_presence_crosses_protocols(editor: User, rooms: RoomRegistry) -> None:
    socket = HocuspocusSocket(editor)
    await socket.connect()
    await opened(socket, "cursors")
    other = await connected("cursors", editor)
    await socket.send("cursors", AWARENESS)
    message = await other.receive()
    assert isinstance(message, AwarenessUpdate)
    assert message.entries[0].state == {"user": "ann"}
    await socket.disconnect()
    await other.disconnect()


async def test_a_deleted_document_is_closed_for_that_document_only(
    editor: User, rooms: RoomRegistry
) -> None:
    socket = HocuspocusSocket(editor)
    await socket.connect()
    await opened(socket, "doomed")
    await opened(socket, "survivor")
    await database_sync_to_async(lambda: Document.objects.get(key="doomed").delete())()
    closed = await socket.receive(timeout=5)
    assert (closed.address, closed.type) == ("doomed", HocuspocusType.CLOSE)
    assert closed.text.startswith("4410")
    await socket.edit("survivor", "alive")
    assert (await socket.receive()).type is HocuspocusType.SYNC_STATUS
    await socket.disconnect()


async def test_a_malformed_frame_closes_the_socket_and_changes_nothing(
    editor: User, rooms: RoomRegistry
) -> None:
    socket = HocuspocusSocket(editor)
    await socket.connect()
    await opened(socket, "intact")
    await socket.send("intact", encode_update(b"\xff\xff\xff"))
    assert await socket.receive_close() == CloseCode.MALFORMED_FRAME
    await wait_for_stored_text("intact", "")


@pytest.mark.parametrize(
    "frame",
    [b"\x05ab", b"\x02ab\x06", b"\x02ab\x04", b"\x02ab\x0b", b"\x01"],
    ids=["truncated-address", "broadcast-stateless", "sync-reply", "unknown-type", "empty"],
)
async def test_frames_a_client_may_not_send_close_with_4400(
    editor: User, rooms: RoomRegistry, frame: bytes
) -> None:
    socket = HocuspocusSocket(editor)
    await socket.connect()
    await socket.communicator.send_to(bytes_data=frame)
    assert await socket.receive_close() == CloseCode.MALFORMED_FRAME


async def test_a_text_frame_closes_with_4415(editor: User, rooms: RoomRegistry) -> None:
    socket = HocuspocusSocket(editor)
    await socket.connect()
    await socket.communicator.send_to(text_data="hello")
    assert await socket.receive_close() == CloseCode.UNSUPPORTED_DATA


async def test_frames_held_before_authorization_are_bounded(
    editor: User, rooms: RoomRegistry
) -> None:
    socket = HocuspocusSocket(editor)
    await socket.connect()
    for _ in range(MAX_HELD_FRAMES + 1):
        await socket.send("never-authed", AWARENESS)
    assert await socket.receive_close() == CloseCode.QUOTA_EXCEEDED


async def test_stateless_messages_reach_the_project_and_the_server_can_answer(
    editor: User, rooms: RoomRegistry
) -> None:
    received: list[tuple[str, int | None, str]] = []

    async def answer(key: str, payload: str) -> None:
        send_stateless(key, payload)

    def receiver(sender: object, key: str, user_id: int | None, payload: str, **_: object) -> None:
        """As the docs show: a receiver answers through ``async_to_sync``."""
        received.append((key, user_id, payload))
        async_to_sync(answer)(key, f"seen: {payload}")

    signals.stateless_received.connect(receiver)
    try:
        socket = HocuspocusSocket(editor)
        await socket.connect()
        await opened(socket, "chatty")
        await socket.send("chatty", bytes((HocuspocusType.STATELESS,)) + string("hello"))
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.02)
        assert received == [("chatty", editor.pk, "hello")]
        seen = await socket.receive()
        assert (seen.type, seen.text) == (HocuspocusType.STATELESS, "seen: hello")
        assert send_stateless("chatty", "welcome") == 1
        welcome = await socket.receive()
        assert (welcome.type, welcome.text) == (HocuspocusType.STATELESS, "welcome")
        await socket.disconnect()
    finally:
        signals.stateless_received.disconnect(receiver)


async def test_a_downgrade_is_announced_and_a_revocation_closes_the_document(
    editor: User, rooms: RoomRegistry
) -> None:
    socket = HocuspocusSocket(editor)
    await socket.connect()
    await opened(socket, "revoked")
    await opened(socket, "other")
    await database_sync_to_async(
        lambda: editor.user_permissions.remove(
            Permission.objects.get(content_type__app_label="collab", codename="change_document")
        )
    )()
    announced = [await socket.receive(timeout=5) for _ in range(2)]
    assert {a.address for a in announced} == {"revoked", "other"}
    assert {auth_answer(a.body) for a in announced} == {(AUTHENTICATED, "readonly")}
    await socket.edit("revoked", "dropped")
    assert (await socket.receive()).body == bytes((HocuspocusType.SYNC_STATUS, 0))
    await database_sync_to_async(editor.user_permissions.clear)()
    closes = {(await socket.receive(timeout=5)).address for _ in range(2)}
    assert closes == {"revoked", "other"}
    await wait_for_stored_text("revoked", "")
    await socket.disconnect()


async def test_an_invalid_name_or_a_cookie_from_another_origin_is_denied(
    editor: User, rooms: RoomRegistry
) -> None:
    cookie = await database_sync_to_async(logged_in_cookie)(editor)
    socket = HocuspocusSocket(cookie=cookie)
    socket.communicator.scope["headers"].append((b"origin", b"http://other.example"))
    await socket.connect()
    await socket.open("bad name!")
    assert auth_answer((await socket.receive()).body)[1].startswith("4404 NOT_FOUND")
    await socket.open("fine")
    assert auth_answer((await socket.receive()).body)[1].startswith("4412 UNTRUSTED_ORIGIN")
    assert await opened(socket, "fine", make_token(editor)) == "read-write"
    await socket.disconnect()


async def test_documents_awaiting_authorization_are_bounded(
    editor: User, rooms: RoomRegistry
) -> None:
    socket = HocuspocusSocket(editor)
    await socket.connect()
    for number in range(MAX_PENDING_DOCUMENTS + 1):
        await socket.send(f"pending-{number}", AWARENESS)
    assert await socket.receive_close() == CloseCode.QUOTA_EXCEEDED


@override_settings(COLLAB={"KEEPALIVE_INTERVAL": 0.2})
async def test_an_idle_socket_without_documents_is_pinged(
    editor: User, rooms: RoomRegistry
) -> None:
    socket = HocuspocusSocket(editor)
    await socket.connect()
    assert await socket.communicator.receive_from(1) == bytes((HocuspocusType.PING,))
    await socket.communicator.send_to(bytes_data=bytes((HocuspocusType.PONG,)))
    assert await socket.communicator.receive_from(1) == bytes((HocuspocusType.PING,))
    await socket.disconnect()


async def test_a_shutdown_stores_every_document_and_closes_with_4503(
    editor: User, rooms: RoomRegistry
) -> None:
    with override_settings(COLLAB={"FLUSH_INTERVAL": 60.0}):
        socket = HocuspocusSocket(editor)
        await socket.connect()
        for name in ("first", "second"):
            await opened(socket, name)
            await socket.edit(name, f"{name} edit")
            assert (await socket.receive()).type is HocuspocusType.SYNC_STATUS
        socket.communicator.future.cancel()
        assert await socket.receive_close() == CloseCode.GOING_AWAY
        for name in ("first", "second"):
            await wait_for_stored_text(name, f"{name} edit")


def failing_policy(user: object, key: str, document: object) -> Access:
    """A permission policy that fails for one document."""
    if key == "broken":
        raise RuntimeError("the policy failed")
    return Access.EDIT


async def test_a_server_error_while_authorizing_closes_the_socket_with_4500(
    editor: User, rooms: RoomRegistry
) -> None:
    """Providers reconnect after a socket close, and retry; a denial would be final."""
    with override_settings(COLLAB={"PERMISSION_POLICY": f"{__name__}.failing_policy"}):
        socket = HocuspocusSocket(editor)
        await socket.connect()
        await opened(socket, "fine")
        await socket.open("broken")
        assert await socket.receive_close() == CloseCode.SERVER_ERROR
    assert rooms.get("fine") is None or rooms.get("fine").peer_count == 0  # type: ignore[union-attr]


async def test_a_document_over_the_quota_is_denied_and_the_others_stay(
    editor: User, rooms: RoomRegistry
) -> None:
    with override_settings(COLLAB={"MAX_DOCUMENTS_PER_USER": 1, "QUOTA_CLOSE_DELAY": 0}):
        socket = HocuspocusSocket(editor)
        await socket.connect()
        await opened(socket, "first-one")
        await socket.open("second-one")
        kind, reason = auth_answer((await socket.receive()).body)
        assert kind == PERMISSION_DENIED
        assert reason.startswith("4409 QUOTA_EXCEEDED")
        await socket.edit("first-one", "still open")
        assert (await socket.receive()).type is HocuspocusType.SYNC_STATUS
        await socket.disconnect()


async def test_session_awareness_addresses_share_the_document(
    editor: User, rooms: RoomRegistry
) -> None:
    """``sessionAwareness`` providers address ``name\\0session``: two of them, one room."""
    socket = HocuspocusSocket(editor)
    await socket.connect()
    await opened(socket, "shared-doc\0tab-one")
    await opened(socket, "shared-doc\0tab-two")
    await socket.edit("shared-doc\0tab-one", "typed in tab one")
    received = {(await socket.receive()).address for _ in range(2)}
    assert received == {"shared-doc\0tab-one", "shared-doc\0tab-two"}
    assert rooms.get("shared-doc").peer_count == 2  # type: ignore[union-attr]
    await wait_for_stored_text("shared-doc", "typed in tab one")
    await socket.disconnect()


async def test_held_bytes_are_released_exactly_after_each_authorization(
    editor: User, rooms: RoomRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each document's held frames leave the count whole: it once kept their addresses,
    so a socket that opened enough documents one after the other was closed with 4409."""
    monkeypatch.setattr(hocuspocus, "MAX_HELD_BYTES", 64)
    socket = HocuspocusSocket(editor)
    await socket.connect()
    for number in range(12):
        await opened(socket, f"one-after-another-{number}")
    await socket.edit("one-after-another-0", "still open")
    assert (await socket.receive()).type is HocuspocusType.SYNC_STATUS
    await socket.disconnect()

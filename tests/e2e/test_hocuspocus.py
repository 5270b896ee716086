"""Through real servers: stock ``@hocuspocus/provider`` 4.x clients, as Tiptap uses them.

Every provider here is the npm package's own ``HocuspocusProvider`` on a
``HocuspocusProviderWebsocket`` (one socket for several documents), unchanged.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from collab.tokens import make_token
from tests.e2e.node import Clients
from tests.e2e.test_origins import OTHER_PORT
from tests.stored import wait_until_stored

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["daphne", "uvicorn"])
def server_kind(request: pytest.FixtureRequest) -> str:
    """Both servers."""
    return str(request.param)


def test_two_providers_converge_and_a_late_one_loads(clients: Clients, editor: User) -> None:
    first = clients.open_hocuspocus(clients.hocuspocus_socket(editor), "tiptap")
    second = clients.open_hocuspocus(clients.hocuspocus_socket(editor), "tiptap")
    first.insert(0, "hello from tiptap")
    second.wait_text("hello from tiptap")
    second.insert(17, ", and back")
    first.wait_text("hello from tiptap, and back")
    first.wait(lambda s: s["unsyncedChanges"] == 0, "every change acknowledged")
    wait_until_stored("tiptap", "hello from tiptap, and back", 5.0)
    late = clients.open_hocuspocus(clients.hocuspocus_socket(editor), "tiptap")
    late.wait_text("hello from tiptap, and back")
    assert late.inspect()["scopes"] == ["read-write"]


def test_one_socket_carries_three_documents(clients: Clients, editor: User) -> None:
    socket = clients.hocuspocus_socket(editor)
    providers = {key: clients.open_hocuspocus(socket, key) for key in ("one", "two", "three")}
    for key, provider in providers.items():
        provider.insert(0, f"text of {key}")
    for key, provider in providers.items():
        provider.wait(lambda s: s["unsyncedChanges"] == 0, "acknowledged")
        wait_until_stored(key, f"text of {key}", 5.0)
    assert socket.inspect()["closeCodes"] == []


def test_a_read_only_token_cannot_write(clients: Clients, editor: User) -> None:
    writer = clients.open_hocuspocus(clients.hocuspocus_socket(None), "guarded", make_token(editor))
    writer.insert(0, "kept")
    wait_until_stored("guarded", "kept", 5.0)
    reader_socket = clients.hocuspocus_socket(None, origin=OTHER_PORT)
    reader = clients.open_hocuspocus(reader_socket, "guarded", make_token(editor, read_only=True))
    assert reader.inspect()["scopes"] == ["readonly"]
    reader.wait_text("kept")
    reader.insert(0, "not saved: ")
    writer.insert(4, "!")
    reader.wait(lambda s: "!" in s["text"], "the writer's edit")
    wait_until_stored("guarded", "kept!", 5.0)
    assert "not saved" not in writer.text


def test_a_bad_token_is_denied_with_a_reason(clients: Clients, editor: User) -> None:
    socket = clients.hocuspocus_socket(None)
    denied = clients.open_hocuspocus(socket, "locked", "not-a-token", wait=False)
    snapshot = denied.wait(lambda s: s["denials"], "denial")
    assert snapshot["denials"][0].startswith("4401 NOT_AUTHENTICATED")
    wrong = make_token(editor, keys=["locked"])
    elsewhere = clients.open_hocuspocus(socket, "other", wrong, wait=False)
    snapshot = elsewhere.wait(lambda s: s["denials"], "denial")
    assert snapshot["denials"][0].startswith("4403 FORBIDDEN")
    allowed = clients.open_hocuspocus(socket, "locked", make_token(editor, keys=["locked"]))
    allowed.insert(0, "in")
    wait_until_stored("locked", "in", 5.0)


def test_both_protocols_share_a_room_and_cursors(clients: Clients, editor: User) -> None:
    tiptap = clients.open_hocuspocus(clients.hocuspocus_socket(editor), "mixed")
    plain = clients.open("mixed", editor)
    tiptap.insert(0, "from hocuspocus")
    plain.wait_text("from hocuspocus")
    plain.insert(0, "y-websocket, then ")
    tiptap.wait_text("y-websocket, then from hocuspocus")
    tiptap.set_awareness({"user": {"name": "Tip"}})
    plain.set_awareness({"user": {"name": "Plain"}})
    plain.wait_awareness(tiptap.client_id, {"user": {"name": "Tip"}})
    tiptap.wait_awareness(plain.client_id, {"user": {"name": "Plain"}})


@pytest.mark.parametrize("server", ["tests.e2e.stateless_settings"], indirect=True)
def test_stateless_messages_go_both_ways(clients: Clients, editor: User) -> None:
    provider = clients.open_hocuspocus(clients.hocuspocus_socket(editor), "talk")
    provider.send_stateless("hello")
    provider.wait(lambda s: s["stateless"] == ["echo: hello"], "the server's answer")

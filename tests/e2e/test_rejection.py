"""Connections the server refuses: unauthorised users and frames that break the protocol."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from pycrdt import create_update_message

from collab.close_codes import CloseCode
from collab.conf import conf
from tests.e2e.node import Clients
from tests.e2e.server import ServerProcess
from tests.stored import wait_until_stored

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("user_fixture", "code"),
    [
        pytest.param(None, CloseCode.NOT_AUTHENTICATED, id="anonymous"),
        pytest.param("outsider", CloseCode.FORBIDDEN, id="outsider"),
    ],
)
def test_unauthorised_connection_is_closed(
    clients: Clients, request: pytest.FixtureRequest, user_fixture: str | None, code: int
) -> None:
    """No session closes with 4401; a user without permission with 4403."""
    user = request.getfixturevalue(user_fixture) if user_fixture else None
    assert clients.open_raw("private", user).wait_closed() == code


BAD_FRAMES = [
    pytest.param(
        create_update_message(b"\x00\x00")[:-1], CloseCode.MALFORMED_FRAME, id="truncated-sync"
    ),
    pytest.param(b"\x09", CloseCode.MALFORMED_FRAME, id="unknown-type"),
    pytest.param("hello", CloseCode.UNSUPPORTED_DATA, id="text-frame"),
    pytest.param(
        create_update_message(bytes(conf.MAX_FRAME_BYTES)),
        CloseCode.FRAME_TOO_LARGE,
        id="oversized",
    ),
    pytest.param(
        create_update_message(b"garbage!"), CloseCode.MALFORMED_FRAME, id="rejected-update"
    ),
]


@pytest.mark.parametrize(("frame", "code"), BAD_FRAMES)
def test_bad_frame_closes_only_its_connection(
    clients: Clients, server: ServerProcess, editor: User, frame: bytes | str, code: int
) -> None:
    """The offender is closed with its code and a log line; the others edit on, text intact."""
    writer = clients.open("bad-frames", editor)
    writer.insert(0, "intact")
    other = clients.open("bad-frames", editor)
    other.wait_text("intact")
    offender = clients.open_raw("bad-frames", editor)
    offender.wait(lambda raw: raw["received"] > 0, "sync step 1 from the server")

    offender.send(frame)
    closed_with = offender.wait_closed()

    writer.insert(len("intact"), " still")
    other.wait_text("intact still")
    other.insert(len("intact still"), " editable")
    writer.wait_text("intact still editable")
    wait_until_stored("bad-frames", "intact still editable", 1.0)
    for client in (writer, other):
        assert client.inspect()["closeCodes"] == [], f"{client.name} was disconnected"
    assert "collab: closing connection to 'bad-frames'" in server.log_text()
    assert closed_with == code

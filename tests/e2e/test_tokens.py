"""Through real servers: stock y-websocket clients connect with a token in ``params``.

No cookie, and a page of another origin (the server's host under another port, which
Channels' ``AllowedHostsOriginValidator`` in ``tests.asgi`` lets through and collab
refuses for a session cookie: ``test_origins.py``): the token is the credential. A bad
token is refused with 4401 or 4403, and y-websocket 3.x stops there for good.
"""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User

from collab.close_codes import CloseCode
from collab.tokens import make_token
from tests.e2e.node import Clients
from tests.e2e.test_origins import OTHER_PORT
from tests.stored import wait_until_stored

pytestmark = pytest.mark.e2e

ELSEWHERE = OTHER_PORT
"""The origin of a page that was handed the tokens."""


@pytest.fixture(params=["daphne", "uvicorn"])
def server_kind(request: pytest.FixtureRequest) -> str:
    """Both servers."""
    return str(request.param)


def test_token_clients_converge_and_a_read_only_token_cannot_write(
    clients: Clients, editor: User
) -> None:
    token = make_token(editor, keys=["by-token"])
    first = clients.open("by-token", None, token=token, origin=ELSEWHERE)
    second = clients.open("by-token", None, library="y-websocket-2", token=token, origin=ELSEWHERE)
    first.insert(0, "from a page elsewhere")
    second.wait_text("from a page elsewhere")
    wait_until_stored("by-token", "from a page elsewhere", 5.0)

    watcher = clients.open("by-token", None, token=make_token(editor, read_only=True))
    watcher.wait_text("from a page elsewhere")
    watcher.insert(0, "not saved: ")
    first.insert(0, "saved: ")
    second.wait_text("saved: from a page elsewhere")
    wait_until_stored("by-token", "saved: from a page elsewhere", 5.0)


def test_a_bad_token_is_refused_and_a_stock_3x_client_stops(clients: Clients, editor: User) -> None:
    expired = make_token(editor, max_age=0)
    client = clients.open("bad-token", None, token=expired, origin=ELSEWHERE, wait=False)
    client.wait(lambda s: CloseCode.NOT_AUTHENTICATED in s["closeCodes"], "refusal")
    time.sleep(1.5)  # y-websocket 2.x would have come back by now
    snapshot = client.inspect()
    assert snapshot["closeCodes"] == [CloseCode.NOT_AUTHENTICATED]
    assert not snapshot["synced"]
    other = clients.open(
        "bad-token", None, token=make_token(editor, keys=["elsewhere"]), wait=False
    )
    other.wait(lambda s: CloseCode.FORBIDDEN in s["closeCodes"], "refusal")

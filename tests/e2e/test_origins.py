"""Through real servers: the user's session cookie opens a socket only from the site's pages.

``tests.asgi`` wraps the routes in Channels' ``AllowedHostsOriginValidator``, which
compares host names only: a page on the same host under another port passes it, and
collab refuses it.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from pycrdt import Doc, Text

from collab.close_codes import CloseCode
from collab.protocol import SyncStep1, decode_message, encode_update
from tests.e2e.node import session_cookie
from tests.e2e.raw_client import RawClient
from tests.e2e.server import ServerProcess
from tests.stored import wait_until_stored

pytestmark = pytest.mark.e2e

PATH = "/ws/collab/cookie-jar"

OTHER_PORT = "http://127.0.0.1:1"
"""The origin of a page on the server's host, under another port."""


@pytest.fixture(params=["daphne", "uvicorn"])
def server_kind(request: pytest.FixtureRequest) -> str:
    """Both servers."""
    return str(request.param)


def test_a_session_cookie_opens_a_socket_only_from_the_sites_own_origin(
    server: ServerProcess, editor: User
) -> None:
    cookie = session_cookie(editor)
    foreign = RawClient(server.port, PATH, {"Origin": OTHER_PORT, "Cookie": cookie})
    assert foreign.read_until_closed(timeout=5.0) == CloseCode.UNTRUSTED_ORIGIN
    foreign.close()
    assert f"with 4412 UNTRUSTED_ORIGIN: origin {OTHER_PORT!r}" in server.log_text()

    own = RawClient(server.port, PATH, {"Origin": server.origin, "Cookie": cookie})
    assert isinstance(decode_message(own.receive(timeout=5.0)), SyncStep1)
    doc = Doc()
    doc.get("content", type=Text).insert(0, "typed on the site's own page")
    own.send(encode_update(doc.get_update()))
    wait_until_stored("cookie-jar", "typed on the site's own page", 5.0)
    own.close()

"""collab on every ASGI server it supports: daphne, uvicorn, hypercorn and granian.

Each converges, stores what it applied when stopped (SIGTERM), and exits in time. collab
sends through plain ``await send(...)`` calls, so it does not depend on what kind of
awaitable a server's ``send`` returns (granian's is a Rust future without ``close()``).
A client that stops reading is covered in ``test_slow_client.py``, on every server too.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from tests.e2e.node import Clients
from tests.e2e.server import ASGI_SERVERS, ROOT, ServerProcess
from tests.stored import wait_until_stored

pytestmark = pytest.mark.e2e

PERMANENT = range(4400, 4500)
"""Close codes after which y-websocket 3.x never comes back."""


def assert_no_collab_traceback(server: ServerProcess) -> None:
    """Nothing in collab failed (hypercorn logs its own cancelled reads at shutdown)."""
    assert f'File "{ROOT / "collab"}' not in server.log_text()


@pytest.fixture(params=ASGI_SERVERS)
def server_kind(request: pytest.FixtureRequest) -> str:
    """Every server."""
    return str(request.param)


def test_clients_converge(clients: Clients, server: ServerProcess, editor: User) -> None:
    first = clients.open("servers", editor)
    second = clients.open("servers", editor, library="y-websocket-2")
    watcher = clients.open("servers", editor)
    for round_ in range(20):
        first.insert(0, "a")
        second.insert(round_, "b")
    text = first.text
    for client in (second, watcher):
        client.wait(lambda snapshot: len(snapshot["text"]) == 40, "all 40 edits")
    assert {second.text, watcher.text, first.text} == {watcher.text}
    assert sorted(watcher.text) == sorted("a" * 20 + "b" * 20)
    wait_until_stored("servers", watcher.text, timeout=10.0)
    assert text  # the writer kept its own edits while the others arrived
    assert_no_collab_traceback(server)


@pytest.mark.parametrize(
    "server", ["tests.e2e.slow_flush_settings"], ids=["slow-flush"], indirect=True
)
def test_sigterm_stores_every_edit_and_exits(
    clients: Clients, server: ServerProcess, editor: User
) -> None:
    """A graceful stop ends in time, stores what was applied, and lets clients come back.

    No flush is due (the interval is a minute): only the shutdown path can store the
    edit. daphne, uvicorn and hypercorn cancel the connections, which store and close
    with 4503 (uvicorn closes with 1012 itself); granian stops its worker's event loop
    without cancelling anything, and collab stores at the worker's exit.
    """
    writer = clients.open("stop", editor)
    watcher = clients.open("stop", editor)
    writer.insert(0, "stored on shutdown")
    watcher.wait_text("stored on shutdown")
    server.stop()  # fails unless the server exits within STOP_TIMEOUT
    for client in (writer, watcher):
        closed = client.wait(lambda snapshot: snapshot["closeCodes"], "close")
        assert not set(closed["closeCodes"]) & set(PERMANENT), closed["closeCodes"]
    writer.close()
    watcher.close()
    server.start()
    assert clients.open("stop", editor).text == "stored on shutdown"
    assert_no_collab_traceback(server)

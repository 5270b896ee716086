"""Edits survive the server being stopped or killed and started again."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User

from collab.close_codes import CloseCode
from tests.e2e.node import Clients, YClient
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.e2e

WORDS = ("edits ", "survive ", "a ", "restart")
TEXT = "".join(WORDS)

DAPHNE_FORGETS_HANDSHAKE_AFTER = 1.5
"""Daphne 4.2 tracks the HTTP side of a websocket handshake for up to 1 s; a SIGTERM
meanwhile makes its shutdown handler fail with a KeyError before it cancels the open
connections, so no application gets to store anything (an upstream bug)."""

KILL_AFTER = 1.0
"""Seconds between the last applied edit and SIGKILL: far more than the flush interval."""


def write_text(clients: Clients, editor: User, pause_after_connect: float = 0.0) -> list[YClient]:
    """Type :data:`TEXT` word by word; return once another client saw all of it.

    The other client seeing it proves the server applied every word.
    """
    writer = clients.open("restart", editor)
    witness = clients.open("restart", editor)
    time.sleep(pause_after_connect)
    length = 0
    for word in WORDS:
        length = writer.insert(length, word)
    witness.wait_text(TEXT)
    return [writer, witness]


def assert_restored(
    clients: Clients, server: ServerProcess, editor: User, old: list[YClient]
) -> None:
    """Restart the halted server; a client that never saw the text must get all of it.

    The old clients are destroyed first, so none of them can re-send what it has.
    """
    for client in old:
        client.close()
    server.start()
    assert clients.open("restart", editor).text == TEXT


@pytest.mark.parametrize(
    "server", ["tests.e2e.slow_flush_settings"], ids=["slow-flush"], indirect=True
)
@pytest.mark.parametrize(
    "pause",
    [DAPHNE_FORGETS_HANDSHAKE_AFTER, 0.0],
    ids=["settled-connections", "fresh-handshake"],
)
def test_sigterm_stores_every_applied_edit(
    clients: Clients, server: ServerProcess, editor: User, pause: float
) -> None:
    """A graceful shutdown stores what the server applied, though no flush was due yet.

    Right after a handshake daphne's shutdown never cancels the connections; collab
    then stores the pending updates when the interpreter exits.
    """
    old = write_text(clients, editor, pause_after_connect=pause)
    server.stop()
    assert_restored(clients, server, editor, old)


def test_sigterm_tells_clients_to_reconnect(
    clients: Clients, server: ServerProcess, editor: User
) -> None:
    """A graceful shutdown closes each connection with 4503 (going away)."""
    client = clients.open("restart", editor)
    time.sleep(DAPHNE_FORGETS_HANDSHAKE_AFTER)
    server.stop()
    closed = client.wait(lambda snapshot: snapshot["closeCodes"], "close")
    assert closed["closeCodes"][0] == CloseCode.GOING_AWAY


def test_sigkill_keeps_edits_applied_a_flush_interval_before(
    clients: Clients, server: ServerProcess, editor: User
) -> None:
    """A crash loses nothing applied at least a flush interval (0.05 s) before it."""
    old = write_text(clients, editor)
    time.sleep(KILL_AFTER)
    server.kill()
    assert_restored(clients, server, editor, old)

"""A reader's presence updates, relayed to stock clients, must not get those clients closed.

Found by ``benchmarks/hostile_memory.py``: stock y-websocket clients send every awareness
change they receive back to the server, one frame per change. A connection that sends
presence updates of its own client id at just under the rate limit makes every stock
client in the document send as many frames, plus its own edits: over the rate limit, so
the server closed each of them with 4429 (no longer sent: a fast client is slowed down).
"""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User

from collab.protocol import encode_awareness, encode_awareness_entry, join_awareness_entries
from tests.e2e.node import Clients, session_cookie
from tests.e2e.raw_client import RawClient
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.e2e

FRAMES_PER_SECOND = 190
"""The attacker's pace: under the default rate limit (200 frames per second)."""

FLOOD_SECONDS = 3.0

ATTACKER_CLIENT_ID = 424242

FRAMES_PER_EDIT = 10
"""Each victim types a character every 10 attacker frames (19 edits per second, as fast
typing does)."""


def presence_frame(clock: int) -> bytes:
    """An awareness frame setting the attacker's own (small) state with ``clock``."""
    entry = encode_awareness_entry(ATTACKER_CLIENT_ID, clock, b'{"n":%d}' % clock)
    return encode_awareness(join_awareness_entries([entry]))


@pytest.fixture(params=["uvicorn", "daphne"])
def server_kind(request: pytest.FixtureRequest) -> str:
    """Both servers."""
    return str(request.param)


def test_a_readers_presence_flood_does_not_close_stock_clients(
    clients: Clients, server: ServerProcess, editor: User, reader: User
) -> None:
    victims = [clients.open("flood", editor), clients.open("flood", editor)]
    attacker = RawClient(
        server.port,
        "/ws/collab/flood",
        {"Origin": server.origin, "Cookie": session_cookie(reader)},
    )
    start = time.monotonic()
    for clock in range(1, int(FLOOD_SECONDS * FRAMES_PER_SECOND) + 1):
        time.sleep(max(0.0, start + clock / FRAMES_PER_SECOND - time.monotonic()))
        attacker.send(presence_frame(clock))
        if clock % FRAMES_PER_EDIT == 0:
            for victim in victims:
                victim.insert(0, "v")
    time.sleep(1.0)
    attacker.close()
    for victim in victims:
        snapshot = victim.inspect()
        assert snapshot["closeCodes"] == [], snapshot["closeCodes"]
    assert "closing connection" not in server.log_text()

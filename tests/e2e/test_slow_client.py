"""A client that stops reading holds up nobody else and is closed, on every server:
uvicorn, hypercorn and granian hold its sends back, daphne buffers them in Twisted."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User

from collab.close_codes import CloseCode
from collab.protocol import EMPTY_STATE_VECTOR, encode_sync_step1
from tests.e2e.node import Clients, session_cookie
from tests.e2e.raw_client import RawClient
from tests.e2e.server import ASGI_SERVERS, ServerProcess
from tests.e2e.waiting import wait_until
from tests.stored import wait_until_stored

pytestmark = pytest.mark.e2e

CHUNK = 100_000
"""Characters per edit (one update frame each, well under MAX_FRAME_BYTES)."""

EDITS = 100
"""10 MB in all: more than the kernel's socket buffers and uvicorn's own buffer absorb
for a client that does not read (about 4 MB here), plus the 512 KiB outbox limit."""

ABNORMAL_CLOSURE = 1006
"""What a client reports when the connection ended without a close frame."""

ATTACK_SECONDS = 20.0
"""How long the attacker may ask for the document before it must have been closed."""

REQUESTS_PER_SECOND = 150
"""Below the default rate limit (200 frames per second), which would close it first."""

RSS_GROWTH_LIMIT = 64 * 1024 * 1024
"""What the attack may add to the server's resident memory. Unbounded, daphne grew by
about 15 MB per second of it (100 KB answers at 150 requests per second)."""


@pytest.fixture(params=ASGI_SERVERS)
def server_kind(request: pytest.FixtureRequest) -> str:
    """Every server: uvicorn, hypercorn and granian hold sends back, daphne never does."""
    return str(request.param)


HYPERCORN_SLOW_WITH_LARGE_FRAMES = pytest.mark.xfail(
    reason="hypercorn 0.18 relayed 100 KB frames at about 40 KB/s on a loaded machine, "
    "stalled client or not (1.1 of 10 MB in 30 s without one); it passes on a quiet one "
    "(CI); the stalled client is closed with 4504 either way",
    strict=False,
)


@pytest.mark.parametrize(
    "server_kind",
    [
        *sorted(set(ASGI_SERVERS) - {"hypercorn"}),
        pytest.param("hypercorn", marks=HYPERCORN_SLOW_WITH_LARGE_FRAMES),
    ],
)
@pytest.mark.parametrize(
    "server", ["tests.e2e.small_outbox_settings"], ids=["512KiB-outbox"], indirect=True
)
def test_a_stalled_client_is_closed_and_holds_up_nobody(
    clients: Clients, server: ServerProcess, editor: User
) -> None:
    stalled = clients.open_raw("stall", editor)
    stalled.wait(lambda raw: raw["received"] > 0, "sync step 1 from the server")
    stalled.pause()
    writer = clients.open("stall", editor)
    reader = clients.open("stall", editor)
    for edit in range(EDITS):
        writer.insert(edit * CHUNK, chr(ord("a") + edit % 26) * CHUNK)
    wait_until(
        lambda: reader.length == EDITS * CHUNK,
        30.0,
        lambda: f"the reader has {reader.length} of {EDITS * CHUNK} characters",
    )
    stalled.resume()
    closed_with = stalled.wait_closed(timeout=30.0)
    assert "4504 CLIENT_TOO_SLOW" in server.log_text()
    if server.kind == "uvicorn":
        assert closed_with == CloseCode.CLIENT_TOO_SLOW
    else:  # daphne dropped the connection when the client did not answer the close
        assert closed_with in (CloseCode.CLIENT_TOO_SLOW, ABNORMAL_CLOSURE)
    wait_until_stored("stall", writer.text, timeout=20.0)


@pytest.mark.parametrize(
    "server", ["tests.e2e.unthrottled_settings"], ids=["512KiB-unthrottled"], indirect=True
)
def test_asking_for_the_document_forever_without_reading_is_closed(
    clients: Clients, server: ServerProcess, editor: User
) -> None:
    """Sync step 1 over and over, never reading: memory stays bounded, the others sync."""
    writer = clients.open("amplify", editor)
    writer.insert(0, "x" * CHUNK)
    watcher = clients.open("amplify", editor)
    watcher.wait(lambda snapshot: len(snapshot["text"]) == CHUNK, "the document")
    headers = {"Origin": server.origin, "Cookie": session_cookie(editor)}
    attacker = RawClient(server.port, "/ws/collab/amplify", headers)
    before = peak = server.resident_bytes
    started = time.monotonic()
    try:
        while time.monotonic() - started < ATTACK_SECONDS:
            attacker.send(encode_sync_step1(EMPTY_STATE_VECTOR))
            peak = max(peak, server.resident_bytes)
            time.sleep(1 / REQUESTS_PER_SECOND)
    except OSError:  # the server dropped the connection
        pass
    closed_with = attacker.read_until_closed(timeout=10.0)
    attacker.close()
    writer.insert(CHUNK, "!")
    watcher.wait(lambda snapshot: snapshot["text"].endswith("!"), "the edit after the attack")
    assert watcher.inspect()["closeCodes"] == []
    assert peak - before < RSS_GROWTH_LIMIT, f"{(peak - before) / 2**20:.0f} MiB more"
    assert closed_with in (CloseCode.CLIENT_TOO_SLOW, None)  # None: aborted, as it never read
    assert "4504 CLIENT_TOO_SLOW" in server.log_text()

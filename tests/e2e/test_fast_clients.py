"""No stock client is stranded by sending fast: it is slowed down, never closed.

y-websocket 3.x stops for good after a 44xx close, and pycrdt's provider sends back every
update it receives; before, a 400-edit burst (or a pycrdt reader of two fast writers) got
the connection closed with 4429 and the client never came back.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from django.contrib.auth.models import User
from pycrdt import Doc, Map, Provider, Text
from websockets.asyncio.client import connect

from collab.protocol import encode_update
from tests.e2e.node import Clients, session_cookie
from tests.e2e.pycrdt_client import WebsocketChannel
from tests.e2e.raw_client import RawClient
from tests.e2e.server import ASGI_SERVERS, ServerProcess

pytestmark = pytest.mark.e2e

BURST = 400
"""Edits in one burst: twice the default rate limit of 200 changes a second."""

CONVERGE_TIMEOUT = 30.0


@pytest.fixture(params=ASGI_SERVERS)
def server_kind(request: pytest.FixtureRequest) -> str:
    """Every server: most stop reading a slowed client's socket; daphne is paused."""
    return str(request.param)


def test_a_burst_of_400_edits_from_y_websocket_3_is_slowed_down_not_closed(
    clients: Clients, server: ServerProcess, editor: User
) -> None:
    writer = clients.open("burst", editor)
    watchers = [clients.open("burst", editor) for _ in range(2)]
    assert writer.insert_many("x", BURST) == BURST
    for watcher in watchers:
        watcher.wait_text("x" * BURST, timeout=CONVERGE_TIMEOUT)
    writer.insert(BURST, "!")  # the writer is still connected and heard
    for client in (writer, *watchers):
        client.wait(lambda snapshot: snapshot["text"] == "x" * BURST + "!", "the last edit")
        assert client.inspect()["closeCodes"] == []
    assert "closing connection" not in server.log_text()


def test_a_pycrdt_provider_reading_two_fast_writers_stays_connected(
    clients: Clients, server: ServerProcess, editor: User
) -> None:
    """It sends every update back (echoes), which cost nothing, and converges."""
    writers = [clients.open("echo", editor) for _ in range(2)]
    headers = {"Origin": server.origin, "Cookie": session_cookie(editor)}
    expected = BURST // 2 * len(writers)

    async def read() -> tuple[str, int, bool]:
        doc: Doc = Doc()
        text = doc.get("content", type=Text)
        complete = asyncio.Event()
        text.observe(lambda _event: complete.set() if len(text) >= expected else None)
        path = "/ws/collab/echo"
        async with connect(f"ws://127.0.0.1:{server.port}{path}", additional_headers=headers) as ws:
            channel = WebsocketChannel(ws, path)
            async with Provider(doc, channel):
                for writer, letter in zip(writers, "ab", strict=True):
                    await asyncio.to_thread(writer.insert_many, letter, BURST // 2)
                await asyncio.wait_for(complete.wait(), CONVERGE_TIMEOUT)
                await asyncio.sleep(0.5)  # its echoes reach the server
                return str(text), channel.sent, ws.close_code is None

    text, sent, open_ = asyncio.run(read())
    assert open_, "the server closed the pycrdt provider"
    assert sorted(text) == sorted("a" * (BURST // 2) + "b" * (BURST // 2))
    assert sent > 1  # it echoed what it received (how many frames depends on batching)
    for writer in writers:
        writer.wait_text(text, timeout=CONVERGE_TIMEOUT)
        assert writer.inspect()["closeCodes"] == []
    assert "closing connection" not in server.log_text()


FLOOD_SECONDS = 8.0
"""How long the flooding client sends changes as fast as its socket takes them."""

FLOOD_FRAME_CHARACTERS = 1000
"""Characters each of its updates inserts (a frame of about 1 KB)."""

FLOOD_FRAMES = 20_000
"""Frames it has to send: 20 MB, far more than the socket buffers take."""

FLOOD_GROWTH_LIMIT = 48 * 1024 * 1024
"""What a slowed client may add to the server's resident memory."""


def flood_frame() -> bytes:
    """An update frame of a new client setting one map entry to :data:`FLOOD_FRAME_CHARACTERS`.

    Entries of one key from many clients replace each other: the server's work per
    frame stays flat, as it would not for thousands of concurrent inserts into a text.
    """
    doc: Doc = Doc()
    doc.get("flood", type=Map)["entry"] = "f" * FLOOD_FRAME_CHARACTERS
    return encode_update(doc.get_update())


def test_a_client_sending_changes_nonstop_is_slowed_and_bounded(
    clients: Clients, server: ServerProcess, editor: User
) -> None:
    """The server reads it at the rate limit and holds a bounded amount for it.

    It is never closed; what it sends beyond the rate limit waits in the TCP buffers,
    and its own send blocks or crawls at the rate limit (uvicorn, hypercorn and granian
    stop reading a socket whose frames the application does not take; under daphne
    collab pauses Twisted's reading).
    """
    watcher = clients.open("flood", editor)
    frames = [flood_frame() for _ in range(FLOOD_FRAMES)]
    headers = {"Origin": server.origin, "Cookie": session_cookie(editor)}
    flooder = RawClient(server.port, "/ws/collab/flood", headers)
    flooder.socket.settimeout(FLOOD_SECONDS / 4)
    before = peak = server.resident_bytes
    sent = 0
    started = time.monotonic()
    for frame in frames:
        if time.monotonic() - started > FLOOD_SECONDS:
            break
        try:
            flooder.send(frame)
        except TimeoutError:
            break  # the server stopped reading: the client's send blocks
        sent += 1
        if sent % 500 == 0:
            peak = max(peak, server.resident_bytes)
    blocked_after = time.monotonic() - started
    for _ in range(int(FLOOD_SECONDS * 5)):
        peak = max(peak, server.resident_bytes)
        time.sleep(0.2)
    flooder.close()
    print(
        f"{server.kind}: {sent} frames sent in {blocked_after:.1f} s; "
        f"server grew {(peak - before) / 2**20:.1f} MiB"
    )
    assert peak - before < FLOOD_GROWTH_LIMIT, f"{(peak - before) / 2**20:.0f} MiB more"
    assert watcher.inspect()["closeCodes"] == []
    assert "closing connection" not in server.log_text()

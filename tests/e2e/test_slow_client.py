"""A client that stops reading holds up nobody else (uvicorn holds its sends back)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from collab.close_codes import CloseCode
from tests.e2e.node import Clients
from tests.e2e.waiting import wait_until
from tests.stored import wait_until_stored

pytestmark = pytest.mark.e2e

CHUNK = 100_000
"""Characters per edit (one update frame each, well under MAX_FRAME_BYTES)."""

EDITS = 100
"""10 MB in all: more than the kernel's socket buffers and uvicorn's own buffer absorb
for a client that does not read (about 4 MB here), plus the 512 KiB outbox limit."""


@pytest.fixture
def server_kind() -> str:
    """uvicorn holds sends back for a client that does not read (daphne buffers them)."""
    return "uvicorn"


@pytest.mark.parametrize(
    "server", ["tests.e2e.small_outbox_settings"], ids=["512KiB-outbox"], indirect=True
)
def test_a_stalled_client_is_closed_and_holds_up_nobody(clients: Clients, editor: User) -> None:
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
    assert stalled.wait_closed(timeout=30.0) == CloseCode.CLIENT_TOO_SLOW
    wait_until_stored("stall", writer.text, timeout=20.0)

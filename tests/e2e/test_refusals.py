"""Through real servers: malformed frames and unmatched paths close with their documented
codes, and an unmatched path leaves no traceback in the server's log."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User

from collab.close_codes import CloseCode
from collab.conf import conf
from tests.e2e.node import Clients
from tests.e2e.raw_client import RawClient
from tests.e2e.server import ServerProcess
from tests.test_malformed_frames import MALFORMED
from tests.test_routing import UNMATCHED

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["daphne", "uvicorn"])
def server_kind(request: pytest.FixtureRequest) -> str:
    """Both servers."""
    return str(request.param)


def test_every_malformed_frame_closes_with_its_documented_code(
    clients: Clients, editor: User
) -> None:
    frames: dict[str, tuple[bytes | str, int]] = {
        name: (frame, CloseCode.MALFORMED_FRAME) for name, frame in MALFORMED.items()
    }
    frames["text"] = ("hello", CloseCode.UNSUPPORTED_DATA)
    frames["oversize"] = (bytes(conf.MAX_FRAME_BYTES + 1), CloseCode.FRAME_TOO_LARGE)
    watcher = clients.open("corpus", editor)
    closed_with = {}
    for name, (frame, _) in frames.items():
        offender = clients.open_raw("corpus", editor)
        offender.wait(lambda raw: raw["received"] > 0, "sync step 1 from the server")
        offender.send(frame)
        closed_with[name] = offender.wait_closed()
    expected = {name: int(code) for name, (_, code) in frames.items()}
    assert closed_with == expected
    watcher.insert(0, "intact")
    watcher.wait_text("intact")
    assert watcher.inspect()["closeCodes"] == []


def test_an_unmatched_path_is_refused_without_a_traceback(server: ServerProcess) -> None:
    for path in UNMATCHED:
        client = RawClient(server.port, path, {"Origin": server.origin})
        assert client.read_until_closed(timeout=5.0) == CloseCode.NOT_FOUND, path
        client.close()
    log = server.log_text()
    assert "Traceback" not in log
    for path in UNMATCHED:
        assert f"collab: no websocket route for {path[:100]!r}; closing with 4404" in log


WATCH = 6.0
"""Seconds during which a refused client's handshakes are counted."""


@pytest.mark.parametrize("server", ["tests.e2e.refusal_settings"], indirect=True)
def test_a_refused_stock_client_is_slowed_down(
    clients: Clients, outsider: User, server: ServerProcess
) -> None:
    retrying = clients.open("private", outsider, library="y-websocket-2", wait=False)
    time.sleep(WATCH)
    handshakes = retrying.inspect()["closeCodes"]
    print(f"{len(handshakes)} handshakes in {WATCH} s")
    assert set(handshakes) == {CloseCode.FORBIDDEN}
    assert len(handshakes) <= 5  # at 0, 0.5, 1.5, 3.5 s… instead of every 100 ms
    warnings = server.log_path.read_text().count("WARNING  collab: closing connection")
    assert warnings <= 3

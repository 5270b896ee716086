"""Stock clients over a quota get 4409 and do not come back in a tight loop."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User

from collab.close_codes import CloseCode
from tests.e2e.node import Clients

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.parametrize("server", ["tests.e2e.quota_settings"], indirect=True),
]

WATCH = 4.0
"""Seconds during which the refused clients' attempts are counted."""


def test_a_client_over_a_quota_is_refused_slowly(clients: Clients, editor: User) -> None:
    first = clients.open("quota-first", editor)
    retrying = clients.open("quota-second", editor, library="y-websocket-2", wait=False)
    stopping = clients.open("quota-third", editor, library="y-websocket", wait=False)

    time.sleep(WATCH)

    retries = retrying.inspect()["closeCodes"]
    print(f"y-websocket 2.x: {len(retries)} handshakes in {WATCH} s")
    assert set(retries) == {CloseCode.QUOTA_EXCEEDED}
    assert 1 <= len(retries) <= WATCH / 1.0 + 1  # one attempt per QUOTA_CLOSE_DELAY at most
    assert stopping.inspect()["closeCodes"] == [CloseCode.QUOTA_EXCEEDED]  # 3.x stops
    assert not retrying.inspect()["synced"]

    first.close()
    retrying.wait(lambda seen: seen["synced"], "sync once a place is free", timeout=5)

"""Awareness (presence) between stock clients, and keeping idle connections open."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User

from tests.e2e.node import Clients

pytestmark = pytest.mark.e2e

DROP_NOTICED_WITHIN = 1.5
"""Seconds from cutting a socket to its presence being gone: the server notices a TCP
close on loopback at once, and must then tell the others within 1 s."""

IDLE_FOR = 35.0
"""Longer than the 30 s after which a stock y-websocket client drops a silent socket."""


def test_awareness_reaches_others_and_is_removed_on_drop(clients: Clients, editor: User) -> None:
    """States reach present and late peers; a dropped socket's state is removed for everyone."""
    alice = clients.open("presence", editor)
    carol = clients.open("presence", editor)
    alice.set_awareness({"user": {"name": "A"}})
    carol.wait_awareness(alice.client_id, {"user": {"name": "A"}})

    bob = clients.open("presence", editor)
    bob.wait_awareness(alice.client_id, {"user": {"name": "A"}})
    bob.set_awareness({"user": {"name": "B", "cursor": 3}})
    carol.wait_awareness(bob.client_id, {"user": {"name": "B", "cursor": 3}})

    alice.drop()
    dropped = time.monotonic()
    for observer in (bob, carol):
        observer.wait_awareness(
            alice.client_id, None, timeout=dropped + DROP_NOTICED_WITHIN - time.monotonic()
        )


def test_idle_client_is_kept_connected(clients: Clients, editor: User) -> None:
    """A lone client in a quiet document stays connected past its 30 s watchdog."""
    idle = clients.open("idle", editor)
    deadline = time.monotonic() + IDLE_FOR
    while time.monotonic() < deadline:
        snapshot = idle.inspect()
        assert snapshot["statuses"] == ["connecting", "connected"], snapshot
        assert snapshot["closeCodes"] == [], snapshot
        time.sleep(1.0)

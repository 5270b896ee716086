"""Awareness (presence) between stock clients, and keeping idle connections open."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User

from collab.close_codes import CloseCode
from collab.protocol import (
    AwarenessEntry,
    encode_awareness,
    encode_awareness_entry,
    encode_awareness_update,
    join_awareness_entries,
)
from tests.e2e.conftest import artifact
from tests.e2e.node import Clients, NodeDriver, YClient
from tests.e2e.test_scale_out import start_cluster

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


FORGED = {"user": {"name": "ADMIN (impersonated)"}}

KILLED_PROCESS_FORGOTTEN_WITHIN = 6.0
"""Seconds from killing a process to its clients' states being gone elsewhere: the
other process forgets it after 10 intervals of 0.3 s (``fast_repair_settings``), far
below the 15 to 30 s after which stock clients would drop the states themselves."""


def presence(*entries: tuple[int, int, object]) -> bytes:
    """An awareness frame holding (client id, clock, state) entries."""
    return encode_awareness(encode_awareness_update(AwarenessEntry(*entry) for entry in entries))


def names(client: YClient) -> set[str]:
    """The user names in every state ``client`` knows."""
    return {str(state["user"]["name"]) for _, state in client.inspect()["awareness"] if state}


def test_forged_presence_and_json_parse_errors_reach_no_stock_client(
    clients: Clients, editor: User, reader: User
) -> None:
    """A reader's states for others' ids go nowhere; its NaN closes it; joiners still work."""
    victim = clients.open("forge", editor)
    victim.set_awareness({"user": {"name": "Vic"}})
    witness = clients.open("forge", editor)
    witness.set_awareness({"user": {"name": "Wit"}})
    victim.wait_awareness(witness.client_id, {"user": {"name": "Wit"}})
    witness.wait_awareness(victim.client_id, {"user": {"name": "Vic"}})

    forger = clients.open_raw("forge", reader)
    forger.wait(lambda raw: raw["received"] >= 3, "join frames")
    own_id = 4242
    forger.send(
        presence(
            (victim.client_id, 1000, FORGED),
            (witness.client_id, 1000, None),
            (own_id, 1, {"user": {"name": "Reed"}}),
        )
    )
    for observer in (victim, witness):
        observer.wait_awareness(own_id, {"user": {"name": "Reed"}})
        assert names(observer) == {"Vic", "Wit", "Reed"}

    nan_state = b'{"user":{"name":"NaN"},"cursor":NaN}'
    forger.send(
        encode_awareness(join_awareness_entries([encode_awareness_entry(own_id, 2, nan_state)]))
    )
    assert forger.wait_closed() == CloseCode.MALFORMED_FRAME
    for observer in (victim, witness):
        observer.wait_awareness(own_id, None)

    late = clients.open("forge", editor)
    late.wait_awareness(victim.client_id, {"user": {"name": "Vic"}})
    late.wait_awareness(witness.client_id, {"user": {"name": "Wit"}})
    for client in (victim, witness, late):
        snapshot = client.inspect()
        assert names(client) == {"Vic", "Wit"}
        assert snapshot["closeCodes"] == [], snapshot


def test_a_killed_process_leaves_no_presence_in_the_other(
    transactional_db: None,
    redis_url: str,
    node_modules: None,
    editor: User,
    request: pytest.FixtureRequest,
) -> None:
    driver = NodeDriver(artifact(request, "node.log"))
    cluster = start_cluster(request, redis_url, driver, "tests.e2e.fast_repair_settings")
    nodes = next(cluster)
    try:
        doomed = nodes.on_daphne.open("killed", editor)
        survivor = nodes.on_uvicorn.open("killed", editor)
        doomed.set_awareness({"user": {"name": "Doomed"}})
        survivor.set_awareness({"user": {"name": "Survivor"}})
        survivor.wait_awareness(doomed.client_id, {"user": {"name": "Doomed"}})
        doomed.wait_awareness(survivor.client_id, {"user": {"name": "Survivor"}})

        nodes.daphne.kill()
        survivor.wait_awareness(doomed.client_id, None, timeout=KILLED_PROCESS_FORGOTTEN_WITHIN)
        late = nodes.on_uvicorn.open("killed", editor)
        late.wait_awareness(survivor.client_id, {"user": {"name": "Survivor"}})
        assert names(late) == {"Survivor"}
    finally:
        next(cluster, None)

"""Presence states and their owners (``collab.awareness``), without connections."""

from __future__ import annotations

import logging

import pytest
from django.test import override_settings

from collab.awareness import SERVER, AwarenessStates
from collab.protocol import AwarenessEntry, decode_awareness_update, encode_awareness_update
from tests.ws import states_of

ALICE, BOB = object(), object()
"""Two connections."""


def entries(payload: bytes | None) -> list[tuple[int, int, object]]:
    """The entries of an awareness update, as (client id, clock, state)."""
    assert payload is not None
    return [(e.client_id, e.clock, e.state) for e in decode_awareness_update(payload).entries]


@pytest.fixture
def states() -> AwarenessStates:
    return AwarenessStates("doc")


def test_encoded_update_decodes_to_the_same_entries() -> None:
    sent = [AwarenessEntry(1, 2, {"user": {"name": "Zoë"}}), AwarenessEntry(300, 7, None)]
    assert decode_awareness_update(encode_awareness_update(sent)).entries == tuple(sent)


def test_an_introduced_state_is_relayed_and_known_to_joiners(states: AwarenessStates) -> None:
    relayed = states.apply(ALICE, [AwarenessEntry(1, 1, {"name": "A"})])
    assert entries(relayed) == [(1, 1, {"name": "A"})]
    assert entries(states.everything()) == [(1, 1, {"name": "A"})]
    assert states.state_count == states.client_count == 1


def test_entries_for_ids_another_connection_owns_are_dropped_silently(
    states: AwarenessStates, caplog: pytest.LogCaptureFixture
) -> None:
    states.apply(ALICE, [AwarenessEntry(1, 1, {"name": "A"})])
    forged = [AwarenessEntry(1, 9, {"name": "ADMIN (impersonated)"}), AwarenessEntry(1, 10, None)]
    assert states.apply(BOB, forged) is None
    assert states_of(states) == {1: {"name": "A"}}
    assert caplog.records == []


def test_only_newer_clocks_change_a_state(states: AwarenessStates) -> None:
    states.apply(ALICE, [AwarenessEntry(1, 5, {"n": 1})])
    assert states.apply(ALICE, [AwarenessEntry(1, 4, {"n": 2})]) is None
    assert states.apply(ALICE, [AwarenessEntry(1, 5, {"n": 3})]) is None
    assert entries(states.apply(ALICE, [AwarenessEntry(1, 6, {"n": 4})])) == [(1, 6, {"n": 4})]
    assert states.apply(ALICE, [AwarenessEntry(1, 5, None)]) is None
    assert states_of(states) == {1: {"n": 4}}


def test_a_clock_of_zero_introduces_nothing(states: AwarenessStates) -> None:
    """y-protocols ignores clock 0 for an unknown client, so the server does too."""
    assert states.apply(ALICE, [AwarenessEntry(1, 0, {"n": 1})]) is None
    assert states.client_count == 0


def test_the_owner_clears_its_state_and_keeps_the_id(states: AwarenessStates) -> None:
    states.apply(ALICE, [AwarenessEntry(1, 3, {"n": 1})])
    assert entries(states.apply(ALICE, [AwarenessEntry(1, 3, None)])) == [(1, 3, None)]
    assert states.apply(ALICE, [AwarenessEntry(1, 4, None)]) is None, "already cleared"
    assert states.apply(BOB, [AwarenessEntry(1, 9, {"n": "hijacked"})]) is None
    assert states.state_count == 0
    assert entries(states.apply(ALICE, [AwarenessEntry(1, 4, {"n": 2})])) == [(1, 4, {"n": 2})]


def test_nulls_for_unknown_ids_leave_nothing_behind(states: AwarenessStates) -> None:
    flood = [AwarenessEntry(client_id, 1, None) for client_id in range(100_000)]
    assert states.apply(BOB, flood, max_clients=4) is None
    assert states.client_count == 0


def test_leaving_clears_the_owners_states_with_their_clocks(states: AwarenessStates) -> None:
    states.apply(ALICE, [AwarenessEntry(1, 2, {"n": 1}), AwarenessEntry(2, 5, {"n": 2})])
    states.apply(ALICE, [AwarenessEntry(2, 6, None)])
    states.apply(BOB, [AwarenessEntry(3, 1, {"n": 3})])
    assert entries(states.remove_owner(ALICE)) == [(1, 2, None)]
    assert states.remove_owner(ALICE) is None
    assert states_of(states) == {3: {"n": 3}}
    assert states.client_count == 1
    assert entries(states.apply(BOB, [AwarenessEntry(1, 1, {"n": 4})])) == [(1, 1, {"n": 4})]


@pytest.mark.parametrize("state", [[1, 2], "alice", 3, True])
def test_a_state_that_is_not_an_object_is_dropped_and_logged_once(
    states: AwarenessStates, caplog: pytest.LogCaptureFixture, state: object
) -> None:
    with caplog.at_level(logging.WARNING, "collab.awareness"):
        assert states.apply(ALICE, [AwarenessEntry(1, 1, state)]) is None
        assert states.apply(ALICE, [AwarenessEntry(2, 1, state)]) is None
    assert states.client_count == 0
    assert [r.getMessage() for r in caplog.records] == [
        "collab: dropped a state that is not a JSON object (client 1) on 'doc' from a "
        "connection of user None; further drops from it are not logged"
    ]


def test_a_state_over_the_size_limit_is_dropped(
    states: AwarenessStates, caplog: pytest.LogCaptureFixture
) -> None:
    at_limit = {"n": "x" * 10}  # {"n":"xxxxxxxxxx"}: 18 bytes
    with override_settings(COLLAB={"MAX_AWARENESS_STATE_BYTES": 18}):
        assert states.apply(ALICE, [AwarenessEntry(1, 1, at_limit)]) is not None
        assert states.apply(ALICE, [AwarenessEntry(1, 2, {"n": "x" * 11})]) is None
    assert states_of(states) == {1: at_limit}
    assert "dropped a 19 byte state (client 1)" in caplog.text


def test_a_connection_introduces_at_most_max_clients_ids(
    states: AwarenessStates, caplog: pytest.LogCaptureFixture
) -> None:
    frame = [AwarenessEntry(client_id, 1, {"n": client_id}) for client_id in range(10)]
    assert [e[0] for e in entries(states.apply(ALICE, frame, max_clients=2))] == [0, 1]
    assert "more than 2 awareness client ids" in caplog.text
    assert states.apply(ALICE, [AwarenessEntry(1, 2, {"n": "still mine"})]) is not None
    assert states.client_count == 2


def test_another_process_introduces_any_number_of_ids(states: AwarenessStates) -> None:
    frame = [AwarenessEntry(client_id, 1, {}) for client_id in range(10)]
    states.apply("specific.other!process", frame)
    assert states.client_count == 10
    assert len(entries(states.remove_owner("specific.other!process"))) == 10


def test_only_accepted_entries_are_relayed_in_one_update(states: AwarenessStates) -> None:
    states.apply(BOB, [AwarenessEntry(2, 1, {"n": "bob"})])
    frame = [
        AwarenessEntry(1, 1, {"n": "alice"}),
        AwarenessEntry(2, 8, {"n": "forged"}),
        AwarenessEntry(3, 1, None),
        AwarenessEntry(4, 1, "not an object"),
    ]
    assert entries(states.apply(ALICE, frame)) == [(1, 1, {"n": "alice"})]


def test_the_server_state_takes_its_id_and_renews(states: AwarenessStates) -> None:
    states.apply(ALICE, [AwarenessEntry(42, 7, {"n": "squatter"})])
    assert entries(states.set_state(SERVER, 42, {"saved": False})) == [(42, 1, {"saved": False})]
    assert states.remove_owner(ALICE) is None
    assert entries(states.renew(SERVER)) == [(42, 2, {"saved": False})]
    assert entries(states.set_state(SERVER, 42, None)) == [(42, 3, None)]
    assert states.renew(SERVER) is None
    assert states.apply(ALICE, [AwarenessEntry(42, 9, {"n": "squatter"})]) is None

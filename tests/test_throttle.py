"""Requests that make the server send a whole state (sync step 1, query-awareness) are
throttled per connection: a few are answered at once, the rest coalesced into one later
answer per kind."""

from __future__ import annotations

import asyncio
import time

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from collab.protocol import (
    AwarenessEntry,
    AwarenessUpdate,
    SyncStep2,
    encode_awareness,
    encode_awareness_update,
    encode_query_awareness,
    encode_sync_step1,
)
from collab.registry import RoomRegistry
from tests.settings import COLLAB
from tests.ws import connected

pytestmark = pytest.mark.django_db(transaction=True)

PERIOD = 0.5
THROTTLED = {**COLLAB, "STATE_REQUEST_LIMIT": 3, "STATE_REQUEST_PERIOD": PERIOD}
"""Three whole-state answers per half second (the client's own step 1 on connect is one)."""

EMPTY_STATE_VECTOR_STEP1 = encode_sync_step1(b"\x00")
"""Sync step 1 of a client that has nothing: the whole document is the answer."""


@override_settings(COLLAB=THROTTLED)
async def test_requests_over_the_budget_get_one_later_answer(
    editor: User, rooms: RoomRegistry
) -> None:
    writer = await connected("amplify", editor)
    await writer.edit("x" * 1000)
    attacker = await connected("amplify", editor)
    started = time.monotonic()
    for _ in range(50):
        await attacker.send(EMPTY_STATE_VECTOR_STEP1)
        await attacker.send(encode_query_awareness())
    at_once = [await attacker.receive() for _ in range(2)]  # the budget's two left
    assert [type(answer) for answer in at_once] == [SyncStep2, AwarenessUpdate]
    assert await attacker.communicator.receive_nothing(PERIOD * 0.6)
    later = [await attacker.receive(timeout=PERIOD) for _ in range(2)]
    assert [type(answer) for answer in later] == [SyncStep2, AwarenessUpdate]
    assert time.monotonic() - started >= PERIOD * 0.9
    assert isinstance(later[0], SyncStep2)
    attacker.apply(later[0])
    assert str(attacker.text) == "x" * 1000
    assert await attacker.communicator.receive_nothing(PERIOD * 1.5)
    await writer.edit("!")  # the throttled connection still gets edits at once
    attacker.apply(await attacker.receive())
    assert str(attacker.text) == "x" * 1000 + "!"
    await writer.disconnect()
    await attacker.disconnect()


@override_settings(COLLAB={**THROTTLED, "STATE_REQUEST_LIMIT": 1})
async def test_a_deferred_sync_step1_answers_the_latest_state_vector(
    editor: User, rooms: RoomRegistry
) -> None:
    writer = await connected("latest", editor)
    await writer.edit("abc")
    client = await connected("latest", editor)  # its step 1 used the budget
    await client.send(EMPTY_STATE_VECTOR_STEP1)
    await client.send(encode_sync_step1(client.doc.get_state()))
    answer = await client.receive(timeout=PERIOD * 2)
    assert isinstance(answer, SyncStep2)
    assert answer.update == b"\x00\x00"  # nothing missing: the first request was dropped
    assert await client.communicator.receive_nothing(PERIOD * 1.5)
    await writer.disconnect()
    await client.disconnect()


@override_settings(COLLAB=THROTTLED)
async def test_stock_client_traffic_is_never_held_back(editor: User, rooms: RoomRegistry) -> None:
    """One step 1 per connection, awareness updates as often as they come."""
    for round_ in range(5):
        client = await connected("stock", editor)  # answered at once, every time
        update = encode_awareness_update([AwarenessEntry(client.doc.client_id, round_, {})])
        for _ in range(20):
            await client.send(encode_awareness(update))
        await client.disconnect()


async def test_a_deferred_answer_to_a_closed_connection_is_dropped(
    editor: User, rooms: RoomRegistry
) -> None:
    with override_settings(COLLAB={**THROTTLED, "STATE_REQUEST_LIMIT": 1}):
        client = await connected("gone", editor)
        await client.send(EMPTY_STATE_VECTOR_STEP1)
        await client.disconnect()
        await asyncio.sleep(PERIOD * 1.5)
        assert rooms.get("gone") is None  # unloaded: nothing was left behind

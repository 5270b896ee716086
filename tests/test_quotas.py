"""Quotas per user (anonymous: per address): connections, open documents, documents created.

Over a quota a connection is held for QUOTA_CLOSE_DELAY, then closed with 4409.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import override_settings

from collab.close_codes import CloseCode
from collab.models import Document
from collab.registry import RoomRegistry
from tests.ws import Client, connected

pytestmark = pytest.mark.django_db(transaction=True)

DELAY = 0.3
"""QUOTA_CLOSE_DELAY in these tests."""


@pytest.fixture
def quotas() -> Iterator[None]:
    limits = {
        "MAX_CONNECTIONS_PER_USER": 3,
        "MAX_DOCUMENTS_PER_USER": 2,
        "CREATE_LIMIT": 2,
        "QUOTA_CLOSE_DELAY": DELAY,
        "ANONYMOUS_ACCESS": "edit",
    }
    cache.clear()
    with override_settings(COLLAB=limits):
        yield
    cache.clear()


async def refused_after_delay(client: Client) -> None:
    started = time.monotonic()
    assert await client.refused_with() == CloseCode.QUOTA_EXCEEDED
    assert time.monotonic() - started >= DELAY


def anonymous_from(key: str, address: str) -> Client:
    client = Client(key, None)
    del client.communicator.scope["user"]
    client.communicator.scope["client"] = (address, 50000)
    return client


async def test_connections_per_user(
    editor: User, reader: User, quotas: None, rooms: RoomRegistry
) -> None:
    await Document.objects.acreate(key="a")
    open_ = [await connected("a", editor) for _ in range(3)]
    await refused_after_delay(Client("a", editor))
    assert (await connected("a", reader)) is not None  # another user has a quota of their own

    await open_.pop().disconnect()
    open_.append(await connected("a", editor))  # a closed connection frees its place
    for client in open_:
        await client.disconnect()


async def test_open_documents_per_user(editor: User, quotas: None, rooms: RoomRegistry) -> None:
    for key in ("a", "b", "c"):
        await Document.objects.acreate(key=key)
    first, second = await connected("a", editor), await connected("b", editor)
    await refused_after_delay(Client("c", editor))
    again = await connected("a", editor)  # a document already open is no new one

    await first.disconnect()
    await again.disconnect()  # "a" is closed now
    third = await connected("c", editor)
    for client in (second, third):
        await client.disconnect()


async def test_documents_created_per_period(
    editor: User, quotas: None, rooms: RoomRegistry
) -> None:
    for key in ("new-1", "new-2"):
        await (await connected(key, editor)).disconnect()
    await refused_after_delay(Client("new-3", editor))
    assert not await Document.objects.filter(key="new-3").aexists()
    await (await connected("new-1", editor)).disconnect()  # existing documents still open


async def test_a_new_period_allows_creating_again(editor: User, rooms: RoomRegistry) -> None:
    cache.clear()
    with override_settings(COLLAB={"CREATE_LIMIT": 1, "CREATE_PERIOD": 1, "QUOTA_CLOSE_DELAY": 0}):
        await (await connected("period-1", editor)).disconnect()
        assert await Client("period-2", editor).refused_with() == CloseCode.QUOTA_EXCEEDED
        await asyncio.sleep(1.1)
        await (await connected("period-2", editor)).disconnect()
    cache.clear()


async def test_anonymous_clients_count_per_address(quotas: None, rooms: RoomRegistry) -> None:
    first = anonymous_from("anon-1", "192.0.2.1")
    await first.connect()
    await first.disconnect()
    await (second := anonymous_from("anon-2", "192.0.2.1")).connect()
    await second.disconnect()
    await refused_after_delay(anonymous_from("anon-3", "192.0.2.1"))  # a third creation
    assert not await Document.objects.filter(key="anon-3").aexists()
    other = anonymous_from("anon-3", "192.0.2.2")
    await other.connect()
    await other.disconnect()

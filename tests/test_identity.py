"""Connections without an auth middleware: collab finds the user from the session cookie."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from collab.close_codes import CloseCode
from collab.identity import connection_user, current_user
from collab.models import Document, DocumentUpdate
from collab.protocol import PermissionDenied
from collab.rooms import RoomRegistry
from tests.stored import wait_for_stored_text
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)


def logged_in_cookie(user: User) -> str:
    """A ``Cookie`` header value with another cookie and ``user``'s fresh session."""
    browser = HttpClient()
    browser.force_login(user)
    return f"csrftoken=abc; {settings.SESSION_COOKIE_NAME}={browser.session.session_key}"


async def test_session_cookie_identifies_an_editor(editor: User, rooms: RoomRegistry) -> None:
    cookie = await database_sync_to_async(logged_in_cookie)(editor)
    client = Client("by-cookie", cookie=cookie)
    assert await client.connect() == []
    await client.edit("typed by the editor")
    await wait_for_stored_text("by-cookie", "typed by the editor")
    row = await DocumentUpdate.objects.filter(document__key="by-cookie").alast()
    assert row is not None
    assert row.authors == [editor.pk]
    await client.disconnect()


async def test_session_cookie_identifies_a_reader(reader: User, rooms: RoomRegistry) -> None:
    await Document.objects.acreate(key="read-by-cookie")
    cookie = await database_sync_to_async(logged_in_cookie)(reader)
    client = Client("read-by-cookie", cookie=cookie)
    (notice,) = await client.connect()
    assert isinstance(notice, PermissionDenied)
    await client.disconnect()


def no_cookie(user: User) -> str:
    return ""


def unknown_session(user: User) -> str:
    return f"{settings.SESSION_COOKIE_NAME}=no-such-session"


def password_changed_since(user: User) -> str:
    cookie = logged_in_cookie(user)
    user.set_password("changed")
    user.save()
    return cookie


def logged_out_since(user: User) -> str:
    cookie = logged_in_cookie(user)
    SessionStore(cookie.rpartition("=")[2]).delete()
    return cookie


@pytest.mark.parametrize(
    "make_cookie", [no_cookie, unknown_session, password_changed_since, logged_out_since]
)
async def test_connection_without_a_valid_session_is_anonymous(
    editor: User, rooms: RoomRegistry, make_cookie: Callable[[User], str]
) -> None:
    cookie = await database_sync_to_async(make_cookie)(editor)
    assert await Client("guarded", cookie=cookie).refused_with() == CloseCode.NOT_AUTHENTICATED


def handshake_scope(cookie: str) -> dict[str, object]:
    return {"type": "websocket", "headers": [(b"cookie", cookie.encode())]}


def test_a_storm_of_handshakes_reads_each_session_once(editor: User) -> None:
    """The handshakes of one user's reconnecting tabs reuse what the first one found."""
    scope = handshake_scope(logged_in_cookie(editor))
    first = connection_user(scope)
    assert first.has_perm("collab.change_document")
    with CaptureQueriesContext(connection) as queries:
        again = connection_user(scope)
        assert again.has_perm("collab.change_document")
    assert again.pk == editor.pk
    assert len(queries) == 0, [query["sql"] for query in queries]


@pytest.mark.parametrize(
    "change",
    [
        lambda user: user.groups.clear(),
        lambda user: user.user_permissions.clear(),
        lambda user: User.objects.get(pk=user.pk).save(),
        lambda user: Session.objects.all().delete(),
    ],
    ids=["group-removed", "permission-removed", "user-saved", "session-deleted"],
)
def test_a_change_collab_sees_ends_the_reuse_at_once(
    editor: User, change: Callable[[User], object]
) -> None:
    scope = handshake_scope(logged_in_cookie(editor))
    connection_user(scope).has_perm("collab.change_document")
    change(editor)
    with CaptureQueriesContext(connection) as queries:
        connection_user(scope)
    assert len(queries) > 0


def test_reuse_ends_after_auth_cache_seconds(editor: User, settings: Any) -> None:
    settings.COLLAB = {**settings.COLLAB, "AUTH_CACHE_SECONDS": 0.2}
    scope = handshake_scope(logged_in_cookie(editor))
    connection_user(scope)
    time.sleep(0.3)
    with CaptureQueriesContext(connection) as queries:
        assert connection_user(scope).pk == editor.pk
    assert len(queries) > 0


def test_rechecks_never_reuse_a_user(editor: User) -> None:
    scope = handshake_scope(logged_in_cookie(editor))
    connection_user(scope)
    with CaptureQueriesContext(connection) as queries:
        assert current_user(scope).pk == editor.pk
    assert len(queries) > 0

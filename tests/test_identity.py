"""Connections without an auth middleware: collab finds the user from the session cookie."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client as HttpClient

from collab.close_codes import CloseCode
from collab.models import Document, DocumentUpdate
from collab.protocol import PermissionDenied
from collab.registry import RoomRegistry
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

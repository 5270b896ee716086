"""Handshakes of a reconnect storm reuse what others found moments ago, within bounds."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from collab.exceptions import DocumentDeleted
from collab.identity import connection_user, current_user
from collab.models import Document
from collab.permissions import authorize

pytestmark = pytest.mark.django_db(transaction=True)


def handshake_scope(user: User) -> dict[str, object]:
    """The scope of a handshake sent with ``user``'s fresh session cookie."""
    browser = HttpClient()
    browser.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.session.session_key}"
    return {"type": "websocket", "headers": [(b"cookie", cookie.encode())]}


def test_a_storm_of_handshakes_reads_each_session_once(editor: User) -> None:
    """The handshakes of one user's reconnecting tabs reuse what the first one found."""
    scope = handshake_scope(editor)
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
    scope = handshake_scope(editor)
    connection_user(scope).has_perm("collab.change_document")
    change(editor)
    with CaptureQueriesContext(connection) as queries:
        connection_user(scope)
    assert len(queries) > 0


def test_reuse_ends_after_auth_cache_seconds(editor: User, settings: Any) -> None:
    settings.COLLAB = {**settings.COLLAB, "AUTH_CACHE_SECONDS": 0.2}
    scope = handshake_scope(editor)
    connection_user(scope)
    time.sleep(0.3)
    with CaptureQueriesContext(connection) as queries:
        assert connection_user(scope).pk == editor.pk
    assert len(queries) > 0


def test_rechecks_never_reuse_a_user(editor: User) -> None:
    scope = handshake_scope(editor)
    connection_user(scope)
    with CaptureQueriesContext(connection) as queries:
        assert current_user(scope).pk == editor.pk
    assert len(queries) > 0


def test_a_storm_of_handshakes_reads_each_document_once(editor: User) -> None:
    authorize(editor, "shared")
    with CaptureQueriesContext(connection) as queries:
        authorize(editor, "shared")
    assert len(queries) == 0, [query["sql"] for query in queries]


def test_a_deleted_document_is_not_reused(editor: User) -> None:
    authorize(editor, "deleted-now")
    Document.objects.get(key="deleted-now").delete()
    with pytest.raises(DocumentDeleted):
        authorize(editor, "deleted-now")


def test_a_saved_document_is_read_again(editor: User) -> None:
    authorize(editor, "renamed")
    Document.objects.get(key="renamed").save()
    with CaptureQueriesContext(connection) as queries:
        authorize(editor, "renamed")
    assert len(queries) > 0


def test_reuse_of_a_document_ends_after_auth_cache_seconds_however_often_it_is_used(
    editor: User, settings: Any
) -> None:
    settings.COLLAB = {**settings.COLLAB, "AUTH_CACHE_SECONDS": 0.3}
    authorize(editor, "busy")
    for _ in range(2):  # handshakes keep coming: the entry is not renewed by them
        time.sleep(0.1)
        authorize(editor, "busy")
    time.sleep(0.15)  # 0.35 s after the document was read, 0.15 s after the last reuse
    with CaptureQueriesContext(connection) as queries:
        authorize(editor, "busy")
    assert len(queries) > 0

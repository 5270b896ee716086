"""Open connections follow access changes: downgraded in place, or closed with 4401/4403.

Each test changes what Django records (permissions, groups, sessions, the user) the way
a project or the admin would, in a worker thread, and checks a connection that was
open before. The end-to-end tests (tests/e2e/test_revocation.py) do the same across
two server processes with stock clients.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.contrib.sessions.models import Session
from django.test import Client as HttpClient
from django.test import override_settings

from collab import access
from collab.close_codes import CloseCode
from collab.models import Document
from collab.permissions import Access
from collab.protocol import PermissionDenied
from collab.registry import RoomRegistry
from tests.stored import wait_for_stored_text
from tests.test_identity import logged_in_cookie
from tests.ws import Client, connected

pytestmark = pytest.mark.django_db(transaction=True)

READ_ONLY = PermissionDenied("read-only: your changes are not saved or shared")


def collab_permission(codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label="collab", codename=codename)


async def change(func: Callable[[], Any]) -> None:
    """Run ``func`` (ORM work) in a worker thread, as a view or a shell would."""
    await database_sync_to_async(func)()


async def by_cookie(key: str, user: User) -> tuple[Client, str]:
    """A client logged in with a session of its own (no auth middleware), and that session."""
    cookie = await database_sync_to_async(logged_in_cookie)(user)
    client = Client(key, cookie=cookie)
    await client.connect()
    return client, cookie.rsplit("=", 1)[1]


async def assert_downgraded(client: Client, key: str, before: str) -> None:
    """``client`` was told it may only read, stays open, and its later edits are dropped."""
    assert await client.receive() == READ_ONLY
    await client.edit(" after")
    assert await client.receive() == READ_ONLY
    await wait_for_stored_text(key, before)


async def test_losing_the_edit_permission_downgrades_in_place(
    editor: User, rooms: RoomRegistry
) -> None:
    client = await connected("perm", editor)
    await client.edit("before")
    await wait_for_stored_text("perm", "before")

    await change(lambda: editor.user_permissions.remove(collab_permission("change_document")))

    await assert_downgraded(client, "perm", "before")
    await client.disconnect()


async def test_losing_every_permission_closes_with_4403(editor: User, rooms: RoomRegistry) -> None:
    client = await connected("no-perm", editor)
    await change(editor.user_permissions.clear)
    assert await client.receive_close() == CloseCode.FORBIDDEN


@pytest.mark.parametrize("how", ["logout", "session deleted", "password", "deactivated", "deleted"])
async def test_a_session_that_ends_closes_with_4401(
    editor: User, rooms: RoomRegistry, how: str
) -> None:
    client, session = await by_cookie("session", editor)
    other = await connected("session", editor)  # not made with that session

    def end() -> None:
        if how == "logout":
            browser = HttpClient()
            browser.cookies[settings.SESSION_COOKIE_NAME] = session
            browser.post("/logout/")
        elif how == "session deleted":
            Session.objects.filter(session_key=session).delete()
        elif how == "password":
            editor.set_password("new")
            editor.save()
        elif how == "deactivated":
            editor.is_active = False
            editor.save()
        else:
            editor.delete()

    await change(end)

    assert await client.receive_close() == CloseCode.NOT_AUTHENTICATED
    if how in ("logout", "session deleted", "password"):  # the user may still edit elsewhere
        await other.edit("still")
        await wait_for_stored_text("session", "still")
        await other.disconnect()
    else:
        assert await other.receive_close() == CloseCode.NOT_AUTHENTICATED


async def test_groups_and_their_permissions_are_followed(
    outsider: User, reader: User, rooms: RoomRegistry
) -> None:
    def writers() -> Group:
        group = Group.objects.create(name="writers")
        group.permissions.set([collab_permission("change_document")])
        group.user_set.add(outsider)
        return group

    group = await database_sync_to_async(writers)()
    client = await connected("groups", outsider)
    bystander = await connected("groups", reader)

    await change(lambda: collab_permission("change_document").group_set.remove(group))
    assert await client.receive_close() == CloseCode.FORBIDDEN

    await change(lambda: group.permissions.add(collab_permission("view_document")))
    client = await connected("groups", outsider)
    await change(group.delete)
    assert await client.receive_close() == CloseCode.FORBIDDEN
    await bystander.edit("x")  # a reader's edit is refused, but it stays connected
    assert await bystander.receive() == READ_ONLY
    await bystander.disconnect()


TRUTH: dict[str, Access] = {}
"""What :func:`project_policy` answers, per document key."""


def project_policy(user: object, key: str, document: Document | None) -> Access:
    """A project's own policy: reads something collab cannot watch."""
    return TRUTH.get(key, Access.EDIT)


@pytest.fixture
def own_policy() -> Iterator[None]:
    with override_settings(COLLAB={"PERMISSION_POLICY": f"{__name__}.project_policy"}):
        yield
    TRUTH.clear()


async def test_a_project_policy_is_followed_after_recheck(
    editor: User, reader: User, rooms: RoomRegistry, own_policy: None
) -> None:
    client = await connected("policy", editor)
    other = await connected("policy-other", editor)
    await client.edit("before")
    await wait_for_stored_text("policy", "before")

    TRUTH["policy"] = Access.READ
    TRUTH["policy-other"] = Access.NONE  # not rechecked: keeps its access
    await access.arecheck(key="policy")
    await assert_downgraded(client, "policy", "before")

    TRUTH["policy"] = Access.NONE
    await change(lambda: access.recheck(user=editor))
    assert await client.receive_close() == CloseCode.FORBIDDEN
    assert await other.receive_close() == CloseCode.FORBIDDEN


async def test_a_login_elsewhere_changes_nothing(editor: User, rooms: RoomRegistry) -> None:
    client = await connected("login", editor)
    await change(lambda: HttpClient().force_login(editor))
    await client.edit("still editing")
    await wait_for_stored_text("login", "still editing")
    assert await client.communicator.receive_nothing(0.1)
    await client.disconnect()

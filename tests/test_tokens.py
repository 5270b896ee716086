"""Signed tokens: a client connects as a user without a cookie, within the token's limits."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser, User
from django.core import signing
from django.core.management import CommandError, call_command
from django.template import Context, Template

from collab.close_codes import CloseCode
from collab.exceptions import InvalidToken, TokenNotForDocument
from collab.permissions import Access
from collab.protocol import PermissionDenied
from collab.registry import RoomRegistry
from collab.tokens import make_token, read_token
from tests.stored import stored_text, wait_for_stored_text
from tests.test_identity import logged_in_cookie
from tests.ws import Client, connected

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_token_names_its_user_and_limits(editor: User) -> None:
    grant = read_token(make_token(editor, keys=["a", "b"], read_only=True))
    assert grant.user.pk == editor.pk
    assert grant.most("a") is Access.READ
    with pytest.raises(TokenNotForDocument):
        grant.most("c")
    assert read_token(make_token(editor)).most("any") is Access.EDIT


def tampered(token: str) -> str:
    """``token`` with one character of its payload changed."""
    index = 5
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]


BAD_TOKENS: dict[str, Callable[[User], str]] = {
    "expired": lambda user: make_token(user, max_age=0),
    "tampered": lambda user: tampered(make_token(user)),
    "signed for something else": lambda user: signing.dumps({"u": user.pk, "e": 2**40}),
    "not a token": lambda user: "hello",
}


@pytest.mark.parametrize("make", BAD_TOKENS.values(), ids=BAD_TOKENS)
def test_a_bad_token_is_invalid(editor: User, make: Callable[[User], str]) -> None:
    with pytest.raises(InvalidToken):
        read_token(make(editor))


USER_CHANGES: dict[str, Callable[[User], None]] = {
    "deleted": lambda user: user.delete(),
    "deactivated": lambda user: User.objects.filter(pk=user.pk).update(is_active=False),
    "changed the password": lambda user: (user.set_password("new"), user.save()),
}


@pytest.mark.parametrize("change", USER_CHANGES.values(), ids=USER_CHANGES)
def test_a_token_ends_when_its_user_is_gone_or_changed_the_password(
    editor: User, change: Callable[[User], None]
) -> None:
    token = make_token(editor)
    change(editor)
    with pytest.raises(InvalidToken):
        read_token(token, reuse=False)


async def test_a_token_connects_its_user_without_cookie_or_trusted_origin(
    editor: User, rooms: RoomRegistry
) -> None:
    """A page can only send a token it was given: the Origin is not checked."""
    client = Client("tokened", token=make_token(editor, keys=["tokened"]))
    client.communicator.scope["headers"].append((b"origin", b"http://other.example"))
    assert await client.connect() == []
    await client.edit("by token")
    await wait_for_stored_text("tokened", "by token")
    room = rooms.get("tokened")
    assert room is not None
    assert [peer.user_id for peer in room._peers] == [editor.pk]
    await client.disconnect()


async def test_a_read_only_token_reads_and_creates_nothing(
    editor: User, rooms: RoomRegistry
) -> None:
    writer = await connected("read-token", editor)
    await writer.edit("base")
    reader = Client("read-token", token=make_token(editor, read_only=True))
    (notice,) = await reader.connect()
    assert isinstance(notice, PermissionDenied)
    assert str(reader.text) == "base"
    await reader.edit(" and more")
    await wait_for_stored_text("read-token", "base")
    assert await database_sync_to_async(stored_text)("read-token") == "base"
    creator = Client("read-token-new", token=make_token(editor, read_only=True))
    assert await creator.refused_with() == CloseCode.NOT_FOUND
    await writer.disconnect()
    await reader.disconnect()


async def test_the_policy_still_decides(
    editor: User, reader: User, outsider: User, rooms: RoomRegistry
) -> None:
    """A token can only narrow what the permission policy grants its user."""
    writer = await connected("policy-token", editor)
    viewer = Client("policy-token", token=make_token(reader))
    (notice,) = await viewer.connect()
    assert isinstance(notice, PermissionDenied)
    nobody = Client("policy-token", token=make_token(outsider))
    assert await nobody.refused_with() == CloseCode.FORBIDDEN
    await viewer.disconnect()
    await writer.disconnect()


REFUSED: dict[str, tuple[Callable[[User], str], CloseCode]] = {
    **{name: (make, CloseCode.NOT_AUTHENTICATED) for name, make in BAD_TOKENS.items()},
    "for another document": (
        lambda user: make_token(user, keys=["elsewhere"]),
        CloseCode.FORBIDDEN,
    ),
}


@pytest.mark.parametrize(("make", "code"), REFUSED.values(), ids=REFUSED)
async def test_a_bad_token_is_refused(
    editor: User, rooms: RoomRegistry, make: Callable[[User], str], code: CloseCode
) -> None:
    """Even when the handshake also carries the user's session: the token decides."""
    cookie = await database_sync_to_async(logged_in_cookie)(editor)
    client = Client("refused-token", token=make(editor))
    client.communicator.scope["headers"].append((b"cookie", cookie.encode()))
    assert await client.refused_with() == code


async def test_a_password_change_closes_the_users_token_connections(
    editor: User, rooms: RoomRegistry
) -> None:
    client = Client("password-token", token=make_token(editor))
    await client.connect()

    def change_password() -> None:
        editor.set_password("changed")
        editor.save()

    await database_sync_to_async(change_password)()
    assert await client.receive_close(timeout=5) == CloseCode.NOT_AUTHENTICATED


def test_the_command_prints_a_token(editor: User) -> None:
    out = io.StringIO()
    call_command(
        "collab_token", "editor", "--key", "a", "--read-only", "--max-age", "60", stdout=out
    )
    grant = read_token(out.getvalue().strip())
    assert grant.user.pk == editor.pk
    assert grant.most("a") is Access.READ
    with pytest.raises(TokenNotForDocument):
        grant.most("b")
    with pytest.raises(CommandError, match="No active user"):
        call_command("collab_token", "nobody")
    with pytest.raises(CommandError, match="positive"):
        call_command("collab_token", "editor", "--max-age", "0")


def test_the_template_tag_hands_the_pages_user_a_token(editor: User) -> None:
    template = Template("{% load collab %}{% collab_token 'page-doc' read_only=True %}")
    grant = read_token(template.render(Context({"user": editor})))
    assert grant.user.pk == editor.pk
    assert grant.most("page-doc") is Access.READ
    assert template.render(Context({"user": AnonymousUser()})) == ""

"""Who a websocket connection acts for: the user in its scope, or its session's user."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.http.cookie import parse_cookie

from collab import recent
from collab.exceptions import InvalidToken, TokenNotForDocument
from collab.permissions import Access
from collab.tokens import read_token, token_of

if TYPE_CHECKING:
    from collab.permissions import User


def connection_grant(scope: Mapping[str, Any], key: str) -> tuple[User, Access]:
    """The user a connection acts for, and the most its credential allows on ``key``.

    Blocking: uses the database. A connection with a token (:mod:`collab.tokens`) acts
    for the token's user, within the token's limits; any other for its session's user
    (:func:`connection_user`), limited by the policy only.

    Raises:
        InvalidToken: The token is not valid (any more).
        TokenNotForDocument: The token names other documents.
    """
    token = token_of(scope)
    if token is None:
        return connection_user(scope), Access.EDIT
    grant = read_token(token)
    return grant.user, grant.most(key)


def current_grant(scope: Mapping[str, Any], key: str) -> tuple[User, Access]:
    """:func:`connection_grant` as of now, for an open connection (blocking; no reuse).

    A token that is no longer valid (expired, its user changed the password) allows
    nothing, rather than raising.
    """
    token = token_of(scope)
    if token is None:
        return current_user(scope), Access.EDIT
    try:
        grant = read_token(token, reuse=False)
        return grant.user, grant.most(key)
    except (InvalidToken, TokenNotForDocument):
        return AnonymousUser(), Access.NONE


def connection_user(scope: Mapping[str, Any]) -> User:
    """Return the user of the connection described by ``scope`` (blocking: uses the database).

    A Channels ``AuthMiddlewareStack`` around the route has already put the user in
    ``scope["user"]``. Without one, the user comes from the Django session named by the
    handshake's session cookie, looked up once (:func:`session_user`), as Django's
    ``AuthenticationMiddleware`` does for a request; a user another handshake found for
    the same session moments ago is reused (:mod:`collab.recent`).
    """
    if "user" in scope:
        user: User = scope["user"]
        return user
    key = session_key(scope)
    if key is None:
        return AnonymousUser()
    found = recent.users.get(key)
    if found is None:
        found = session_user(key)
        if found.is_authenticated:
            recent.users.put(key, found)
    return found


def current_user(scope: Mapping[str, Any]) -> User:
    """Return the user of an open connection as of now (blocking: uses the database).

    For checking a connection again after a change (:mod:`collab.access`): the session
    is read again, so a logout, a deleted session or user, a changed password or a
    deactivated user make the connection anonymous. A user put in the scope by other
    middleware than Channels' session-based ``AuthMiddlewareStack`` is loaded again,
    and counts as anonymous once deleted or deactivated.
    """
    session = scope.get("session")
    if "user" not in scope:
        return session_user(session_key(scope))
    if session is not None:
        return session_user(session.session_key)
    return _reloaded(scope["user"])


def session_user(key: str | None) -> User:
    """The user logged in with the session of ``key``, as Django's auth middleware finds it.

    The session's auth hash is verified, so a changed password or a logout ends that
    session's access, and a missing or unknown session is anonymous.
    """
    if not key:
        return AnonymousUser()
    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(key)
    # The project's user model, as permission policies see it (stubs type it as the base).
    return cast("User", auth.get_user(request))


def _reloaded(user: User) -> User:
    """``user`` read again from the database; anonymous if gone or inactive."""
    if not user.is_authenticated:
        return user
    found = auth.get_user_model()._default_manager.filter(pk=user.pk).first()
    if found is None or not getattr(found, "is_active", True):
        return AnonymousUser()
    return cast("User", found)


def session_key(scope: Mapping[str, Any]) -> str | None:
    """The session key the handshake's session cookie holds; None without one (no I/O)."""
    return _cookies(scope).get(settings.SESSION_COOKIE_NAME) or None


def _cookies(scope: Mapping[str, Any]) -> dict[str, str]:
    """The cookies sent with the handshake (every ``Cookie`` header, in order)."""
    headers = scope.get("headers") or []
    values = [value.decode("latin-1") for name, value in headers if name.lower() == b"cookie"]
    return parse_cookie("; ".join(values))

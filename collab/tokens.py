"""Signed, expiring tokens: a client connects as a user without a session cookie.

A token names a user and, optionally, the documents it opens and that it may only read.
It is made with Django's signing (``SECRET_KEY``, salted for collab) and carries its
expiry. It is also bound to the user's password: changing the password ends every token
of the user, as it ends the user's sessions. A token can only narrow what the permission
policy grants; the policy still decides.

A y-websocket client sends its token in the query string (``?token=``: the provider's
``params`` option). A token carries no ambient credential, unlike a cookie the browser
adds to every handshake, so a page of another origin can only use a token it was given:
token connections need no ``Origin`` check. The token is the connection's only
credential: a session cookie sent beside it is ignored.

Tokens travel in URLs, which servers and proxies may log: keep them short-lived (the
default is :data:`DEFAULT_MAX_AGE`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs

from django.contrib.auth import get_user_model
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from collab import recent
from collab.exceptions import InvalidToken, TokenNotForDocument
from collab.permissions import Access

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from collab.permissions import User

__all__ = ["DEFAULT_MAX_AGE", "QUERY_PARAMETER", "Grant", "make_token", "read_token"]

SALT = "collab.tokens"
"""Signing salt: a token is valid for collab only, not for other users of signing."""

DEFAULT_MAX_AGE = 3600
"""Seconds a token stays valid unless its maker says otherwise."""

QUERY_PARAMETER = "token"
"""The query-string parameter of the websocket URL that carries a token."""


@dataclass(frozen=True)
class Grant:
    """What a valid token lets its holder do: act as ``user``, within its limits."""

    user: User
    keys: frozenset[str] | None
    """The documents it opens; ``None``: any document the policy allows."""
    read_only: bool

    def most(self, key: str) -> Access:
        """The most this token allows on document ``key`` (the policy may allow less).

        Raises:
            TokenNotForDocument: The token names other documents only.
        """
        if self.keys is not None and key not in self.keys:
            raise TokenNotForDocument(f"the token is not for document {key[:100]!r}")
        return Access.READ if self.read_only else Access.EDIT


def make_token(
    user: AbstractBaseUser,
    *,
    keys: Iterable[str] | None = None,
    read_only: bool = False,
    max_age: int = DEFAULT_MAX_AGE,
) -> str:
    """A token letting its holder connect as ``user`` for ``max_age`` seconds.

    Args:
        user: Who the holder acts as (a saved, active user).
        keys: The documents it opens; default: any the policy allows ``user``.
        read_only: Whether it only reads, even where the policy allows editing.
        max_age: Seconds until it expires.
    """
    payload: dict[str, Any] = {
        "u": user.pk,
        "p": _password_tag(user),
        "e": int(time.time()) + max_age,
    }
    if keys is not None:
        payload["k"] = sorted(set(keys))
    if read_only:
        payload["r"] = 1
    return signing.dumps(payload, salt=SALT, compress=True)


SCOPE_KEY = "collab.token"
"""Where a protocol that sends tokens in its own messages (Hocuspocus) puts one in a scope."""


def token_of(scope: Mapping[str, Any]) -> str | None:
    """The connection's token, if any (no I/O).

    The token its auth message carried (:data:`SCOPE_KEY`; an empty one is none), or
    else the one in the handshake's query string.
    """
    if SCOPE_KEY in scope:
        return scope[SCOPE_KEY] or None
    query = scope.get("query_string") or b""
    values = parse_qs(query.decode("latin-1")).get(QUERY_PARAMETER)
    return values[-1] if values else None


def read_token(token: str, *, reuse: bool = True) -> Grant:
    """Check ``token`` and load its user (blocking: reads the user).

    With ``reuse``, a user another handshake found for the same token moments ago is
    reused (:mod:`collab.recent`); rechecks of open connections pass ``False``. The
    signature and the expiry are checked every time.

    Raises:
        InvalidToken: The token is malformed, tampered with, expired, or its user is
            gone, inactive or changed the password.
    """
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise InvalidToken("the token is malformed or was tampered with") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("e"), int):
        raise InvalidToken("the token is malformed")
    if payload["e"] <= time.time():
        raise InvalidToken("the token expired")
    cache_key = f"token:{token}"
    user = recent.users.get(cache_key) if reuse else None
    if user is None:
        found = _active_user(payload.get("u"))
        if found is None or not constant_time_compare(str(payload.get("p")), _password_tag(found)):
            raise InvalidToken("the token's user is gone, inactive or changed the password")
        user = cast("User", found)  # the project's user model, as policies see it
        recent.users.put(cache_key, user)
    keys = payload.get("k")
    return Grant(
        user=user,
        keys=None if keys is None else frozenset(str(key) for key in keys),
        read_only=bool(payload.get("r")),
    )


def _active_user(pk: object) -> AbstractBaseUser | None:
    """The active user with primary key ``pk``, if any."""
    if not isinstance(pk, (int, str)):
        return None
    found = get_user_model()._default_manager.filter(pk=pk).first()
    if found is None or not getattr(found, "is_active", True):
        return None
    return found


def _password_tag(user: AbstractBaseUser) -> str:
    """A short digest of the user's password hash: it changes with the password."""
    return salted_hmac(SALT, user.password or "", algorithm="sha256").hexdigest()[:20]

"""Which pages may open a websocket with the user's credentials: Django's CSRF origin rule.

Browsers send a site's cookies with every websocket handshake to it, whatever page
opens the socket, and the same-origin policy does not apply to websockets. So a page
of another origin (another site, or this host under another scheme or port) could act
as the logged-in user, unless the server checks the ``Origin`` header the browser sets.
collab checks it the way Django's ``CsrfViewMiddleware`` checks the ``Origin`` of an
unsafe HTTP request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.utils.http import is_same_domain

from collab.exceptions import UntrustedOrigin
from collab.identity import session_key
from collab.tokens import token_of


def check_origin(scope: Mapping[str, Any]) -> None:
    """Refuse a handshake that carries credentials and comes from a page of another origin.

    A handshake carries credentials if it sends a session cookie, or if an auth
    middleware put an authenticated user in ``scope["user"]``. Its ``Origin`` must then
    be the websocket's own origin (``http`` for ``ws``, ``https`` for ``wss``, and the
    ``Host`` header, which ``ALLOWED_HOSTS`` must allow), or be in
    ``CSRF_TRUSTED_ORIGINS``. As for an HTTP request, ``SECURE_PROXY_SSL_HEADER`` decides
    the scheme when set and its header is present.

    A handshake without ``Origin`` passes: browsers always send one, so it comes from
    another kind of client, which could send any ``Origin`` it liked. A handshake
    without credentials passes too: it can do nothing a page could not do from its own
    server. So does one with a token (:mod:`collab.tokens`), whose cookies are ignored.
    No I/O: the check runs before the user or the document is looked up.

    Raises:
        UntrustedOrigin: The handshake carries credentials from a page of another origin.
    """
    if not _carries_credentials(scope):
        return
    handshake = _Handshake(scope)
    origin = handshake.META.get("HTTP_ORIGIN")
    if origin is None:
        return
    own = _own_origin(handshake)
    if origin != own and not _is_trusted(origin):
        expected = own or "none: its Host is not in ALLOWED_HOSTS"
        raise UntrustedOrigin(
            f"origin {origin[:100]!r} is neither the websocket's ({expected}) "
            "nor in CSRF_TRUSTED_ORIGINS"
        )


class _Handshake(HttpRequest):
    """A websocket handshake as Django sees an HTTP request, for ``get_host`` and ``scheme``.

    ``META`` holds the handshake's headers and server address as Django's ``ASGIRequest``
    puts them there; the scheme without a trusted proxy header comes from the ASGI scope.
    """

    def __init__(self, scope: Mapping[str, Any]) -> None:
        super().__init__()
        self._secure = scope.get("scheme") == "wss"
        server_name, server_port = scope.get("server") or ("unknown", "0")
        self.META = {"SERVER_NAME": server_name, "SERVER_PORT": str(server_port)}
        for raw_name, raw_value in scope.get("headers") or ():
            name = "HTTP_" + raw_name.decode("latin-1").upper().replace("-", "_")
            value = raw_value.decode("latin-1")
            self.META[name] = f"{self.META[name]},{value}" if name in self.META else value

    def _get_scheme(self) -> str:
        return "https" if self._secure else "http"


def _carries_credentials(scope: Mapping[str, Any]) -> bool:
    """Whether the handshake sends a session cookie or has an authenticated scope user.

    Not if it carries a token: the token is then the connection's only credential, and
    a page can only send a token it was given (:mod:`collab.tokens`).
    """
    if token_of(scope) is not None:
        return False
    user = scope.get("user")
    return session_key(scope) is not None or bool(user is not None and user.is_authenticated)


def _own_origin(handshake: _Handshake) -> str | None:
    """The origin of a page served where the websocket is; None if the host is not allowed."""
    try:
        return f"{handshake.scheme}://{handshake.get_host()}"
    except DisallowedHost:
        return None


def _is_trusted(origin: str) -> bool:
    """Whether ``CSRF_TRUSTED_ORIGINS`` lists ``origin``, or a ``scheme://*.domain`` of it."""
    trusted: list[str] = settings.CSRF_TRUSTED_ORIGINS
    if "*" not in origin and origin in trusted:
        return True
    try:
        scheme, netloc = urlsplit(origin)[:2]
    except ValueError:
        return False
    wildcards = (urlsplit(entry) for entry in trusted if "*" in entry)
    return any(
        is_same_domain(netloc, wildcard.netloc.lstrip("*"))
        for wildcard in wildcards
        if wildcard.scheme == scheme
    )

"""collab checks the Origin of handshakes that carry credentials, as Django's CSRF check does."""

from __future__ import annotations

import logging

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser, User
from django.test import override_settings

from collab.close_codes import CloseCode
from collab.consumers import DocumentConsumer
from collab.models import Document
from collab.registry import RoomRegistry
from tests.test_identity import logged_in_cookie
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)

HOST = "testserver"
"""The handshake's ``Host``, allowed by the test settings' ``ALLOWED_HOSTS``."""


def handshake(
    cookie: str | None,
    origin: str | None,
    *,
    scheme: str = "ws",
    host: str = HOST,
    user: User | AnonymousUser | None = None,
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> Client:
    """A client whose handshake sends ``cookie``, ``origin`` and ``host`` over ``scheme``."""
    client = Client("origins", user=user, cookie=cookie)
    scope = client.communicator.scope
    scope["scheme"] = scheme
    scope["headers"] = [*scope["headers"], (b"host", host.encode()), *headers]
    if origin is not None:
        scope["headers"].append((b"origin", origin.encode()))
    return client


@pytest.fixture
async def cookie(editor: User) -> str:
    """The ``Cookie`` header of a browser in which ``editor`` is logged in."""
    return await database_sync_to_async(logged_in_cookie)(editor)


ACCEPTED = {
    "same origin": ("http://testserver", "ws", {}),
    "same origin over TLS": ("https://testserver", "wss", {}),
    "missing origin": (None, "ws", {}),
    "trusted origin": (
        "https://app.example.com",
        "ws",
        {"CSRF_TRUSTED_ORIGINS": ["https://app.example.com"]},
    ),
    "trusted subdomain": (
        "https://docs.example.com",
        "ws",
        {"CSRF_TRUSTED_ORIGINS": ["https://*.example.com"]},
    ),
    "trusted domain of a wildcard": (
        "https://example.com",
        "ws",
        {"CSRF_TRUSTED_ORIGINS": ["https://*.example.com"]},
    ),
}
"""Handshakes with a session cookie that may connect: origin, scheme, settings."""

REFUSED = {
    "foreign origin": ("http://evil.example", "ws", {}),
    "other port": ("http://testserver:1", "ws", {}),
    "http page, wss socket": ("http://testserver", "wss", {}),
    "https page, ws socket": ("https://testserver", "ws", {}),
    "null origin": ("null", "ws", {}),
    "trusted origin, other port": (
        "https://app.example.com:8443",
        "ws",
        {"CSRF_TRUSTED_ORIGINS": ["https://app.example.com"]},
    ),
    "wildcard of another scheme": (
        "http://docs.example.com",
        "ws",
        {"CSRF_TRUSTED_ORIGINS": ["https://*.example.com"]},
    ),
    "wildcard of another domain": (
        "https://example.com.evil",
        "ws",
        {"CSRF_TRUSTED_ORIGINS": ["https://*.example.com"]},
    ),
}
"""Handshakes with a session cookie that are refused: origin, scheme, settings."""


@pytest.mark.parametrize(("origin", "scheme", "settings"), ACCEPTED.values(), ids=ACCEPTED)
async def test_a_trusted_origin_syncs(
    cookie: str, rooms: RoomRegistry, origin: str | None, scheme: str, settings: dict[str, object]
) -> None:
    with override_settings(**settings):
        client = handshake(cookie, origin, scheme=scheme)
        assert await client.connect() == []
    await client.disconnect()


@pytest.mark.parametrize(("origin", "scheme", "settings"), REFUSED.values(), ids=REFUSED)
async def test_another_origin_is_refused(
    cookie: str, rooms: RoomRegistry, origin: str, scheme: str, settings: dict[str, object]
) -> None:
    with override_settings(**settings):
        client = handshake(cookie, origin, scheme=scheme)
        assert await client.refused_with() == CloseCode.UNTRUSTED_ORIGIN


async def test_a_host_outside_allowed_hosts_is_not_an_origin_of_the_site(
    cookie: str, rooms: RoomRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    client = handshake(cookie, "http://evil.example", host="evil.example")
    assert await client.refused_with() == CloseCode.UNTRUSTED_ORIGIN
    assert "(none: its Host is not in ALLOWED_HOSTS)" in caplog.text


async def test_the_port_is_part_of_the_sites_origin(cookie: str, rooms: RoomRegistry) -> None:
    at_8000 = handshake(cookie, "http://127.0.0.1:8000", host="127.0.0.1:8000")
    assert await at_8000.connect() == []
    await at_8000.disconnect()
    other_port = handshake(cookie, "http://127.0.0.1:9999", host="127.0.0.1:8000")
    assert await other_port.refused_with() == CloseCode.UNTRUSTED_ORIGIN


@override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
@pytest.mark.parametrize(
    ("proto", "origin"), [("https", "https://testserver"), ("http", "http://testserver")]
)
async def test_a_trusted_proxy_header_decides_the_scheme(
    cookie: str, rooms: RoomRegistry, proto: str, origin: str
) -> None:
    forwarded = ((b"x-forwarded-proto", proto.encode()),)
    client = handshake(cookie, origin, headers=forwarded)
    assert await client.connect() == []
    await client.disconnect()
    other = "http://testserver" if proto == "https" else "https://testserver"
    assert await handshake(cookie, other, headers=forwarded).refused_with() == (
        CloseCode.UNTRUSTED_ORIGIN
    )


@override_settings(USE_X_FORWARDED_HOST=True)
async def test_a_trusted_forwarded_host_is_the_host(cookie: str, rooms: RoomRegistry) -> None:
    forwarded = ((b"x-forwarded-host", b"testserver"),)
    client = handshake(cookie, "http://testserver", host="127.0.0.1:8001", headers=forwarded)
    assert await client.connect() == []
    await client.disconnect()


async def test_an_authenticated_scope_user_is_checked_too(
    editor: User, rooms: RoomRegistry
) -> None:
    client = handshake(None, "http://evil.example", user=editor)
    assert await client.refused_with() == CloseCode.UNTRUSTED_ORIGIN


async def test_anonymous_connections_without_a_cookie_are_not_checked(rooms: RoomRegistry) -> None:
    with override_settings(COLLAB={"ANONYMOUS_ACCESS": "edit"}):
        by_scope = handshake(None, "http://evil.example", user=AnonymousUser())
        assert await by_scope.connect() == []
        without_cookie = handshake("csrftoken=abc", "http://evil.example")
        assert await without_cookie.connect() == []
    await by_scope.disconnect()
    await without_cookie.disconnect()


async def test_the_refusal_comes_before_any_lookup_and_is_logged(
    cookie: str,
    rooms: RoomRegistry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def looked_up(consumer: DocumentConsumer) -> None:
        raise AssertionError("the user and the document were looked up")

    monkeypatch.setattr(DocumentConsumer, "_authorize", looked_up)
    with caplog.at_level(logging.WARNING, logger="collab"):
        code = await handshake(cookie, "http://testserver:1").refused_with()
    assert code == CloseCode.UNTRUSTED_ORIGIN
    (record,) = (r for r in caplog.records if r.name == "collab.consumers")
    assert record.levelno == logging.WARNING
    assert "'http://testserver:1' is neither the websocket's (http://testserver)" in record.message
    assert not await Document.objects.filter(key="origins").aexists()

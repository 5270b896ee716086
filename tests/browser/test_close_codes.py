"""The bundled editor stops on every permanent close code and says why; it retries the others."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import WebSocketRoute, expect

from collab.close_codes import CloseCode
from tests.browser.conftest import SERVER_SETTINGS, OpenPage
from tests.browser.test_editing import expect_status

pytestmark = [pytest.mark.browser, SERVER_SETTINGS]

RETRY_WINDOW_MS = 3000
"""Longer than the client's first reconnection delays (at most 500 ms, then 1 s)."""


class Sockets:
    """Connects every page socket to the server, keeping each so a test can close it."""

    def __init__(self) -> None:
        self.opened: list[WebSocketRoute] = []

    def route(self, page_socket: WebSocketRoute) -> None:
        page_socket.connect_to_server()
        self.opened.append(page_socket)


@pytest.mark.parametrize(
    ("code", "says"),
    [
        (CloseCode.DOCUMENT_DELETED, "This document was deleted (4410)"),
        (CloseCode.CONTENT_REFUSED, "Disconnected: the server refused a change"),
        (CloseCode.NOT_AUTHENTICATED, "Not signed in: sign in to open this document (4401)"),
        (CloseCode.UNTRUSTED_ORIGIN, "the server does not trust pages at this address (4412)"),
    ],
)
def test_permanent_close_stops_the_editor_and_says_why(
    open_page: OpenPage, alice: User, code: CloseCode, says: str
) -> None:
    sockets = Sockets()
    page = open_page(alice, f"/editor/closed-{code}/plain/", sockets.route)
    expect_status(page, "synced")

    sockets.opened[0].close(code=code, reason="")

    expect_status(page, "denied")
    expect(page.locator(".collab-status")).to_contain_text(says)
    expect(page.locator(".cm-content")).to_have_attribute("contenteditable", "false")
    page.wait_for_timeout(RETRY_WINDOW_MS)
    assert len(sockets.opened) == 1


@pytest.mark.parametrize(
    "code", [CloseCode.SERVER_ERROR, CloseCode.GOING_AWAY, CloseCode.CLIENT_TOO_SLOW]
)
def test_transient_close_reconnects(open_page: OpenPage, alice: User, code: CloseCode) -> None:
    sockets = Sockets()
    page = open_page(alice, f"/editor/closed-{code}/plain/", sockets.route)
    expect_status(page, "synced")

    sockets.opened[0].close(code=code, reason="")

    expect_status(page, "offline")
    expect_status(page, "synced")
    assert len(sockets.opened) == 2

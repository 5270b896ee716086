"""The form widget in a real browser: seeding a new document, and submitting its content."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, WebSocketRoute

from tests.browser.conftest import SERVER_SETTINGS, OpenPage
from tests.browser.test_editing import expect_content, expect_status, type_at_end

pytestmark = [pytest.mark.browser, SERVER_SETTINGS]

SEEDS = {
    "plain": ("Line one\nLine two", " and more", "Line one\nLine two and more"),
    "rich": (
        "<p>Seeded <strong>text</strong></p>",
        " and more",
        "<p>Seeded <strong>text and more</strong></p>",
    ),
}
"""Per mode: the field's value, what a user types at its end, and the resulting content."""


class HeldServer:
    """Holds every frame the server sends to the pages until :meth:`release`.

    Both pages then get the server's answer to their first sync, an empty document,
    in the same instant: both seed it, as two users opening it at once would.
    """

    def __init__(self) -> None:
        self.held: list[tuple[WebSocketRoute, str | bytes]] = []
        self.released = False

    def route(self, page_socket: WebSocketRoute) -> None:
        def forward(frame: str | bytes) -> None:
            if self.released:
                page_socket.send(frame)
            else:
                self.held.append((page_socket, frame))

        page_socket.connect_to_server().on_message(forward)

    def release_when_connected(self, sockets: int, page: Page) -> None:
        while len({id(socket) for socket, _ in self.held}) < sockets:
            page.wait_for_timeout(20)  # lets Playwright run the route callbacks
        self.released = True
        for socket, frame in self.held:
            socket.send(frame)


@pytest.mark.parametrize("mode", ["plain", "rich"])
def test_two_users_seed_a_new_document_once_and_submit_it(
    open_page: OpenPage, alice: User, bob: User, mode: str
) -> None:
    value, typed, result = SEEDS[mode]
    server = HeldServer()
    path = f"/form/seeded-{mode}/{mode}/?" + urlencode({"initial": value})
    alice_page = open_page(alice, path, server.route)
    bob_page = open_page(bob, path, server.route)
    server.release_when_connected(2, alice_page)

    for page in (alice_page, bob_page):
        expect_status(page, "synced")
        expect_content(page, value)
    type_at_end(alice_page, mode, typed)
    expect_content(bob_page, result)

    bob_page.get_by_role("button", name="Save").click()
    assert bob_page.locator("body").inner_text() == result

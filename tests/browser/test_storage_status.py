"""While the server says it cannot store, the editor does not say "Synced"."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import WebSocketRoute, expect

from collab.protocol import AwarenessEntry, encode_awareness, encode_awareness_update
from tests.browser.conftest import SERVER_SETTINGS, OpenPage
from tests.browser.test_editing import expect_status

pytestmark = [pytest.mark.browser, SERVER_SETTINGS]

SERVER_CLIENT_ID = 1234567
"""The awareness client id the test server peer speaks for (the server document's)."""


def server_state(state: object, clock: int) -> bytes:
    entry = AwarenessEntry(client_id=SERVER_CLIENT_ID, clock=clock, state=state)
    return encode_awareness(encode_awareness_update([entry]))


@pytest.mark.parametrize("mode", ["plain", "rich"])
def test_storage_failing_is_shown_until_the_server_clears_it(
    open_page: OpenPage, alice: User, mode: str
) -> None:
    sockets: list[WebSocketRoute] = []

    def route(page_socket: WebSocketRoute) -> None:
        page_socket.connect_to_server()
        sockets.append(page_socket)

    page = open_page(alice, f"/editor/storage-{mode}/{mode}/", route)
    status = page.locator(".collab-status")
    expect_status(page, "synced")
    expect(status).to_have_text("Synced")

    sockets[0].send(server_state({"collab": {"storage": "failing"}}, 1))

    expect(status).to_have_attribute("data-storage", "failing")
    expect(status).to_have_text(
        "Connected, but not saved yet: the server cannot store changes right now and keeps retrying"
    )
    expect(page.locator(".collab-presence li")).to_have_text(["alice (you)"])

    sockets[0].send(server_state(None, 2))

    expect(status).to_have_attribute("data-storage", "ok")
    expect(status).to_have_text("Synced")

"""Unsent edits survive the tab: a prompt before leaving, and the opt-in offline mode."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import APIResponse, Dialog, Page, Route, expect

from collab.widgets import offline_scope
from tests.browser.conftest import SERVER_SETTINGS, OpenPage
from tests.browser.test_editing import expect_content, expect_status, type_at_end
from tests.e2e.server import ServerProcess
from tests.stored import wait_until_stored

pytestmark = [pytest.mark.browser, SERVER_SETTINGS]

RECONNECT_TIMEOUT = 20_000
"""Milliseconds a page may take to reconnect once the server is back (backoff with jitter)."""


ANSWER_MS = 300
"""Milliseconds between the last keystroke and leaving the page."""


class PageCache:
    """Serves the test pages and static files from what was fetched while the server ran,
    as the browser's cache would, so a page reloads while the server is down."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.responses: dict[str, APIResponse] = {}

    def route(self, route: Route) -> None:
        url = route.request.url
        if self.server.running:
            self.responses[url] = route.fetch()
        if url in self.responses:
            route.fulfill(response=self.responses[url])
        else:
            route.abort()


@pytest.mark.parametrize(("offline", "kept"), [(True, True), (False, False)])
def test_edit_made_while_the_server_is_down_survives_a_reload(
    open_page: OpenPage, server: ServerProcess, alice: User, offline: bool, kept: bool
) -> None:
    key = f"offline-reload-{offline}"
    path = f"/editor/{key}/plain/" + ("?offline=1" if offline else "")
    cache = PageCache(server)
    page = open_page(alice, "/static/collab/collab-editor.css")
    page.context.route(re.compile(r"/(editor|static)/"), cache.route)
    page.goto(server.origin + path)
    expect_status(page, "synced")
    type_at_end(page, "plain", "Before.")
    wait_until_stored(key, "Before.", 5)

    server.stop()
    expect_status(page, "offline")
    type_at_end(page, "plain", " Offline edit.")
    dialogs: list[str] = []

    def leave(dialog: Dialog) -> None:
        dialogs.append(dialog.type)
        dialog.accept()

    page.on("dialog", leave)
    # A person takes this long at least to answer "Leave site?"; meanwhile the browser
    # finishes writing the last keystrokes to IndexedDB (a reload aborts that write).
    page.wait_for_timeout(ANSWER_MS)
    page.reload()
    assert dialogs == ["beforeunload"]
    expect_content(page, "Before. Offline edit." if kept else "")

    server.start()

    expect(page.locator(".collab-status")).to_have_attribute(
        "data-status", "synced", timeout=RECONNECT_TIMEOUT
    )
    expected = "Before. Offline edit." if kept else "Before."
    expect_content(page, expected)
    wait_until_stored(key, expected, 5)


def test_no_prompt_when_everything_was_sent(open_page: OpenPage, alice: User) -> None:
    page = open_page(alice, "/editor/offline-sent/plain/")
    expect_status(page, "synced")
    type_at_end(page, "plain", "Sent.")
    expect(page.locator(".collab-status")).to_have_attribute("data-unsynced", "false")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))

    page.reload()

    expect_status(page, "synced")
    assert dialogs == []


def offline_databases(page: Page) -> list[str]:
    """The names of offline mode's IndexedDB databases in ``page``'s browser context."""
    names: list[str] = page.evaluate(
        "async () => (await indexedDB.databases()).map(({name}) => name)"
        ".filter((name) => name.startsWith('collab-offline:'))"
    )
    return names


def test_logging_out_deletes_the_offline_copies(open_page: OpenPage, alice: User) -> None:
    key = "offline-logout"
    page = open_page(alice, f"/editor/{key}/plain/?offline=1")
    expect_status(page, "synced")
    type_at_end(page, "plain", "Private notes.")
    wait_until_stored(key, "Private notes.", 5)
    assert offline_databases(page) == [f"collab-offline:{offline_scope(alice)}:{key}"]

    page.get_by_role("button", name="Log out").click()

    expect(page.locator("body")).to_have_text("Logged out.")
    assert offline_databases(page) == []

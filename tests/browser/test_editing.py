"""Two users in two real browsers on one document: live edits, cursors, permissions, offline."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from tests.browser.conftest import SERVER_SETTINGS, OpenPage
from tests.e2e.waiting import wait_until
from tests.stored import wait_until_stored

pytestmark = [pytest.mark.browser, SERVER_SETTINGS]

EDITABLE = {"plain": ".cm-content", "rich": ".ProseMirror"}
"""The editable element of each editor mode."""

TYPED = {"plain": "Hello from alice", "rich": "<p>Hello from alice</p>"}
"""The content after typing "Hello from alice" in each editor mode."""

CURSOR_LABEL = {"plain": ".cm-ySelectionInfo", "rich": ".ProseMirror-yjs-cursor > div"}
"""The name label on another user's cursor, in each editor mode."""


CONTENT_SCRIPT = """async () => {
    const bundle = document.querySelector('script[type="module"][src*="collab-editor"]').src
    const { mountEditor } = await import(bundle)
    const mounted = await mountEditor(document.querySelector('.collab-editor')).ready
    return mounted.editor.getValue()
}"""
"""The editor's content as the page's bundle reports it: HTML for rich text, else text."""


def content(page: Page) -> str:
    return str(page.evaluate(CONTENT_SCRIPT))


def expect_content(page: Page, expected: str) -> None:
    wait_until(lambda: content(page) == expected, 5, lambda: f"content is {content(page)!r}")


def expect_status(page: Page, status: str) -> None:
    expect(page.locator(".collab-status")).to_have_attribute("data-status", status)


def type_at_end(page: Page, mode: str, text: str) -> None:
    page.locator(EDITABLE[mode]).click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


@pytest.mark.parametrize("mode", ["plain", "rich"])
def test_edits_and_named_cursors_show_live(
    open_page: OpenPage, alice: User, bob: User, mode: str
) -> None:
    path = f"/editor/live-{mode}/{mode}/"
    alice_page, bob_page = open_page(alice, path), open_page(bob, path)
    for page in (alice_page, bob_page):
        expect_status(page, "synced")

    type_at_end(alice_page, mode, "Hello from alice")

    expect_content(bob_page, TYPED[mode])
    expect(bob_page.locator(CURSOR_LABEL[mode])).to_have_text("alice")
    expect(bob_page.locator(CURSOR_LABEL[mode])).to_be_visible()
    expect(bob_page.locator(".collab-presence li")).to_have_text(["bob (you)", "alice"])


def test_reader_follows_live_but_cannot_change_the_text(
    open_page: OpenPage, alice: User, reader: User
) -> None:
    path = "/editor/read-only/plain/"
    alice_page = open_page(alice, path)
    expect_status(alice_page, "synced")
    type_at_end(alice_page, "plain", "Shared")
    reader_page = open_page(reader, path)
    expect_status(reader_page, "read-only")
    expect(reader_page.locator(".cm-content")).to_have_attribute("contenteditable", "false")

    type_at_end(reader_page, "plain", "XYZ")
    type_at_end(alice_page, "plain", " text")

    expect_content(reader_page, "Shared text")
    expect_content(alice_page, "Shared text")
    wait_until_stored("read-only", "Shared text", 5)


def test_user_without_access_is_denied(open_page: OpenPage, outsider: User) -> None:
    page = open_page(outsider, "/editor/private/rich/")
    expect_status(page, "denied")
    expect(page.locator(".collab-status")).to_have_text("No access to this document (4403)")
    expect(page.locator(".ProseMirror")).to_have_attribute("contenteditable", "false")


def test_offline_edits_converge_after_reconnecting(
    open_page: OpenPage, alice: User, bob: User
) -> None:
    path = "/editor/offline/plain/"
    alice_page, bob_page = open_page(alice, path), open_page(bob, path)
    for page in (alice_page, bob_page):
        expect_status(page, "synced")
    type_at_end(alice_page, "plain", "base.")
    expect_content(bob_page, "base.")

    bob_page.context.set_offline(True)
    expect_status(bob_page, "offline")
    type_at_end(bob_page, "plain", " bob offline.")
    expect(bob_page.locator(".collab-status")).to_have_attribute("data-unsynced", "true")
    type_at_end(alice_page, "plain", " alice online.")
    bob_page.context.set_offline(False)

    expect_status(bob_page, "synced")
    expect(bob_page.locator(".collab-status")).to_have_attribute("data-unsynced", "false")
    # bob's page is synced once the server has its edit; alice's page gets it a moment later
    wait_until(
        lambda: "bob offline." in content(alice_page),
        5,
        lambda: f"alice's page has {content(alice_page)!r}",
    )
    converged = content(alice_page)
    assert "alice online." in converged
    expect_content(bob_page, converged)

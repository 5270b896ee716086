"""Undo and redo are per user: they never touch the loaded content or another user's edits."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect
from pycrdt import Doc, Text, XmlFragment, merge_updates

from collab import store
from collab.models import Document
from tests.browser.conftest import SERVER_SETTINGS, OpenPage
from tests.browser.test_editing import content, expect_content, expect_status, type_at_end
from tests.e2e.waiting import wait_until

pytestmark = [pytest.mark.browser, SERVER_SETTINGS]

REDO_KEYS = ("Control+y", "Control+Shift+KeyZ")
"""The redo shortcuts (``KeyZ``: Playwright's ``Shift+z`` sends a lower-case ``z``, a keyboard
sends ``Z``)."""

THREE_LINES = {"plain": "one\ntwo\nthree", "rich": "<p>one</p><p>two</p><p>three</p>"}
"""What typing ``one⏎two⏎three`` gives in each editor mode."""

STORED_THREE_LINES = {
    "plain": THREE_LINES["plain"],
    "rich": "<paragraph>one</paragraph><paragraph>two</paragraph><paragraph>three</paragraph>",
}
"""How the database holds :data:`THREE_LINES` (see :func:`stored`)."""


def line(mode: str, text: str) -> str:
    """The content of a document holding one line of ``text`` in editor mode ``mode``."""
    return text if mode == "plain" else f"<p>{text}</p>"


SETTLE_MS = 500
"""How long a change that an undo wrongly sent would take at most to reach the others."""


def stored(key: str, mode: str) -> str:
    """What the database holds as document ``key``: text, or the rich text's XML."""
    updates = store.load_updates(Document.objects.get(key=key).pk)
    doc: Doc[Text | XmlFragment] = Doc()
    if updates:
        doc.apply_update(merge_updates(*updates))
    if mode == "plain":
        return str(doc.get("content", type=Text))
    return str(doc.get("prosemirror", type=XmlFragment))


def press(page: Page, mode: str, key: str, times: int = 1) -> None:
    page.locator(".cm-content" if mode == "plain" else ".ProseMirror").focus()
    for _ in range(times):
        page.keyboard.press(key)


@pytest.mark.parametrize("mode", ["plain", "rich"])
def test_undo_without_own_typing_changes_nothing(
    open_page: OpenPage, alice: User, bob: User, mode: str
) -> None:
    path = f"/editor/undo-loaded-{mode}/{mode}/"
    bob_page = open_page(bob, path)
    expect_status(bob_page, "synced")
    type_at_end(bob_page, mode, "one\ntwo\nthree")
    expect_content(bob_page, THREE_LINES[mode])
    key, expected = f"undo-loaded-{mode}", STORED_THREE_LINES[mode]
    wait_until(lambda: stored(key, mode) == expected, 5, lambda: f"stored {stored(key, mode)!r}")
    bob_page.close()

    alice_page = open_page(alice, path)
    expect_status(alice_page, "synced")
    expect_content(alice_page, THREE_LINES[mode])
    press(alice_page, mode, "Control+z", times=3)
    press(alice_page, mode, "Control+y")
    press(alice_page, mode, "Control+Shift+KeyZ")
    alice_page.wait_for_timeout(SETTLE_MS)

    assert content(alice_page) == THREE_LINES[mode]
    assert stored(key, mode) == expected
    bob_again = open_page(bob, path)
    expect_status(bob_again, "synced")
    assert content(bob_again) == THREE_LINES[mode]


@pytest.mark.parametrize("mode", ["plain", "rich"])
def test_undo_keeps_a_seeded_value(open_page: OpenPage, alice: User, mode: str) -> None:
    value = line(mode, "Seeded")
    page = open_page(alice, f"/form/undo-seeded-{mode}/{mode}/?" + urlencode({"initial": value}))
    expect_status(page, "synced")
    expect_content(page, value)

    press(page, mode, "Control+z", times=3)
    page.wait_for_timeout(SETTLE_MS)

    assert content(page) == value


@pytest.mark.parametrize("redo_key", REDO_KEYS)
@pytest.mark.parametrize("mode", ["plain", "rich"])
def test_undo_removes_only_own_typing_and_redo_brings_it_back(
    open_page: OpenPage, alice: User, bob: User, mode: str, redo_key: str
) -> None:
    both, bobs = line(mode, "bob alice bob again"), line(mode, "bob bob again")
    path = f"/editor/undo-both-{mode}-{len(redo_key)}/{mode}/"
    alice_page, bob_page = open_page(alice, path), open_page(bob, path)
    for page in (alice_page, bob_page):
        expect_status(page, "synced")
    type_at_end(bob_page, mode, "bob ")
    expect_content(alice_page, line(mode, "bob "))
    type_at_end(alice_page, mode, "alice ")
    expect_content(bob_page, line(mode, "bob alice "))
    type_at_end(bob_page, mode, "bob again")
    expect_content(alice_page, both)

    press(alice_page, mode, "Control+z")
    for page in (alice_page, bob_page):
        expect_content(page, bobs)

    press(alice_page, mode, redo_key)
    for page in (alice_page, bob_page):
        expect_content(page, both)

    press(alice_page, mode, "Control+z", times=10)
    alice_page.wait_for_timeout(SETTLE_MS)
    for page in (alice_page, bob_page):
        expect_content(page, bobs)


def test_toolbar_undo_and_redo_are_per_user_too(
    open_page: OpenPage, alice: User, bob: User
) -> None:
    path = "/editor/undo-toolbar/rich/"
    alice_page, bob_page = open_page(alice, path), open_page(bob, path)
    for page in (alice_page, bob_page):
        expect_status(page, "synced")
    undo_button = alice_page.get_by_title("Undo last change")
    redo_button = alice_page.get_by_title("Redo last undone change")
    type_at_end(bob_page, "rich", "bob ")
    expect_content(alice_page, "<p>bob </p>")
    expect(undo_button).to_have_attribute("aria-disabled", "true")
    undo_button.click(force=True)
    alice_page.wait_for_timeout(SETTLE_MS)
    expect_content(bob_page, "<p>bob </p>")

    type_at_end(alice_page, "rich", "alice")
    expect_content(bob_page, "<p>bob alice</p>")
    undo_button.click()
    for page in (alice_page, bob_page):
        expect_content(page, "<p>bob </p>")
    redo_button.click()
    for page in (alice_page, bob_page):
        expect_content(page, "<p>bob alice</p>")

"""Two users in Chromium, each on a Tiptap page with a stock ``HocuspocusProvider``.

The page (``tests/node/tiptap/page.js``, bundled here with esbuild) sets Tiptap up as
its documentation does: StarterKit, ``@tiptap/extension-collaboration`` and
``@tiptap/extension-collaboration-caret``, connected to collab's Hocuspocus route with a
token from ``{% collab_token %}``.
"""

from __future__ import annotations

import subprocess

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from collab import store
from collab.content import load, text_of
from collab.models import Document
from tests.browser.conftest import SERVER_SETTINGS, OpenPage
from tests.browser.views import TIPTAP_BUNDLE
from tests.e2e.node import NODE_DIR
from tests.e2e.waiting import wait_until

pytestmark = [pytest.mark.browser, SERVER_SETTINGS]


@pytest.fixture(scope="module")
def tiptap_bundle(node_modules: None) -> None:
    """Build the Tiptap page's script."""
    subprocess.run(["node", "tiptap/build.mjs", str(TIPTAP_BUNDLE)], cwd=NODE_DIR, check=True)


def expect_text(page: Page, expected: str) -> None:
    """Wait until the editor's text (Tiptap's ``getText``, without carets) is ``expected``."""
    page.wait_for_function("expected => window.editor.getText() === expected", arg=expected)


def type_at_end(page: Page, text: str) -> None:
    page.locator(".ProseMirror").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


@pytest.mark.usefixtures("tiptap_bundle")
def test_two_users_type_and_see_each_others_carets(
    open_page: OpenPage, alice: User, bob: User
) -> None:
    alice_page, bob_page = (
        open_page(alice, "/tiptap/tiptap-live/"),
        open_page(bob, "/tiptap/tiptap-live/"),
    )
    for page in (alice_page, bob_page):
        expect(page.locator("#status")).to_have_text("synced")
    type_at_end(alice_page, "Hello from alice")
    expect_text(bob_page, "Hello from alice")
    type_at_end(bob_page, ", and bob")
    expect_text(alice_page, "Hello from alice, and bob")
    expect(alice_page.locator(".collaboration-carets__label")).to_have_text("bob")
    expect(bob_page.locator(".collaboration-carets__label")).to_have_text("alice")
    for page in (alice_page, bob_page):
        expect(page.locator("#status")).to_have_attribute("data-unsynced", "0")
    wait_until(
        lambda: stored_plain_text("tiptap-live") == "Hello from alice, and bob",
        5.0,
        lambda: f"stored {stored_plain_text('tiptap-live')!r}",
    )


def stored_plain_text(key: str) -> str:
    """The stored document's text as collab's admin and exports see it."""
    return text_of(load(*store.load_updates(Document.objects.get(key=key).pk)))

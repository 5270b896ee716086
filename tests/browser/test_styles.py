"""The editors' styles and the page's do not leak into each other; cursor labels show whole."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.browser.conftest import SERVER_SETTINGS, OpenPage
from tests.browser.test_editing import CURSOR_LABEL, expect_status, type_at_end
from tests.e2e.waiting import wait_until

pytestmark = [pytest.mark.browser, SERVER_SETTINGS]

ADMIN_LIKE_CSS = """
ul li { list-style-type: square; padding: 1px 0; }
h2 { background: rgb(121, 174, 200); text-transform: uppercase; font-size: 13px; }
"""
"""Rules of Django admin's stylesheets that reached into the editor."""


@pytest.mark.parametrize("mode", ["plain", "rich"])
def test_cursor_label_on_the_first_line_is_not_clipped(
    open_page: OpenPage, alice: User, bob: User, mode: str
) -> None:
    path = f"/editor/labels-{mode}/{mode}/"
    alice_page, bob_page = open_page(alice, path), open_page(bob, path)
    for page in (alice_page, bob_page):
        expect_status(page, "synced")
    type_at_end(alice_page, mode, "First line")

    label = bob_page.locator(CURSOR_LABEL[mode])
    expect(label).to_have_text("alice")
    # The editor draws the label anew on every presence change: between two drawings
    # it has no box for a moment.
    boxes = [label.bounding_box()]
    wait_until(
        lambda: boxes[-1] is not None or bool(boxes.append(label.bounding_box())),
        5,
        lambda: "the label never had a box",
    )
    label_box = boxes[-1]
    body_box = bob_page.locator(".collab-editor-body").bounding_box()
    assert label_box is not None
    assert body_box is not None
    assert label_box["y"] >= body_box["y"], (label_box, body_box)


def test_page_styles_do_not_reach_the_editor(open_page: OpenPage, alice: User) -> None:
    page = open_page(alice, "/editor/styles/rich/")
    expect_status(page, "synced")
    page.add_style_tag(content=ADMIN_LIKE_CSS)

    type_at_end(page, "rich", "## Title")

    heading = page.locator(".ProseMirror h2")
    expect(heading).to_have_text("Title")
    expect(heading).to_have_css("text-transform", "none")
    expect(heading).to_have_css("background-color", "rgba(0, 0, 0, 0)")
    expect(page.locator(".collab-presence li").first).to_have_css("list-style-type", "none")

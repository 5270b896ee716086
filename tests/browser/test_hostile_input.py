"""What other clients write cannot run script or style on a user's page.

Links go through one allow-list of URL schemes (``collab.html.SAFE_SCHEMES``) on all
three paths: the browser editor, the HTML the widget writes to the model column, and
the server's ``to_html``. Presence names are text and presence colours are colours.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect
from pycrdt import Doc, XmlElement, XmlFragment, XmlText, create_update_message, merge_updates

from collab import store
from collab.html import safe_url, to_html
from collab.models import Document
from tests.browser.conftest import SERVER_SETTINGS, OpenPage
from tests.browser.test_editing import CURSOR_LABEL, expect_status, type_at_end
from tests.e2e.node import Clients
from tests.e2e.waiting import wait_until

pytestmark = [pytest.mark.browser, SERVER_SETTINGS]

SCRIPT = "window.__pwned = (window.__pwned || 0) + 1"

URLS = [
    "https://example.com/?a=1&b=2",
    "/relative/path",
    "#anchor",
    "mailto:someone@example.com",
    "tel:+1234",
    f"javascript:{SCRIPT}",
    f"JaVaScRiPt:{SCRIPT}",
    f"\x01javascript:{SCRIPT}",
    f" java\tscript:{SCRIPT}",
    f"java\nscript:{SCRIPT}",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox",
]
"""Link targets a raw client writes: harmless ones and the server tests' bypass variants."""

EXPECTED = {f"L{number}": safe_url(url) for number, url in enumerate(URLS)}
"""What each link's ``href`` must be on every path: the URL, or none at all."""


def hostile_links_update() -> bytes:
    """A paragraph with one link per URL of :data:`URLS` (text ``L0``, ``L1``, ...)."""
    doc: Doc[Any] = Doc()
    fragment = doc.get("prosemirror", type=XmlFragment)
    paragraph = fragment.children.append(XmlElement("paragraph"))
    text = paragraph.children.append(XmlText())
    for number, url in enumerate(URLS):
        text.insert(len(text), f"L{number}", {"link": {"href": url, "title": None}})
        text.insert(len(text), " ")
    return doc.get_update()


class Links(HTMLParser):
    """The ``href`` of every ``<a>`` in some HTML, by the link's text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.hrefs: dict[str, str | None] = {}
        self._open: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open = dict(attrs).get("href")

    def handle_data(self, data: str) -> None:
        if self._open is not None or data.startswith("L"):
            self.hrefs.setdefault(data, self._open)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._open = None


def page_links(page: Page) -> dict[str, str | None]:
    return dict(
        page.eval_on_selector_all(
            ".ProseMirror a", "links => links.map(a => [a.textContent, a.getAttribute('href')])"
        )
    )


def stored_html(key: str) -> str:
    doc: Doc[Any] = Doc()
    updates = store.load_updates(Document.objects.get(key=key).pk)
    if updates:
        doc.apply_update(merge_updates(*updates))
    return str(to_html(doc))


def test_links_keep_only_safe_schemes_on_all_three_paths(
    open_page: OpenPage, clients: Clients, alice: User, bob: User, reader: User
) -> None:
    key = "hostile-links"
    bob_page = open_page(bob, f"/editor/{key}/rich/")
    expect_status(bob_page, "synced")

    raw = clients.open_raw(key, alice)
    raw.wait(lambda snapshot: snapshot["opened"], "an open socket")
    raw.send(create_update_message(hostile_links_update()))

    expect(bob_page.locator(".ProseMirror a")).to_have_count(len(URLS))
    assert page_links(bob_page) == EXPECTED
    wait_until(
        lambda: Links(stored_html(key)).hrefs == EXPECTED,
        5,
        lambda: f"to_html gives {stored_html(key)!r}",
    )

    reader_page = open_page(reader, f"/editor/{key}/rich/")
    expect_status(reader_page, "read-only")
    for number, url in enumerate(URLS):
        if "script" in url:
            reader_page.get_by_text(f"L{number}", exact=True).click()
    assert reader_page.evaluate("window.__pwned") is None
    assert reader_page.url.endswith(f"/editor/{key}/rich/")

    form_page = open_page(bob, f"/form/{key}/rich/")
    expect_status(form_page, "synced")
    form_page.get_by_role("button", name="Save").click()
    assert Links(form_page.locator("body").inner_text()).hrefs == EXPECTED


HOSTILE_NAME = '<img src="x" onerror="window.__pwned = 1">'
HOSTILE_COLOR = "red; position: fixed; inset: 0; background: url(https://evil.invalid/x)"
CURSOR_AT_END = {
    "plain": {"tname": "content", "item": None, "type": None, "assoc": 0},
    "rich": {"tname": "prosemirror", "item": None, "type": None, "assoc": 0},
}
"""A relative position at the end of each mode's shared type, as a remote cursor."""


@pytest.mark.parametrize("mode", ["plain", "rich"])
def test_hostile_name_and_colour_change_nothing_on_another_page(
    open_page: OpenPage, clients: Clients, alice: User, reader: User, mode: str
) -> None:
    key = f"hostile-presence-{mode}"
    alice_page = open_page(alice, f"/editor/{key}/{mode}/")
    expect_status(alice_page, "synced")
    type_at_end(alice_page, mode, "Some text")
    requests: list[str] = []
    alice_page.on("request", lambda request: requests.append(request.url))

    hostile = clients.open(key, reader)
    cursor = {"anchor": CURSOR_AT_END[mode], "head": CURSOR_AT_END[mode]}
    hostile.set_awareness(
        {"user": {"name": HOSTILE_NAME, "color": HOSTILE_COLOR}, "cursor": cursor}
    )

    presence = alice_page.locator(".collab-presence li")
    expect(presence).to_have_text(["alice (you)", HOSTILE_NAME])
    expect(alice_page.locator(CURSOR_LABEL[mode])).to_have_text(HOSTILE_NAME)
    editor = alice_page.locator(".collab-editor")
    expect(editor.locator("img[src], [onerror]")).to_have_count(0)
    styles = editor.evaluate(
        "root => [...root.querySelectorAll('[style]')].map(e => e.getAttribute('style'))"
    )
    assert styles
    assert not [style for style in styles if "fixed" in style or "evil" in style or "red" in style]
    dot = presence.nth(1).locator(".collab-user-color")
    expect(dot).to_have_css("background-color", "rgb(110, 119, 129)")
    assert alice_page.evaluate("window.__pwned") is None
    assert not [url for url in requests if "evil.invalid" in url]

"""Content helpers: plain text of rich text, and replacing content as forward edits."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Text

from collab import content
from collab.html import to_html
from tests.rich_text import RICH_UPDATE


def test_rich_text_blocks_and_breaks_become_lines() -> None:
    text = content.text_of(content.load(RICH_UPDATE))
    assert text.splitlines() == [
        "Title <&>",
        "plain bold both code link",
        "after break",
        "quoted",
        "one",
        "two",
        "three",
        "x < 1 && y",
        "",
        "",
    ]


def test_replace_makes_content_equal_as_an_edit() -> None:
    version = content.load(RICH_UPDATE)
    current: Doc[Any] = Doc()
    current.get(content.TEXT_ROOT, type=Text).insert(0, "scratch")
    before = current.get_state()
    content.replace(current, version)
    expected = content.load(RICH_UPDATE)
    assert to_html(current) == to_html(expected)
    assert content.text_of(current) == content.text_of(expected) != ""
    assert current.get_update(before) != b"\x00\x00"

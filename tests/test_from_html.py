"""Rich text read from HTML as the editor's parser reads it (to fill a field's document)."""

from __future__ import annotations

import pytest

from collab.content import load
from collab.from_html import MAX_OPEN_ELEMENTS, rich_text_update
from collab.html import to_html


def through_the_document(html: str) -> str:
    return str(to_html(load(rich_text_update(html))))


@pytest.mark.parametrize(
    "html",
    [
        "<p>Plain <strong>bold </strong><em><strong>and</strong></em> text</p>",
        "<h2>Title</h2><blockquote><p>quoted</p></blockquote><hr>",
        '<ul><li><p>one</p></li></ul><ol start="3"><li><p>three</p></li></ol>',
        "<pre><code>  kept   as\n typed</code></pre>",
        '<p>line<br>two <a href="https://example.com">link</a> <img src="/a.png" alt="A"></p>',
        "<p>é ü 😀 after non-ASCII</p>",
    ],
)
def test_what_the_editor_writes_reads_back_the_same(html: str) -> None:
    assert through_the_document(html) == html


def test_loose_content_is_put_in_blocks_and_whitespace_collapses() -> None:
    assert through_the_document("Loose   text\n<div> <p> spaced  </p> </div>") == (
        "<p>Loose text</p><p>spaced</p>"
    )
    assert through_the_document("<ul>bare<li>item</li></ul>") == (
        "<ul><li><p>bare</p></li><li><p>item</p></li></ul>"
    )


def test_unsafe_urls_and_script_are_dropped() -> None:
    html = '<p><a href=" javascript:alert(1)">x</a><img src="javascript:y"></p><script>z</script>'
    assert through_the_document(html) == "<p>x</p>"


def test_deep_nesting_is_flattened_not_recursed() -> None:
    depth = 10 * MAX_OPEN_ELEMENTS
    html = "<blockquote>" * depth + "deep" + "</blockquote>" * depth + "<p>after</p>"
    assert through_the_document("<span>" * 100_000 + "deep") == "<p>deep</p>"
    assert through_the_document(html).endswith("deep</p>" + "</blockquote>" * 64 + "<p>after</p>")

"""Rich text as HTML, and documents as files in and out (collab.html, collab.exports)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pycrdt import Doc, Map, Text, XmlElement, XmlFragment, XmlText

from collab import content, documents
from collab.exceptions import DocumentExists, ImportRejected
from collab.exports import export, guess_format, prepare_import, text_update
from collab.html import safe_url, to_html
from tests.rich_text import RICH_HTML, RICH_UPDATE


def rich_doc(*blocks: XmlElement) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    fragment = doc.get("prosemirror", type=XmlFragment)
    for block in blocks:
        fragment.children.append(block)
    return doc


def paragraph_with(*chunks: tuple[str, dict[str, Any] | None]) -> Doc[Any]:
    """A document of one paragraph whose text has the given chunks and formatting."""
    doc = rich_doc(XmlElement("paragraph"))
    paragraph = doc.get("prosemirror", type=XmlFragment).children[0]
    assert isinstance(paragraph, XmlElement)
    text = paragraph.children.append(XmlText())
    offset = 0
    for chunk, formatting in chunks:
        text.insert(offset, chunk, formatting)
        offset += len(chunk)
    return doc


def map_only_update() -> bytes:
    doc: Doc[Any] = Doc()
    doc.get("settings", type=Map)["theme"] = "dark"
    return doc.get_update()


def plain_doc(text: str) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    doc.get("content", type=Text).insert(0, text)
    return doc


def test_html_of_the_editors_rich_text_is_what_prosemirror_serializes() -> None:
    assert to_html(content.load(RICH_UPDATE)) == RICH_HTML


def test_html_nests_a_mark_shared_by_neighbouring_text_once() -> None:
    doc = paragraph_with(("a", {"em": {}}), ("b", {"em": {}, "strong": {}}), ("c", None))
    assert to_html(doc) == "<p><em>a<strong>b</strong></em>c</p>"
    doc = paragraph_with(("a", {"strong": {}}), ("b", {"em": {}, "strong": {}}))
    assert to_html(doc) == "<p><strong>a</strong><em><strong>b</strong></em></p>"


def test_html_escapes_text_and_drops_dangerous_urls() -> None:
    doc = paragraph_with(
        ("<script>", None),
        ("click", {"link": {"href": " java\tscript:alert(1)", "title": '"t"'}}),
    )
    assert to_html(doc) == '<p>&lt;script&gt;<a title="&quot;t&quot;">click</a></p>'
    image = XmlElement("image", {"src": "javascript:alert(1)", "alt": "<x>"})
    assert to_html(rich_doc(XmlElement("paragraph", contents=[image]))) == (
        '<p><img alt="&lt;x&gt;"></p>'
    )


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://example.com/", True),
        ("/relative/path", True),
        ("#anchor", True),
        ("mailto:someone@example.com", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("\x01javascript:alert(1)", False),
        ("data:text/html,<script>", False),
        ("vbscript:msgbox", False),
    ],
)
def test_safe_url(url: str, kept: bool) -> None:
    assert (safe_url(url) == url) is kept


def test_html_of_headings_and_lists_bounds_their_numbers() -> None:
    doc = rich_doc(
        XmlElement("heading", {"level": 9}, contents=[XmlText("deep")]),
        XmlElement("heading", {"level": "2"}, contents=[XmlText("odd")]),
        XmlElement("ordered_list", {"order": 1}, contents=[XmlElement("list_item")]),
        XmlElement("unknown_node", contents=[XmlText("kept text")]),
    )
    assert to_html(doc) == "<h6>deep</h6><h1>odd</h1><ol><li></li></ol>kept text"


def test_html_of_plain_text_is_preformatted() -> None:
    assert to_html(plain_doc("a < b\nc")) == "<pre>a &lt; b\nc</pre>"


def test_export_formats() -> None:
    doc = content.load(RICH_UPDATE)
    yjs = export(doc, "yjs")
    assert (yjs.content_type, yjs.filename("notes")) == ("application/octet-stream", "notes.yjs")
    assert to_html(content.load(yjs.data)) == RICH_HTML

    text = export(doc, "text")
    assert text.content_type == "text/plain; charset=utf-8"
    assert text.data.decode() == content.text_of(doc)

    as_json = export(doc, "json")
    assert as_json.content_type == "application/json"
    assert json.loads(as_json.data) == content.to_json(doc)

    html = export(doc, "html", title="Notes <1>")
    assert (html.content_type, html.extension) == ("text/html; charset=utf-8", "html")
    page = html.data.decode()
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>Notes &lt;1&gt;</title>" in page
    assert f"<body>\n{RICH_HTML}\n</body>" in page


def test_text_export_keeps_non_ascii() -> None:
    assert export(plain_doc("Grüße 🙂"), "text").data == "Grüße 🙂".encode()
    assert json.loads(export(plain_doc("Grüße"), "json").data) == {"content": "Grüße"}


def test_guess_format() -> None:
    assert guess_format("backup.YJS") == "yjs"
    assert guess_format("notes.txt") == "text"
    assert guess_format("README") == "text"


def test_text_update_as_plain_or_rich_text() -> None:
    assert content.to_json(content.load(text_update("a\nb"))) == {"content": "a\nb"}
    rich = content.load(text_update("first\n\nthird", rich=True))
    assert to_html(rich) == "<p>first</p><p></p><p>third</p>"
    assert content.text_of(rich) == "first\n\nthird"


@pytest.mark.django_db(transaction=True)
def test_prepare_import_of_a_new_document() -> None:
    update = prepare_import("new", RICH_UPDATE, "yjs", replace=False)
    assert update == RICH_UPDATE
    update = prepare_import("new", "\ufeffline one\r\nline two".encode(), "text", replace=False)
    assert content.to_json(content.load(update)) == {"content": "line one\nline two"}


@pytest.mark.django_db(transaction=True)
def test_prepare_import_over_an_existing_document() -> None:
    with documents.edit("plain") as doc:
        doc.get("content", type=Text).insert(0, "old")
    with pytest.raises(DocumentExists, match="exists already"):
        prepare_import("plain", b"new", "text", replace=False)
    update = prepare_import("plain", b"new", "text", replace=True)
    assert content.to_json(content.load(update)) == {"content": "new"}

    documents.replace("rich", RICH_UPDATE)
    update = prepare_import("rich", b"new\ntext", "text", replace=True)
    assert to_html(content.load(update)) == "<p>new</p><p>text</p>"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("data", "fmt", "message"),
    [
        (b"plain text is no update", "yjs", "not a Yjs update"),
        (b"", "yjs", "holds no text"),
        (b"\x00\x00", "yjs", "holds no text"),
        (map_only_update(), "yjs", "holds no text"),
        ("Grüße".encode("latin-1"), "text", "not UTF-8"),
    ],
)
def test_prepare_import_rejects_bad_files(data: bytes, fmt: Any, message: str) -> None:
    with pytest.raises(ImportRejected, match=message):
        prepare_import("bad", data, fmt, replace=False)

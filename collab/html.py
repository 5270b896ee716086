"""Rich text as HTML, as the bundled rich-text editor would serialize it.

The editor (``client/src/rich-text.js``) uses ProseMirror's basic schema with list
nodes; y-prosemirror stores each node as a ``Y.XmlElement`` named after the node type
(attributes as XML attributes) and each mark as a formatting attribute of the text
(``{"strong": {}}``, ``{"link": {"href": ...}}``). Only the schema's nodes and marks
become tags; text is escaped, and links and images keep only URLs with a harmless
scheme, so the result is safe to show in a page.

Nesting is bounded: elements deeper than ``MAX_DEPTH`` levels lose their tags (their
text, line breaks, rules and images are kept), so a page never holds more nested
elements than the door lets an update create (browsers cap nesting too: Chromium's
parser flattens everything below 512 levels).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from collab.conf import conf
from collab.content import RICH_TEXT_ROOT, has_root, text_of
from collab.xml_tree import attributes_of, walk

__all__ = ["SAFE_SCHEMES", "to_html"]

BLOCK_TAGS = {
    "paragraph": "p",
    "blockquote": "blockquote",
    "bullet_list": "ul",
    "list_item": "li",
}
"""Nodes that become one element holding their children."""

EMPTY_TAGS = {"horizontal_rule": "hr", "hard_break": "br"}
"""Nodes that become an element without content."""

MARK_TAGS = {"link": "a", "em": "em", "strong": "strong", "code": "code"}
"""Marks, in the schema's order: ProseMirror nests them in this order, outermost first."""

SAFE_SCHEMES = frozenset({"", "http", "https", "mailto", "tel"})
"""URL schemes a link or image may keep; anything else (``javascript:``) is dropped."""

_IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20]")
"""Characters browsers skip when they read a URL's scheme."""


def to_html(doc: Doc[Any]) -> SafeString:
    """The HTML of ``doc``'s rich text; a document without any, as preformatted text.

    Elements nested deeper than ``MAX_DEPTH`` levels are written without their tags.
    """
    if not has_root(doc, RICH_TEXT_ROOT):
        return format_html("<pre>{}</pre>", text_of(doc))
    max_depth = conf.MAX_DEPTH
    parts: list[str] = []
    closing: list[str] = []
    for step in walk(doc.get(RICH_TEXT_ROOT, type=XmlFragment), into=_has_content):
        node = step.node
        if isinstance(node, XmlText):
            parts.append(_text(node))
        elif not step.entering:
            parts.append(closing.pop())
        elif not isinstance(node, XmlElement) or (step.depth > max_depth and _has_content(node)):
            closing.append("")
        else:
            opening, close = _tags(node)
            parts.append(opening)
            closing.append(close)
    # Safe by construction: only known tags, escaped text, URLs with harmless schemes.
    return mark_safe("".join(parts))  # noqa: S308


def safe_url(url: object) -> str | None:
    """``url`` if its scheme is harmless in an ``href`` or ``src``, else ``None``."""
    if not isinstance(url, str):
        return None
    scheme = urlsplit(_IGNORED_IN_SCHEME.sub("", url)).scheme.lower()
    return url if scheme in SAFE_SCHEMES else None


def _has_content(element: XmlElement) -> bool:
    """Whether the element's children are shown (not a rule, break or image)."""
    return element.tag not in EMPTY_TAGS and element.tag != "image"


def _tags(element: XmlElement) -> tuple[str, str]:
    """The opening and closing tag of ``element``; empty for nodes outside the schema."""
    attributes = attributes_of(element)
    tag = element.tag or ""
    if tag in BLOCK_TAGS:
        return f"<{BLOCK_TAGS[tag]}>", f"</{BLOCK_TAGS[tag]}>"
    if tag in EMPTY_TAGS:
        return f"<{EMPTY_TAGS[tag]}>", ""
    if tag == "heading":
        level = _whole_number(attributes.get("level"), default=1, low=1, high=6)
        return f"<h{level}>", f"</h{level}>"
    if tag == "ordered_list":
        order = _whole_number(attributes.get("order"), default=1, low=0, high=2**31)
        start = f' start="{order}"' if order != 1 else ""
        return f"<ol{start}>", "</ol>"
    if tag == "code_block":
        return "<pre><code>", "</code></pre>"
    if tag == "image":
        return "<img" + _attributes(attributes, ("src", "alt", "title")) + ">", ""
    return "", ""


def _text(node: XmlText) -> str:
    """Text with its marks, nesting a mark shared by neighbouring chunks only once."""
    parts: list[str] = []
    open_marks: list[tuple[str, str]] = []
    for chunk, formatting in node.diff():
        marks = _marks(formatting or {})
        shared = 0
        while shared < min(len(open_marks), len(marks)) and open_marks[shared] == marks[shared]:
            shared += 1
        parts.extend(close for _, close in reversed(open_marks[shared:]))
        parts.extend(opening for opening, _ in marks[shared:])
        open_marks = marks
        parts.append(escape(str(chunk)))
    parts.extend(close for _, close in reversed(open_marks))
    return "".join(parts)


def _marks(formatting: dict[str, Any]) -> list[tuple[str, str]]:
    """The opening and closing tags of the marks in ``formatting``, outermost first."""
    tags = []
    for name, tag in MARK_TAGS.items():
        attributes = formatting.get(name)
        if attributes is None:
            continue
        extra = _attributes(attributes, ("href", "title")) if name == "link" else ""
        tags.append((f"<{tag}{extra}>", f"</{tag}>"))
    return tags


def _attributes(attributes: Any, names: tuple[str, ...]) -> str:
    """`` name="value"`` for each of ``names`` set in ``attributes``; unsafe URLs left out."""
    if not isinstance(attributes, dict):
        return ""
    html = ""
    for name in names:
        value = attributes.get(name)
        if name in ("href", "src"):
            value = safe_url(value)
        if value is not None:
            html += f' {name}="{escape(str(value))}"'
    return html


def _whole_number(value: object, *, default: int, low: int, high: int) -> int:
    """``value`` as an int within ``low``..``high`` (Yjs numbers arrive as floats)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return min(max(int(value), low), high)

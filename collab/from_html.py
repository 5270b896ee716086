"""Rich text from HTML, read the way the bundled rich-text editor reads it.

The server fills a model field's document from the column (HTML written by the
editor) before any browser opened it, so it must build what the editor's ProseMirror
parser and y-prosemirror would: the basic schema with lists, each node a
``Y.XmlElement`` named after its type and each mark a formatting attribute of the text
(the inverse of :mod:`collab.html`). Tags the schema lacks are dropped and their text
kept; runs of whitespace collapse to one space except in code blocks; links keep only
URLs with a harmless scheme (:func:`collab.html.safe_url`).

Parsing is iterative over the tag stack (``html.parser``), and nesting deeper than
:data:`MAX_NESTING` is flattened, so hostile HTML cannot exhaust the stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from collab.content import HARD_BREAK, RICH_TEXT_ROOT
from collab.html import safe_url

MAX_NESTING = 64
"""Block nesting kept; deeper blocks are flattened into their ancestor at this depth."""

MAX_OPEN_ELEMENTS = 256
"""Open elements tracked; tags nested deeper are ignored (their text is kept)."""

HEADINGS = {f"h{level}": level for level in range(1, 7)}
MARKS = {"strong": "strong", "b": "strong", "em": "em", "i": "em", "code": "code"}
"""Inline tags that become a mark without attributes (``<a href>`` becomes ``link``)."""

IGNORED = frozenset({"head", "script", "style", "title", "noscript", "object", "template"})
"""Tags whose content is not text (ProseMirror's parser skips them too)."""

VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
_WHITESPACE = re.compile(r"[ \t\r\n\f]+")


@dataclass(frozen=True)
class _Node:
    """An inline node: a hard break or an image."""

    tag: str
    attributes: dict[str, Any] = field(default_factory=dict)


Inline = tuple[str, dict[str, Any]] | _Node
"""A run of text with its marks, or an inline node."""


@dataclass
class _Block:
    """A block node being built: its children are blocks, or inline content."""

    tag: str
    attributes: dict[str, Any] = field(default_factory=dict)
    blocks: list[_Block] = field(default_factory=list)
    inline: list[Inline] = field(default_factory=list)
    textblock: bool = False
    """Holds inline content (paragraph, heading, code block) rather than blocks."""
    loose: bool = False
    """A paragraph made for inline content found outside any paragraph."""

    def open_paragraph(self) -> _Block:
        """The paragraph that loose inline content in this block goes to."""
        if self.textblock:
            return self
        if not self.blocks or not self.blocks[-1].loose:
            paragraph = _Block("paragraph", textblock=True)
            paragraph.loose = True
            self.blocks.append(paragraph)
        return self.blocks[-1]


def rich_text_update(html: str) -> bytes:
    """A Yjs update whose rich-text root holds ``html`` as the editor would show it."""
    doc: Doc[Any] = Doc()
    fragment = doc.get(RICH_TEXT_ROOT, type=XmlFragment)
    for block in _Reader.read(html):
        _write(fragment, block)
    return doc.get_update()


class _Reader(HTMLParser):
    """Builds the block tree from parser events, keeping a stack of open elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Block("doc")
        self.stack: list[tuple[str, _Block, dict[str, Any] | None]] = []
        """Open elements: tag, the block they add to, the marks they add (or None)."""
        self.ignoring = 0

    @classmethod
    def read(cls, html: str) -> list[_Block]:
        reader = cls()
        reader.feed(html)
        reader.close()
        return [block for block in reader.root.blocks if not _empty_loose(block)]

    @property
    def block(self) -> _Block:
        return self.stack[-1][1] if self.stack else self.root

    @property
    def marks(self) -> dict[str, Any]:
        marks: dict[str, Any] = {}
        for _, _, added in self.stack:
            marks.update(added or {})
        return marks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in IGNORED:
            self.ignoring += tag not in VOID
            return
        if self.ignoring:
            return
        attributes = {name: value for name, value in attrs}
        parent = self.block
        if tag == "br" or tag == "img":
            if tag == "img" and safe_url(attributes.get("src")) is None:
                return
            node = _Node(HARD_BREAK) if tag == "br" else _image(attributes)
            parent.open_paragraph().inline.append(node)
            return
        if tag == "hr":
            self._add_block(parent, _Block("horizontal_rule"))
            return
        if tag in VOID or len(self.stack) >= MAX_OPEN_ELEMENTS:
            return
        block = self._block_for(tag, attributes, parent)
        if block is not None:
            self._add_block(parent, block)
            self.stack.append((tag, block, None))
        else:
            self.stack.append((tag, parent, _mark_for(tag, attributes)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in IGNORED:
            self.ignoring = max(0, self.ignoring - 1)
            return
        if self.ignoring:
            return
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        if self.ignoring or not data:
            return
        target = self.block.open_paragraph()
        if target.tag != "code_block":
            data = _WHITESPACE.sub(" ", data)
            if data == " " and target is not self.block and not target.inline:
                return  # whitespace between blocks
        target.inline.append((data, {} if target.tag == "code_block" else self.marks))

    def _block_for(self, tag: str, attributes: dict[str, Any], parent: _Block) -> _Block | None:
        """The block ``tag`` opens, or ``None`` for inline (and unknown) tags."""
        if len(self.stack) >= MAX_NESTING:
            return None
        if tag == "p":
            return _Block("paragraph", textblock=True)
        if tag in HEADINGS:
            return _Block("heading", {"level": HEADINGS[tag]}, textblock=True)
        if tag == "pre":
            return _Block("code_block", textblock=True)
        if parent.textblock:
            return None
        if tag == "blockquote":
            return _Block("blockquote")
        if tag == "ul":
            return _Block("bullet_list")
        if tag == "ol":
            return _Block("ordered_list", {"order": _start(attributes.get("start"))})
        if tag == "li" and parent.tag in ("bullet_list", "ordered_list"):
            return _Block("list_item")
        return None

    @staticmethod
    def _add_block(parent: _Block, block: _Block) -> None:
        if parent.textblock:
            return
        if parent.tag in ("bullet_list", "ordered_list") and block.tag != "list_item":
            item = _Block("list_item")
            parent.blocks.append(item)
            parent = item
        parent.blocks.append(block)


def _mark_for(tag: str, attributes: dict[str, Any]) -> dict[str, Any] | None:
    if tag in MARKS:
        return {MARKS[tag]: {}}
    if tag == "a":
        href = safe_url(attributes.get("href"))
        if href is not None:
            return {"link": {"href": href, "title": attributes.get("title")}}
    return None


def _image(attributes: dict[str, Any]) -> _Node:
    found = {
        "src": attributes.get("src"),
        "alt": attributes.get("alt"),
        "title": attributes.get("title"),
    }
    return _Node("image", {name: value for name, value in found.items() if value is not None})


def _start(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 1


def _empty_loose(block: _Block) -> bool:
    """A paragraph made only of whitespace found between blocks."""
    return block.loose and all(
        isinstance(part, tuple) and not part[0].strip() for part in block.inline
    )


def _write(parent: XmlFragment | XmlElement, block: _Block) -> None:
    element = parent.children.append(XmlElement(block.tag, block.attributes))
    if block.textblock:
        _write_inline(element, block.inline, collapse=block.tag != "code_block")
        return
    children = [child for child in block.blocks if not _empty_loose(child)]
    if block.tag in ("blockquote", "list_item", "bullet_list", "ordered_list") and not children:
        children = [_Block("list_item" if "list" in block.tag else "paragraph", textblock=True)]
    if block.tag in ("bullet_list", "ordered_list"):
        children = [
            child if child.tag == "list_item" else _Block("list_item", blocks=[child])
            for child in children
        ]
    if block.tag == "list_item" and children[0].tag != "paragraph":
        children.insert(0, _Block("paragraph", textblock=True))
    for child in children:
        _write(element, child)


def _write_inline(element: XmlElement, inline: list[Inline], *, collapse: bool) -> None:
    """Text runs into ``Y.XmlText`` nodes, with inline nodes between them."""
    if collapse:
        inline = _trimmed(inline)
    text: XmlText | None = None
    for part in inline:
        if isinstance(part, _Node):
            element.children.append(XmlElement(part.tag, part.attributes))
            text = None
            continue
        chunk, marks = part
        if not chunk:
            continue
        if text is None:
            text = element.children.append(XmlText())
        text.insert(len(text), chunk, marks or None)  # pycrdt counts in UTF-8 bytes


def _trimmed(inline: list[Inline]) -> list[Inline]:
    """Drop a space at the start, after a space or a line break, and at the end."""
    result: list[Inline] = []
    after_space = True
    for part in inline:
        if isinstance(part, _Node):
            result.append(part)
            after_space = part.tag == HARD_BREAK
            continue
        chunk, marks = part
        if after_space:
            chunk = chunk.lstrip(" ")
        if chunk:
            result.append((chunk, marks))
            after_space = chunk.endswith(" ")
    for index in range(len(result) - 1, -1, -1):
        part = result[index]
        if isinstance(part, _Node):
            break
        chunk = part[0].rstrip(" ")
        result[index] = (chunk, part[1])
        if chunk:
            break
    return result

"""What is inside a document, by the conventions of collab's editors.

Yjs root types are untyped on the wire, so collab names the roots its editors use:
``content`` is a ``Y.Text`` (plain text and code editors, and most stock clients) and
``prosemirror`` is a ``Y.XmlFragment`` (the rich-text editor, via y-prosemirror).
"""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Text, XmlElement, XmlFragment, XmlText

from collab.conf import conf
from collab.exceptions import UpdateRejected
from collab.update_format import read_update
from collab.xml_tree import Node, attributes_of, to_xml, walk

TEXT_ROOT = "content"
"""The ``Y.Text`` that plain-text and code editors bind to."""

RICH_TEXT_ROOT = "prosemirror"
"""The ``Y.XmlFragment`` that the rich-text editor binds to."""

HARD_BREAK = "hard_break"
"""The rich-text editor's inline line break."""


def has_root(doc: Doc[Any], name: str) -> bool:
    """Whether ``doc`` has a root type called ``name``."""
    return name in set(doc.keys())


def load(*updates: bytes) -> Doc[Any]:
    """A pycrdt ``Doc`` holding ``updates`` (encoded Yjs updates), applied in order.

    Each update is read by :func:`collab.update_format.read_update` first: pycrdt
    decodes JSON values recursively, and one nested deeper than ``MAX_DEPTH`` (stored
    before collab checked updates, or written straight into the database) would crash
    the process. Applying them one by one is fast; applying their ``merge_updates`` is
    not when they are many (pycrdt integrates an unsquashed merge of 1,000 updates in
    about 0.5 s).

    Raises:
        ProtocolError: An update is malformed (or pycrdt rejects it).
        ContentRefused: An update holds a value nested deeper than ``MAX_DEPTH``.
    """
    doc: Doc[Any] = Doc()
    for update in updates:
        if update:
            read_update(update, conf.MAX_DEPTH)
            try:
                doc.apply_update(update)
            except ValueError as exc:
                raise UpdateRejected("update rejected by pycrdt") from exc
    return doc


def text_of(doc: Doc[Any]) -> str:
    """The plain text of ``doc``: its text root, else the text inside its rich text.

    In rich text, block elements (all but inline breaks) go on lines of their own.
    """
    text = str(doc.get(TEXT_ROOT, type=Text)) if has_root(doc, TEXT_ROOT) else ""
    if not text and has_root(doc, RICH_TEXT_ROOT):
        return _plain(doc.get(RICH_TEXT_ROOT, type=XmlFragment))
    return text


def to_json(doc: Doc[Any]) -> dict[str, str]:
    """The known roots of ``doc``: text as a string, rich text as its XML.

    The XML is what pycrdt's ``str()`` of the fragment gives (see
    :func:`collab.xml_tree.to_xml`), written without recursion.
    """
    roots: dict[str, str] = {}
    if has_root(doc, TEXT_ROOT):
        roots[TEXT_ROOT] = str(doc.get(TEXT_ROOT, type=Text))
    if has_root(doc, RICH_TEXT_ROOT):
        roots[RICH_TEXT_ROOT] = to_xml(doc.get(RICH_TEXT_ROOT, type=XmlFragment))
    return roots


def replace(target: Doc[Any], source: Doc[Any]) -> None:
    """Make the known roots of ``target`` equal to those of ``source``, as edits.

    The edits are ordinary forward changes, so history keeps everything before them.
    """
    with target.transaction():
        if has_root(source, TEXT_ROOT) or has_root(target, TEXT_ROOT):
            _replace_text(target.get(TEXT_ROOT, type=Text), source.get(TEXT_ROOT, type=Text))
        if has_root(source, RICH_TEXT_ROOT) or has_root(target, RICH_TEXT_ROOT):
            into = target.get(RICH_TEXT_ROOT, type=XmlFragment)
            del into.children[:]
            _copy_children(source.get(RICH_TEXT_ROOT, type=XmlFragment), into)


def _replace_text(into: Text, source: Text) -> None:
    old, new = str(into), str(source)
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    del into[start : len(old) - end]
    into.insert(start, new[start : len(new) - end])


def _copy_children(source: XmlFragment, into: XmlFragment) -> None:
    """Append copies of the nodes under ``source`` to ``into``, at any depth."""
    copies: list[XmlFragment | XmlElement] = []
    for step in walk(source):
        node = step.node
        if isinstance(node, XmlText):
            text = copies[-1].children.append(XmlText())
            offset = 0
            for chunk, attrs in node.diff():
                text.insert(offset, str(chunk), attrs)
                offset += len(str(chunk))
        elif not step.entering:
            copies.pop()
        elif step.depth == 0:
            copies.append(into)
        elif isinstance(node, XmlElement):
            element = XmlElement(node.tag, attributes_of(node))
            copies.append(copies[-1].children.append(element))
        else:  # a fragment inside the tree: its children join its parent's copy
            copies.append(copies[-1])


def _plain(root: XmlFragment) -> str:
    """Text of ``root``; lines between children that are all blocks (not inline breaks)."""
    parts: list[str] = []
    separators: list[str] = []
    written: list[bool] = []
    for step in walk(root, into=lambda element: element.tag != HARD_BREAK):
        if not step.entering:
            if not _is_break(step.node):
                separators.pop()
                written.pop()
            continue
        if written:
            if written[-1]:
                parts.append(separators[-1])
            written[-1] = True
        if isinstance(step.node, XmlText):
            parts.append("".join(str(chunk) for chunk, _ in step.node.diff()))
        elif _is_break(step.node):
            parts.append("\n")
        else:
            blocks = step.children and all(
                isinstance(child, XmlElement) and not _is_break(child) for child in step.children
            )
            separators.append("\n" if blocks else "")
            written.append(False)
    return "".join(parts)


def _is_break(node: Node) -> bool:
    return isinstance(node, XmlElement) and node.tag == HARD_BREAK

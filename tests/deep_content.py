"""Rich text nested far deeper than any editor makes it, stored without a websocket.

Yjs updates carry no depth limit, and content stored before ``MAX_DEPTH`` existed (or
written through the ORM) can hold anything; reading it must still never recurse.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from collab.content import RICH_TEXT_ROOT
from collab.models import Document, DocumentSnapshot

DEPTH = 20_000
"""Nesting that made pycrdt's ``str()`` of the tree overflow the native stack in a server."""

OVERFLOW_DEPTH = 50_000
"""Nesting at which pycrdt's ``str()`` of the tree overflows the stack of any thread here
(8 MiB; from about 20,300 levels)."""

BOTTOM = "bottom"
"""The text of the paragraph at the bottom of the nesting."""


@cache
def deep_rich_update(depth: int = DEPTH) -> bytes:
    """A Yjs update of ``depth`` nested blockquotes around one paragraph of text."""
    doc: Doc[Any] = Doc()
    with doc.transaction():
        node: XmlFragment | XmlElement = doc.get(RICH_TEXT_ROOT, type=XmlFragment)
        for _ in range(depth):
            node = node.children.append(XmlElement("blockquote"))
        node.children.append(XmlElement("paragraph")).children.append(XmlText(BOTTOM))
    return doc.get_update()


def deep_rich_xml(depth: int = DEPTH) -> str:
    """What pycrdt's ``str()`` makes of :func:`deep_rich_update` (where it does not crash)."""
    return "<blockquote>" * depth + f"<paragraph>{BOTTOM}</paragraph>" + "</blockquote>" * depth


def store_deep_document(key: str, depth: int = DEPTH) -> Document:
    """Document ``key`` holding :func:`deep_rich_update`, written straight to the database.

    The content is a named snapshot, so it is also a version.
    """
    document = Document.objects.create(key=key)
    DocumentSnapshot.objects.create(
        document=document, state=deep_rich_update(depth), last_update_id=0, name="deep"
    )
    return document

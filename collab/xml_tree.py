"""Yjs XML trees walked without recursion, and written out as XML text.

A Yjs update can nest elements as deep as its sender likes, so nothing that reads a
document recurses over it: :func:`walk` keeps its own stack, in the heap. pycrdt's own
``str()`` of an XML node recurses in native code and overflows the stack at about
20,000 levels, killing the process; :func:`to_xml` writes the same text without it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

__all__ = ["Node", "to_xml", "walk"]

Node = XmlFragment | XmlElement | XmlText
"""A node of a Yjs XML tree: the root fragment, an element or a text."""

_SHARED_TYPES = (Array, Map, Text, XmlElement, XmlFragment, XmlText, Doc)
"""Values that are shared types rather than plain data (embedded in a text, say)."""


@dataclass(frozen=True)
class Step:
    """One step of :func:`walk`: entering a node, or leaving it after its children."""

    node: Node
    depth: int
    """0 for the root, 1 for its children, and so on."""
    entering: bool
    children: list[Node]
    """On entering, the children the walk goes into next; otherwise empty."""


def walk(root: Node, *, into: Callable[[XmlElement], bool] | None = None) -> Iterator[Step]:
    """The nodes of the tree under ``root`` in document order, each entered and left.

    A text is entered only. The walk keeps its own stack, so any depth is fine.

    Args:
        root: Where to start; it is entered first and left last.
        into: Whether to walk into an element's children (default: always). An element
            not walked into is still entered and left.
    """
    first = Step(root, 0, True, _children(root))
    yield first
    stack = [(first, iter(first.children))]
    while stack:
        parent, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if not isinstance(parent.node, XmlText):
                yield Step(parent.node, parent.depth, False, [])
            continue
        walk_into = not isinstance(child, XmlElement) or into is None or into(child)
        step = Step(child, parent.depth + 1, True, _children(child) if walk_into else [])
        yield step
        stack.append((step, iter(step.children)))


def _children(node: Node) -> list[Node]:
    return [] if isinstance(node, XmlText) else list(node.children)


def attributes_of(element: XmlElement) -> dict[str, Any]:
    """The element's attributes, in the order pycrdt lists them."""
    return dict(cast("Iterable[tuple[str, Any]]", element.attributes))


def to_xml(root: XmlFragment | XmlElement) -> str:
    """``root`` as XML text, as pycrdt's ``str()`` writes it, at any depth.

    Like yrs, nothing is escaped; attributes are written in the order pycrdt lists them;
    a text's formatting attributes become tags, sorted by name, whose own attributes are
    those of a map value; values that are shared types (embedded in a text, or
    attribute values) are written as nothing.
    """
    parts: list[str] = []
    for step in walk(root):
        node = step.node
        if isinstance(node, XmlText):
            parts.append(_text_xml(node))
        elif isinstance(node, XmlElement) and step.entering:
            parts.append(f"<{node.tag}{_attributes_xml(attributes_of(node))}>")
        elif isinstance(node, XmlElement):
            parts.append(f"</{node.tag}>")
    return "".join(parts)


def _text_xml(node: XmlText) -> str:
    parts: list[str] = []
    for chunk, formatting in node.diff():
        marks = sorted((formatting or {}).items())
        for name, value in marks:
            attributes = value if isinstance(value, dict) else {}
            parts.append(f"<{name}{_attributes_xml(attributes)}>")
        parts.append(any_text(chunk))
        parts.extend(f"</{name}>" for name, _ in reversed(marks))
    return "".join(parts)


def _attributes_xml(attributes: dict[str, Any]) -> str:
    return "".join(f' {name}="{any_text(value)}"' for name, value in attributes.items())


def any_text(value: Any) -> str:
    """A Yjs value as yrs writes it: strings bare, ``[1, 2]``, ``{key: value}``, ``null``.

    Nested lists and maps are written without recursion, at any depth.
    """
    parts: list[str] = []
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, _Literal):
            parts.append(item.text)
        elif isinstance(item, list):
            pending.append(_Literal("]"))
            for index in range(len(item) - 1, -1, -1):
                pending.append(item[index])
                if index:
                    pending.append(_Literal(", "))
            pending.append(_Literal("["))
        elif isinstance(item, dict):
            entries = list(item.items())
            pending.append(_Literal("}"))
            for index in range(len(entries) - 1, -1, -1):
                key, entry = entries[index]
                pending.append(entry)
                pending.append(_Literal(f"{', ' if index else ''}{key}: "))
            pending.append(_Literal("{"))
        else:
            parts.append(_scalar_text(item))
    return "".join(parts)


@dataclass(frozen=True)
class _Literal:
    """Text :func:`any_text` writes as it is (brackets and separators)."""

    text: str


def _scalar_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + value.hex()
    if isinstance(value, _SHARED_TYPES):
        return ""
    return str(value)


def _number_text(value: float) -> str:
    """A float as Rust's ``Display`` writes it: ``1``, ``1.5``, ``0.0000001``, no exponent."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text

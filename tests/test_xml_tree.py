"""Yjs XML trees as XML text, without recursion (collab.xml_tree)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pycrdt import Doc, Map, XmlElement, XmlFragment, XmlText

from collab import content
from collab.xml_tree import any_text, to_xml, walk
from tests.rich_text import RICH_UPDATE


def varied_fragment() -> XmlFragment:
    """Attributes of every kind of value, formatted and embedded text, nested types."""
    doc: Doc[Any] = Doc()
    fragment = doc.get("prosemirror", type=XmlFragment)
    attributes = {
        "text": 'x<y"',
        "whole": 1,
        "true": True,
        "null": None,
        "map": {"k": [1, "2", {"z": [], "y": {}}]},
        "fraction": 1.5,
        "list": [1, 2],
        "large": 1e21,
        "small": 1e-7,
        "negative_zero": -0.0,
        "bytes": b"\x01\xff",
    }
    element = fragment.children.append(XmlElement("p", attributes))
    text = element.children.append(XmlText())
    text.insert(0, "a<b&c", {"bold": True})
    text.insert(5, "plain")
    text.insert(10, "xy", {"bold": {}, "italic": {"x": 1, "y": "s"}, "link": {"href": "h"}})
    text.insert(12, "n", {"bold": None})
    text.insert_embed(13, {"img": 1, "list": [1.5, None]})
    text.insert(14, "z", {"aa": "s", "num": 3})
    text.insert_embed(15, Map({"shared": 1}))
    fragment.children.append(XmlText("top"))
    fragment.children.append(XmlElement("empty", contents=[XmlElement("inner")]))
    return fragment


@pytest.mark.parametrize(
    "fragment",
    [
        lambda: content.load(RICH_UPDATE).get("prosemirror", type=XmlFragment),
        varied_fragment,
    ],
)
def test_to_xml_writes_what_pycrdt_writes(fragment: Any) -> None:
    root = fragment()
    assert to_xml(root) == str(root)
    element = next(child for child in root.children if isinstance(child, XmlElement))
    assert to_xml(element) == str(element)


def test_walk_enters_and_leaves_in_document_order() -> None:
    root = varied_fragment()
    steps = [
        (type(step.node).__name__, getattr(step.node, "tag", None), step.depth, step.entering)
        for step in walk(root, into=lambda element: element.tag != "empty")
    ]
    assert steps == [
        ("XmlFragment", None, 0, True),
        ("XmlElement", "p", 1, True),
        ("XmlText", None, 2, True),
        ("XmlElement", "p", 1, False),
        ("XmlText", None, 1, True),
        ("XmlElement", "empty", 1, True),
        ("XmlElement", "empty", 1, False),
        ("XmlFragment", None, 0, False),
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        ("bare <text>", "bare <text>"),
        (3.0, "3"),
        (-0.0, "-0"),
        (0.1, "0.1"),
        (1e21, "1000000000000000000000"),
        (2.5e-8, "0.000000025"),
        (math.nan, "NaN"),
        (-math.inf, "-inf"),
        (b"\x00\xab", "0x00ab"),
        ([1.0, [], {"a": None, "b": ["x"]}], "[1, [], {a: null, b: [x]}]"),
    ],
)
def test_any_text_writes_values_as_yrs(value: Any, text: str) -> None:
    assert any_text(value) == text


def test_any_text_of_deeply_nested_values() -> None:
    value: list[Any] = []
    innermost = value
    for _ in range(50_000):
        innermost.append([])
        innermost = innermost[0]
    assert any_text(value) == "[" * 50_001 + "]" * 50_001

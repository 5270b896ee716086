"""A large update cut into smaller ones makes the same document, applied in order."""

from __future__ import annotations

import random

import pytest
from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

from collab.update_format import read_state_vector
from collab.update_split import split_update


def same_document(update: bytes, pieces: list[bytes]) -> None:
    whole, rebuilt = Doc(), Doc()
    whole.apply_update(update)
    for piece in pieces:
        rebuilt.apply_update(piece)
    assert read_state_vector(rebuilt.get_state()) == read_state_vector(whole.get_state())
    for name, kind in (("content", Text), ("list", Array), ("rich", XmlFragment)):
        assert str(rebuilt.get(name, type=kind)) == str(whole.get(name, type=kind))
    assert rebuilt.get("meta", type=Map).to_py() == whole.get("meta", type=Map).to_py()


def busy_document() -> bytes:
    """Edits of several clients: text with deletions and emoji, a map, an array, rich text."""
    rng = random.Random(7)
    shared = Doc()
    for round_ in range(30):
        writer: Doc = Doc()
        writer.apply_update(shared.get_update())
        text = writer.get("content", type=Text)
        for _ in range(20):
            text.insert(rng.randint(0, len(str(text))), rng.choice(["a", "b", "word "]))
        text += "é😀中文"
        start = rng.randint(0, len(str(text)) // 2)
        del text[start : start + 3]
        writer.get("meta", type=Map)[f"k{round_ % 7}"] = {"round": round_, "list": [1, 2]}
        writer.get("list", type=Array).append(round_)
        rich = writer.get("rich", type=XmlFragment)
        rich.children.append(XmlElement("p", {}, [XmlText(f"paragraph {round_}")]))
        shared.apply_update(writer.get_update(shared.get_state()))
    return shared.get_update()


def test_a_small_update_is_left_whole() -> None:
    update = busy_document()
    assert split_update(update, len(update)) == [update]


@pytest.mark.parametrize("max_bytes", [256, 1000, 5000])
def test_pieces_fit_and_make_the_same_document(max_bytes: int) -> None:
    update = busy_document()
    pieces = split_update(update, max_bytes)
    assert len(pieces) > 1
    assert all(len(piece) <= max_bytes for piece in pieces)
    same_document(update, pieces)


def test_a_long_string_item_is_cut_between_characters() -> None:
    doc: Doc = Doc()
    text = doc.get("content", type=Text)
    with doc.transaction():
        for index in range(20_000):  # one client typing: squashed into one item
            text += "😀" if index % 7 == 0 else "é" if index % 3 == 0 else "x"
    text.insert(100, "inside")  # another item in the middle: left and right origins
    update = doc.get_update()
    pieces = split_update(update, 2048)
    assert len(pieces) > 10
    assert all(len(piece) <= 2048 for piece in pieces)
    same_document(update, pieces)

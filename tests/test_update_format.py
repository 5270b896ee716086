"""Reading Yjs updates without pycrdt: whatever stock Yjs writes is read and judged right."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
from functools import cache

import pytest
from pycrdt import Doc, Text, XmlElement, XmlFragment, write_var_uint

from collab.exceptions import ContentRefused, ProtocolError
from collab.item_index import ItemIndex
from collab.update_format import Kind, read_state_vector, read_update
from tests.e2e.node import NODE_DIR
from tests.hostile_updates import (
    deep_value_update,
    half_character_update,
    text_in_two_updates,
    update_with_parent,
)

MAX_DEPTH = 128


@cache
def yjs_cases() -> list[dict[str, object]]:
    """Updates written by stock Yjs (``tests/node/updates.mjs``), in the order made."""
    output = subprocess.run(
        ["node", "updates.mjs"], cwd=NODE_DIR, check=True, capture_output=True, text=True
    ).stdout
    return [json.loads(line) for line in output.splitlines()]


def decoded(case: dict[str, object]) -> bytes:
    return base64.b64decode(str(case["update"]))


def test_every_update_yjs_writes_is_admitted_with_the_depth_yjs_sees() -> None:
    index = ItemIndex(MAX_DEPTH)
    for case in yjs_cases()[:-2]:
        update = decoded(case)
        depth = int(str(case["depth"]))
        admission = index.admit(read_update(update, MAX_DEPTH))
        assert admission.missing is None, case["name"]
        if depth:
            tight = _copy(index, max_depth=depth - 1)
            with pytest.raises(ContentRefused):
                tight.admit(read_update(update, MAX_DEPTH))
            _copy(index, max_depth=depth).admit(read_update(update, MAX_DEPTH))
        index.record(admission)


def test_a_whole_document_and_a_concurrent_client_are_admitted() -> None:
    *_, concurrent, whole = yjs_cases()
    index = ItemIndex(MAX_DEPTH)
    index.record(index.admit(read_update(decoded(whole), MAX_DEPTH)))
    assert index.admit(read_update(decoded(concurrent), MAX_DEPTH)).missing is None
    doc: Doc = Doc()
    doc.apply_update(decoded(whole))
    known = [write_var_uint(len(index.clients()))]
    for client, clock in index.clients():
        known += (write_var_uint(client), write_var_uint(clock))
    unknown = read_update(doc.get_update(b"".join(known)), MAX_DEPTH)
    assert unknown.runs == []  # the index knows every item


def test_string_lengths_count_utf16_code_units_as_javascript_does() -> None:
    doc: Doc = Doc()
    doc.get("content", type=Text).insert(0, "a😀b")  # 4 UTF-16 code units
    (run,) = read_update(doc.get_update(), MAX_DEPTH).runs
    assert run.length == 4
    assert run.kind is Kind.CONTENT


@pytest.mark.parametrize(
    ("update", "error"),
    [
        pytest.param(b"", ProtocolError, id="empty"),
        pytest.param(b"\x01\x01\x01\x00", ProtocolError, id="truncated"),
        pytest.param(b"\x00\x00\x00", ProtocolError, id="trailing-bytes"),
        pytest.param(b"\x01\x01\x01\x00\x1f\x00", ProtocolError, id="unknown-content"),
        pytest.param(b"\x01\x01\x01\x00\x07\x01\x01a\x09\x00", ProtocolError, id="unknown-type"),
        pytest.param(
            b"\x01\x01\x01\x00\x04\x01\x01a\x02\xff\xfe\x00", ProtocolError, id="bad-utf8"
        ),
        pytest.param(
            b"\x01\x01\x80\x80\x80\x80\x80\x80\x80\x10\x00\x04\x01\x01a\x01b\x00",
            ProtocolError,
            id="client-beyond-2**53",
        ),
        pytest.param(deep_value_update(MAX_DEPTH + 1), ContentRefused, id="json-too-deep"),
        pytest.param(b"\x01\x00\x05\x01\x00", ProtocolError, id="client-without-structs"),
        pytest.param(
            b"\x02\x01\x05\x00\x04\x01\x01a\x01b\x01\x05\x09\x04\x01\x01a\x01c\x00",
            ProtocolError,
            id="client-listed-twice",
        ),
    ],
)
def test_malformed_or_hostile_updates_are_refused(update: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        read_update(update, MAX_DEPTH)


def test_a_value_nested_exactly_to_the_limit_is_read() -> None:
    (run,) = read_update(deep_value_update(MAX_DEPTH), MAX_DEPTH).runs
    assert run.length == 1


def test_a_parent_that_is_not_a_shared_type_is_refused_before_pycrdt_sees_it() -> None:
    doc: Doc = Doc()
    doc.get("content", type=Text).insert(0, "hello")
    index = ItemIndex(MAX_DEPTH)
    index.record(index.admit(read_update(doc.get_update(), MAX_DEPTH)))
    with pytest.raises(ProtocolError, match="not a shared type"):
        index.admit(read_update(update_with_parent(doc.client_id, 0), MAX_DEPTH))


def test_updates_whose_items_are_missing_wait() -> None:
    first, later, author = text_in_two_updates("a", "b")
    index = ItemIndex(MAX_DEPTH)
    assert index.admit(read_update(later, MAX_DEPTH)).missing == (author, 0)
    index.record(index.admit(read_update(first, MAX_DEPTH)))
    assert index.admit(read_update(later, MAX_DEPTH)).missing is None


def test_nesting_is_counted_across_updates() -> None:
    doc: Doc = Doc()
    node: XmlFragment | XmlElement = doc.get("prosemirror", type=XmlFragment)
    index = ItemIndex(5)
    for _ in range(5):
        state = doc.get_state()
        node = node.children.append(XmlElement("p"))
        index.record(index.admit(read_update(doc.get_update(state), MAX_DEPTH)))
    state = doc.get_state()
    node.children.append(XmlElement("p"))
    with pytest.raises(ContentRefused):
        index.admit(read_update(doc.get_update(state), MAX_DEPTH))


def test_typing_adds_no_runs_to_the_index() -> None:
    doc: Doc = Doc()
    text = doc.get("content", type=Text)
    index = ItemIndex(MAX_DEPTH)
    for position in range(200):
        state = doc.get_state()
        text.insert(position, "x")
        index.record(index.admit(read_update(doc.get_update(state), MAX_DEPTH)))
    assert index.run_count == 1


def _copy(index: ItemIndex, *, max_depth: int) -> ItemIndex:
    tight = copy.copy(index)
    tight.max_depth = max_depth
    return tight


def test_state_vectors_are_read_strictly() -> None:
    doc: Doc = Doc()
    doc.get("content", type=Text).insert(0, "x")
    assert read_state_vector(doc.get_state()) == {doc.client_id: 1}
    for malformed in (b"", b"\x01\x01", doc.get_state() + b"\x00", b"\x01" + b"\xff" * 8 + b"\x01"):
        with pytest.raises(ProtocolError):
            read_state_vector(malformed)


def test_an_update_that_splits_a_character_in_two_is_refused() -> None:
    """pycrdt cannot hold half a surrogate pair; Yjs can, so the replicas would diverge."""
    doc: Doc = Doc()
    doc.get("content", type=Text).insert(0, "a😀b")  # the emoji takes clocks 1 and 2
    index = ItemIndex(MAX_DEPTH)
    index.record(index.admit(read_update(doc.get_update(), MAX_DEPTH)))
    inside = half_character_update(doc.client_id, origin_clock=1)  # after the first half
    with pytest.raises(ContentRefused, match="character"):
        index.admit(read_update(inside, MAX_DEPTH))
    beside = half_character_update(doc.client_id, origin_clock=2)  # after the emoji
    assert index.admit(read_update(beside, MAX_DEPTH)).missing is None
    with pytest.raises(ContentRefused, match="character"):
        index.check_cut(doc.client_id, 2)
    index.check_cut(doc.client_id, 3)

"""A room's document integrates only checked updates and stays one with its peers."""

from __future__ import annotations

import gc
import weakref

import pytest
from pycrdt import Doc, Text, TransactionEvent, XmlElement, XmlFragment, XmlText

from collab.exceptions import ContentRefused, ProtocolError, ReplicaBroken
from collab.replica import PartlyApplied, Replica
from tests.hostile_updates import (
    clients_update,
    deep_value_update,
    element_struct,
    half_valid_update,
    nested_elements_update,
    structs_update,
    text_in_two_updates,
    text_struct,
    text_type_struct,
    update_with_parent,
    value_struct,
)

LIMITS = {"max_depth": 128, "max_pending_bytes": 10_000}


def text_doc(content: str) -> Doc:
    doc: Doc = Doc()
    doc.get("content", type=Text).insert(0, content)
    return doc


def loaded(*updates: bytes) -> Replica:
    replica = Replica(**LIMITS)
    replica.load(list(updates))
    return replica


def text_of(replica: Replica) -> str:
    return str(replica.doc.get("content", type=Text))


def test_a_value_nested_100_000_deep_is_refused_before_pycrdt_decodes_it() -> None:
    replica = Replica(**LIMITS)
    with pytest.raises(ContentRefused):
        replica.integrate(deep_value_update(100_000))
    assert replica.doc.get_update() == Doc().get_update()


def test_rich_text_nested_20_000_deep_in_one_update_is_refused() -> None:
    replica = Replica(**LIMITS)
    with pytest.raises(ContentRefused):
        replica.integrate(nested_elements_update(20_000))
    assert "prosemirror" not in set(replica.doc.keys())


def test_nesting_built_one_level_per_update_stops_at_the_limit() -> None:
    replica = Replica(max_depth=20, max_pending_bytes=0)
    doc: Doc = Doc()
    node: XmlFragment | XmlElement = doc.get("prosemirror", type=XmlFragment)
    for _ in range(20):
        state = doc.get_state()
        node = node.children.append(XmlElement("p"))
        replica.integrate(doc.get_update(state))
    state = doc.get_state()
    node.children.append(XmlElement("p"))
    with pytest.raises(ContentRefused):
        replica.integrate(doc.get_update(state))


def nested_elements(author: int, depth: int) -> tuple[Doc, XmlElement]:
    """A document of ``author``: elements ``depth`` deep, their ids 0 to depth - 1."""
    doc: Doc = Doc(client_id=author)
    node: XmlFragment | XmlElement = doc.get("prosemirror", type=XmlFragment)
    for _ in range(depth):
        node = node.children.append(XmlElement("p"))
    assert isinstance(node, XmlElement)
    return doc, node


def test_what_an_update_says_about_known_items_does_not_count_for_depth() -> None:
    """Yjs and yrs skip the items they have: an update re-sending the deepest element
    as one at the root would otherwise nest its children past the limit."""
    source, _ = nested_elements(5, 3)
    replica = Replica(max_depth=4, max_pending_bytes=0)
    replica.load([source.get_update()])
    shallow_again = structs_update(
        5, 2, element_struct(root="prosemirror"), element_struct(parent=(5, 2)),
        element_struct(parent=(5, 3)),
    )  # fmt: skip
    with pytest.raises(ContentRefused):
        replica.integrate(shallow_again)


def test_the_new_end_of_a_partly_known_run_lies_where_yjs_puts_it() -> None:
    """Yjs and yrs put the new end of a run after the last item they have, in its parent,
    whatever parent the run names: elements next to it nest that deep."""
    source, deepest = nested_elements(5, 2)
    deepest.children.append(XmlText("abc"))  # id 2; its characters 3 to 5 lie 3 deep
    replica = Replica(max_depth=4, max_pending_bytes=0)
    replica.load([source.get_update()])
    replica.integrate(structs_update(5, 4, text_struct("XYZ", root="content")))  # only Z is new
    chain = [element_struct(after=(5, 6))] + [element_struct(parent=(6, k)) for k in range(3)]
    with pytest.raises(ContentRefused):
        replica.integrate(structs_update(6, 0, *chain))


def test_characters_an_update_claims_for_known_items_do_not_count() -> None:
    """Fuzz seed 209435468: a hostile update re-sent known characters as halves of
    emoji; then stock clients typing between them were refused with 4422."""
    source = text_doc("ab")
    replica = loaded(source.get_update())
    replica.integrate(structs_update(source.client_id, 0, text_struct("😀", root="content")))
    peer: Doc = Doc()
    peer.apply_update(source.get_update())
    state = peer.get_state()
    peer.get("content", type=Text).insert(1, "x")  # between (source, 0) and (source, 1)
    replica.integrate(peer.get_update(state))
    assert text_of(replica) == "axb"


def test_a_run_whose_new_part_starts_inside_a_character_is_refused() -> None:
    """Yjs would split the character (into two U+FFFD); pycrdt cannot hold half of one."""
    source = text_doc("a")
    replica = loaded(source.get_update())
    with pytest.raises(ContentRefused):
        replica.integrate(structs_update(source.client_id, 0, text_struct("😀", root="content")))
    assert text_of(replica) == "a"


@pytest.mark.parametrize(
    "clients",
    [
        pytest.param(
            [(5, 0, (text_struct("a", after=(5, 1)), text_struct("b", root="content")))],
            id="an item after a later one of its client",
        ),
        pytest.param(
            [
                (5, 0, (text_struct("a", after=(6, 0)), text_struct("c", root="content"))),
                (6, 0, (text_struct("b", after=(5, 1)),)),
            ],
            id="items of two clients after each other",
        ),
    ],
)
def test_items_that_wait_for_each_other_are_refused(
    clients: list[tuple[int, int, tuple[bytes, ...]]],
) -> None:
    """Yjs and yrs integrate a client's items in clock order, each once what it refers to
    is there: pycrdt kept these pending for ever while the index counted them, and every
    later item of those clients vanished (neither relayed nor stored)."""
    replica = Replica(**LIMITS)
    with pytest.raises(ProtocolError):
        replica.integrate(clients_update(*clients))
    author = Doc(client_id=5)
    author.get("content", type=Text).insert(0, "later")
    assert replica.integrate(author.get_update()).delta is not None
    assert text_of(replica) == "later"


def test_an_update_naming_text_as_a_parent_changes_nothing() -> None:
    """pycrdt would integrate the first struct, then raise RuntimeError on the second."""
    source = text_doc("hello")
    replica = loaded(source.get_update())
    with pytest.raises(ProtocolError):
        replica.integrate(half_valid_update(source.client_id, 0))
    assert text_of(replica) == "hello"


def test_values_are_refused_in_a_text_which_counts_them_without_showing_them() -> None:
    """Yjs counts a value in a text in every position but shows it nowhere, so every
    editor bound to the text would place its users' edits off by one (fuzz seed
    168079003: stock editors typing next to such values cut characters in two)."""
    source = text_doc("typed")
    typed = source.get_update()
    replica = loaded(typed)
    nested = structs_update(8, 0, text_type_struct(root="settings", key="title"))
    replica.integrate(nested)
    notes = structs_update(9, 0, text_struct("notes", root="notes"))
    replica.integrate(notes)
    refused = {
        "the plain editor's text, before anything is typed": value_struct(root="content"),
        "after a character of it": value_struct(after=(source.client_id, 2)),
        "a nested text": value_struct(parent=(8, 0)),
        "a root someone typed into first": value_struct(root="notes"),
    }
    for case, struct in refused.items():
        with pytest.raises(ContentRefused, match="values"):
            loaded(typed, nested, notes).integrate(structs_update(7, 0, struct))
        stored_earlier = loaded(typed, nested, notes, structs_update(7, 0, struct))
        assert text_of(stored_earlier) == "typed", case  # what is stored loads as it is
    accepted = [
        value_struct(root="content", key="attribute"),  # a text's attributes are entries
        value_struct(parent=(8, 0), key="attribute"),
        value_struct(root="list"),  # a list: strings may follow, a list shows them
        text_struct("chars", root="list"),
        text_struct("more", parent=(8, 0)),
    ]
    for clock, struct in enumerate(accepted):
        assert replica.integrate(structs_update(20 + clock, 0, struct)).delta is not None
    assert text_of(replica) == "typed"


def test_an_update_waits_for_what_it_depends_on_and_then_arrives_with_it() -> None:
    first, later, _ = text_in_two_updates("a", "b")
    replica = Replica(**LIMITS)
    assert replica.integrate(later) == (None, None)
    assert replica.pending_bytes == len(later)
    assert text_of(replica) == ""
    delta, released = replica.integrate(first)
    assert delta is not None
    assert released is not None
    assert text_of(replica) == "ab"
    assert replica.pending_bytes == 0
    peer: Doc = Doc()
    peer.apply_update(delta)
    peer.apply_update(released)
    assert str(peer.get("content", type=Text)) == "ab"


def test_updates_waiting_for_ever_are_bounded() -> None:
    replica = Replica(max_depth=128, max_pending_bytes=100)
    stranger = text_doc("x" * 10)
    state = stranger.get_state()
    refused = 0
    for _ in range(20):
        stranger.get("content", type=Text).insert(0, "y")
        try:
            replica.integrate(stranger.get_update(state))
        except ContentRefused:
            refused += 1
    assert replica.pending_bytes <= 100
    assert refused > 0


def test_a_held_update_refused_once_its_parent_arrives_does_not_hide_the_arrival() -> None:
    """Fuzz seed 4242: the update that released a held one was integrated, then the held
    one's refusal escaped, and the room neither relayed nor stored what was integrated."""
    parent = text_doc("hello")
    replica = Replica(**LIMITS)
    replica.integrate(update_with_parent(parent.client_id, 0))  # waits for (parent, 0)
    delta, released = replica.integrate(parent.get_update())  # text: not a shared type
    assert released is None
    assert replica.pending_bytes == 0
    peer: Doc = Doc()
    peer.apply_update(delta or b"")
    assert str(peer.get("content", type=Text)) == text_of(replica) == "hello"


def test_a_stored_update_still_waiting_is_held_again_beyond_the_limit() -> None:
    """Stored updates are held whatever their size; one released only to wait for
    something else again must not be refused after what released it was integrated."""
    first, second = Doc(client_id=1), Doc(client_id=2)
    first.get("content", type=Text).insert(0, "a")
    second.get("content", type=Text).insert(0, "b")
    author = Doc(client_id=3)
    author.apply_update(first.get_update())
    author.apply_update(second.get_update())
    state = author.get_state()
    text = author.get("content", type=Text)
    text.insert(1, "1")  # between "a" (first's) and "b" (second's): it needs both
    replica = Replica(max_depth=128, max_pending_bytes=0)
    replica.load([author.get_update(state)])
    delta, released = replica.integrate(second.get_update())
    assert delta is not None
    assert released is None
    assert replica.integrate(first.get_update()).released is not None
    assert text_of(replica) == str(text) == "a1b"
    assert replica.pending_bytes == 0


def test_a_failure_after_integrating_reports_what_was_integrated() -> None:
    """pycrdt raising after changing the document: the change is handed back to relay."""
    replica = Replica(**LIMITS)
    failures = ["observer failed"]

    def fail_once(event: TransactionEvent) -> None:
        if failures:
            raise RuntimeError(failures.pop())

    replica.doc.observe(fail_once)
    with pytest.raises(PartlyApplied) as raised:
        replica.integrate(text_doc("partial").get_update())
    assert raised.value.delta is not None
    peer: Doc = Doc()
    peer.apply_update(raised.value.delta)
    assert str(peer.get("content", type=Text)) == text_of(replica) == "partial"
    replica.integrate(text_doc("next").get_update())  # the rebuilt replica goes on
    assert "next" in text_of(replica)


def test_a_replica_is_collected_once_dropped() -> None:
    replica = loaded(text_doc("x").get_update())
    collected = weakref.ref(replica)
    del replica
    gc.collect()
    assert collected() is None


def panic() -> None:
    """Make pycrdt panic for real: remove more text than there is."""
    text = Doc().get("content", type=Text)
    del text[5:10]


def test_after_a_pycrdt_panic_the_document_is_never_touched_again() -> None:
    """pycrdt may leave a document half changed by a panic; reading it can crash."""
    replica = Replica(**LIMITS)
    panics = [panic]

    def panic_once(event: TransactionEvent) -> None:
        if panics:
            panics.pop()()

    replica.doc.observe(panic_once)
    with pytest.raises(ReplicaBroken) as raised:
        replica.integrate(text_doc("before the panic").get_update())
    assert type(raised.value.__cause__).__name__ == "PanicException"
    with pytest.raises(ReplicaBroken):
        replica.integrate(text_doc("after").get_update())
    with pytest.raises(ReplicaBroken):
        replica.whole_update()
    with pytest.raises(ReplicaBroken):
        replica.missing_for(text_doc("x").get_state())

"""Yjs updates that stock clients never send, built byte by byte for tests."""

from __future__ import annotations

from pycrdt import Doc, Text, XmlElement, XmlFragment, write_var_uint

ANY_ARRAY = 117
ANY_NULL = 126
STRING_CONTENT = 4
ANY_CONTENT = 8
TYPE_CONTENT = 7
YTEXT = 2
XML_ELEMENT = 3
HAS_ORIGIN = 0x80
HAS_PARENT_SUB = 0x20


def _string(value: str) -> bytes:
    encoded = value.encode()
    return write_var_uint(len(encoded)) + encoded


def _update(client: int, clock: int, struct: bytes) -> bytes:
    """An update holding one struct of ``client`` at ``clock``, deleting nothing."""
    return (
        write_var_uint(1)
        + write_var_uint(1)
        + write_var_uint(client)
        + write_var_uint(clock)
        + struct
        + write_var_uint(0)
    )


def deep_value_update(depth: int, client: int = 1) -> bytes:
    """An update adding to root array ``"a"`` a JSON value: arrays nested ``depth`` deep.

    pycrdt decodes such values recursively: 100,000 levels (200 KB) overflow its stack.
    """
    value = bytes((ANY_ARRAY, 1)) * depth + bytes((ANY_NULL,))
    item = bytes((ANY_CONTENT,)) + write_var_uint(1) + _string("a") + write_var_uint(1) + value
    return _update(client, 0, item)


def update_with_parent(parent_client: int, parent_clock: int, client: int = 7) -> bytes:
    """An update adding text whose parent is item ``(parent_client, parent_clock)``.

    If that item is not a shared type, pycrdt raises RuntimeError after integrating
    what came before it.
    """
    item = (
        bytes((STRING_CONTENT,))
        + write_var_uint(0)
        + write_var_uint(parent_client)
        + write_var_uint(parent_clock)
        + _string("Y")
    )
    return _update(client, 0, item)


def half_valid_update(parent_client: int, parent_clock: int, client: int = 7) -> bytes:
    """Two structs: text at root ``"content"``, then text under a non-type parent."""
    first = bytes((STRING_CONTENT,)) + write_var_uint(1) + _string("content") + _string("X")
    second = (
        bytes((STRING_CONTENT,))
        + write_var_uint(0)
        + write_var_uint(parent_client)
        + write_var_uint(parent_clock)
        + _string("Y")
    )
    return (
        write_var_uint(1)
        + write_var_uint(2)
        + write_var_uint(client)
        + write_var_uint(0)
        + first
        + second
        + write_var_uint(0)
    )


def nested_elements_update(depth: int) -> bytes:
    """A whole document of rich text: ``depth`` XML elements, each inside the last."""
    doc: Doc = Doc()
    node: XmlFragment | XmlElement = doc.get("prosemirror", type=XmlFragment)
    with doc.transaction():
        for _ in range(depth):
            node = node.children.append(XmlElement("paragraph"))
    return doc.get_update()


def half_character_update(client: int, origin_clock: int, author: int = 9) -> bytes:
    """An update inserting "x" right after item ``(client, origin_clock)`` of a text."""
    item = (
        bytes((0x80 | STRING_CONTENT,))
        + write_var_uint(client)
        + write_var_uint(origin_clock)
        + _string("x")
    )
    return _update(author, 0, item)


def text_in_two_updates(first: str, then: str) -> tuple[bytes, bytes, int]:
    """Two updates of one author: ``first`` typed, then ``then`` appended (the second
    depends on the first); and the author's client id."""
    author: Doc = Doc()
    text = author.get("content", type=Text)
    text.insert(0, first)
    before = author.get_update()
    state = author.get_state()
    text.insert(len(first), then)
    return before, author.get_update(state), author.client_id


def structs_update(client: int, clock: int, *structs: bytes) -> bytes:
    """An update holding ``structs`` of ``client`` from ``clock`` on, deleting nothing."""
    return clients_update((client, clock, structs))


def clients_update(*clients: tuple[int, int, tuple[bytes, ...]]) -> bytes:
    """An update holding, per ``(client, clock, structs)``, the structs of that client
    from that clock on; deleting nothing."""
    parts = [write_var_uint(len(clients))]
    for client, clock, structs in clients:
        parts += (write_var_uint(len(structs)), write_var_uint(client), write_var_uint(clock))
        parts += structs
    return b"".join(parts) + write_var_uint(0)


def _placed(
    content_ref: int,
    content: bytes,
    *,
    root: str = "",
    parent: tuple[int, int] | None = None,
    after: tuple[int, int] | None = None,
    key: str | None = None,
) -> bytes:
    """A struct of ``content``: in root ``root``, in the type with id ``parent``, or right
    after the item with id ``after``; under map key ``key`` if one is given."""
    if after is not None:
        origin = write_var_uint(after[0]) + write_var_uint(after[1])
        return bytes((HAS_ORIGIN | content_ref,)) + origin + content
    if parent is not None:
        named = write_var_uint(0) + write_var_uint(parent[0]) + write_var_uint(parent[1])
    else:
        named = write_var_uint(1) + _string(root)
    if key is None:
        return bytes((content_ref,)) + named + content
    return bytes((HAS_PARENT_SUB | content_ref,)) + named + _string(key) + content


def element_struct(
    *, root: str = "", parent: tuple[int, int] | None = None, after: tuple[int, int] | None = None
) -> bytes:
    """A struct adding an XML element ``<p>``: in root ``root``, in the element with id
    ``parent``, or right after the item with id ``after``."""
    element = write_var_uint(XML_ELEMENT) + _string("p")
    return _placed(TYPE_CONTENT, element, root=root, parent=parent, after=after)


def text_type_struct(*, root: str = "", key: str | None = None) -> bytes:
    """A struct adding a nested ``Y.Text`` to root ``root`` (under map key ``key``)."""
    return _placed(TYPE_CONTENT, write_var_uint(YTEXT), root=root, key=key)


def text_struct(
    text: str, *, root: str = "", parent: tuple[int, int] | None = None,
    after: tuple[int, int] | None = None,
) -> bytes:  # fmt: skip
    """A struct adding ``text``: at the start of root ``root`` or of the text with id
    ``parent``, or right after the item with id ``after``."""
    return _placed(STRING_CONTENT, _string(text), root=root, parent=parent, after=after)


def value_struct(
    *,
    root: str = "",
    parent: tuple[int, int] | None = None,
    after: tuple[int, int] | None = None,
    key: str | None = None,
) -> bytes:
    """A struct adding the JSON value ``null`` (one ``Any``), placed as :func:`_placed` says."""
    value = write_var_uint(1) + bytes((ANY_NULL,))
    return _placed(ANY_CONTENT, value, root=root, parent=parent, after=after, key=key)

"""Cutting a large Yjs update into several smaller ones that together make the same change.

ASGI servers cap the size of a websocket message in both directions (daphne: 1 MiB by
default), so a document's whole state cannot always go out as one sync step 2. A Yjs
update is a list of structs per client plus a delete set, and any subset of the structs,
each client's consecutive ones kept together, is itself a valid update: a receiver
keeps what still lacks its dependencies pending until the rest arrives. So the update is
cut between structs, and a string item too large on its own is cut into several items,
the way Yjs splits an item (the second part's left origin is the first part's last
character). The delete set goes last, cut between ranges if it is too large itself.

Pure functions on bytes: no pycrdt, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator

from pycrdt import write_var_uint

from collab.update_format import (
    HAS_ORIGIN,
    HAS_RIGHT_ORIGIN,
    STRING_CONTENT,
    Span,
    read_spans,
    read_var_uint,
)

SECTION_OVERHEAD = 3 * 10
"""Most bytes a client section's header takes (three varuints)."""

NO_DELETES = b"\x00"


def split_update(update: bytes, max_bytes: int) -> list[bytes]:
    """Cut ``update`` into updates of at most ``max_bytes`` each, applied in order.

    Only a struct that is not text and larger than ``max_bytes`` on its own (a single
    embedded value that large) makes an update longer than that.

    Args:
        update: A valid Yjs update (format v1), as pycrdt encodes it.
        max_bytes: The most bytes each resulting update should take (at least 256).

    Returns:
        ``[update]`` itself if it fits, else the pieces, the last holding the delete set.
    """
    if len(update) <= max_bytes:
        return [update]
    clients, deletes_start = read_spans(update)
    budget = max_bytes - SECTION_OVERHEAD - 10
    pieces: list[bytes] = []
    sections: list[tuple[int, int, list[bytes]]] = []
    size = 0
    for client, spans in clients:
        for clock, struct in _structs(update, client, spans, budget):
            if sections and size + len(struct) + SECTION_OVERHEAD > budget:
                pieces.append(_encode(sections, NO_DELETES))
                sections, size = [], 0
            if not sections or sections[-1][0] != client:
                sections.append((client, clock, []))
                size += SECTION_OVERHEAD
            sections[-1][2].append(struct)
            size += len(struct)
    delete_sets = list(_delete_sets(update, deletes_start, budget))
    if sections and size + len(delete_sets[0]) > budget:
        pieces.append(_encode(sections, NO_DELETES))
        sections = []
    pieces.append(_encode(sections, delete_sets[0]))
    pieces += [_encode([], delete_set) for delete_set in delete_sets[1:]]
    return pieces


def _delete_sets(update: bytes, position: int, budget: int) -> Iterator[bytes]:
    """The delete set starting at ``position``, as delete sets of at most ``budget`` bytes."""
    clients: list[tuple[int, list[bytes]]] = []
    size = 1
    count, position = read_var_uint(update, position)
    for _ in range(count):
        client, position = read_var_uint(update, position)
        ranges, position = read_var_uint(update, position)
        for _ in range(ranges):
            start = position
            for _ in range(2):
                _, position = read_var_uint(update, position)
            if clients and size + position - start + SECTION_OVERHEAD > budget:
                yield _encode_deletes(clients)
                clients, size = [], 1
            if not clients or clients[-1][0] != client:
                clients.append((client, []))
                size += SECTION_OVERHEAD
            clients[-1][1].append(update[start:position])
            size += position - start
    yield _encode_deletes(clients)


def _encode_deletes(clients: list[tuple[int, list[bytes]]]) -> bytes:
    encoded = [write_var_uint(len(clients))]
    for client, ranges in clients:
        encoded += [write_var_uint(client), write_var_uint(len(ranges)), *ranges]
    return b"".join(encoded)


def _structs(
    update: bytes, client: int, spans: list[Span], budget: int
) -> Iterator[tuple[int, bytes]]:
    """Each struct of ``client`` with its clock; string items over ``budget`` cut in parts."""
    for span in spans:
        struct = update[span.start : span.end]
        if len(struct) <= budget or span.text_start is None:
            yield span.clock, struct
        else:
            yield from _cut_text(update, client, span, budget)


def _cut_text(update: bytes, client: int, span: Span, budget: int) -> Iterator[tuple[int, bytes]]:
    """A string item as several items of at most ``budget`` bytes each.

    The first part keeps the item's header (origins, parent); each later part has the
    previous part's last character as its left origin and the item's right origin, so
    Yjs and yrs place the parts exactly where the whole item was.
    """
    assert span.text_start is not None
    header = update[span.start : span.text_start]
    info = header[0]
    right_origin = _right_origin(header)
    length, position = read_var_uint(update, span.text_start)
    clock = span.clock
    prefix = header
    for part in _text_parts(update[position : position + length], budget - len(header) - 10):
        yield clock, prefix + write_var_uint(len(part)) + part
        part_info = HAS_ORIGIN | (info & HAS_RIGHT_ORIGIN) | STRING_CONTENT
        clock += len(part.decode("utf-8").encode("utf-16-le")) // 2
        prefix = bytes((part_info,)) + write_var_uint(client) + write_var_uint(clock - 1)
        prefix += right_origin


def _right_origin(header: bytes) -> bytes:
    """The encoded right origin of a struct's ``header``, or nothing if it has none."""
    info, position = header[0], 1
    if info & HAS_ORIGIN:
        for _ in range(2):
            _, position = read_var_uint(header, position)
    if not info & HAS_RIGHT_ORIGIN:
        return b""
    start = position
    for _ in range(2):
        _, position = read_var_uint(header, position)
    return header[start:position]


def _text_parts(text: bytes, max_bytes: int) -> Iterator[bytes]:
    """UTF-8 ``text`` in parts of at most ``max_bytes``, never cut inside a character.

    So never inside a surrogate pair either: those are one 4-byte UTF-8 character.
    """
    start = 0
    while start < len(text):
        end = min(start + max_bytes, len(text))
        while end < len(text) and text[end] & 0xC0 == 0x80:  # a continuation byte
            end -= 1
        yield text[start:end]
        start = end


def _encode(sections: list[tuple[int, int, list[bytes]]], deletes: bytes) -> bytes:
    encoded = [write_var_uint(len(sections))]
    for client, clock, structs in sections:
        encoded += [write_var_uint(len(structs)), write_var_uint(client), write_var_uint(clock)]
        encoded += structs
    encoded.append(deletes)
    return b"".join(encoded)

"""The structure of an encoded Yjs update (format v1), read without pycrdt.

pycrdt decodes untrusted updates with native recursion: a JSON value nested 100,000
deep inside a 200 KB update overflows the server's stack (SIGSEGV) before any Python
code can object. So every update is read here first, iteratively, and only what collab
needs is kept: the runs of items it adds (client, clock, length, whether they are nested
types, and which item or root their position hangs off) and the ranges it deletes.
:mod:`collab.item_index` decides from that whether the update may be applied.

Pure functions on bytes: no Django, no pycrdt, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import NamedTuple

from collab.exceptions import ContentRefused, ProtocolError

MAX_SAFE_INTEGER = 2**53 - 1
"""lib0 (and so every Yjs client) refuses integers beyond this."""


class Kind(IntEnum):
    """What a run of the update holds, as far as nesting and text positions are concerned."""

    CONTENT = 0
    """What a text shows: strings, embeds, formatting. Never a parent of other items."""
    TYPE = 1
    """One nested shared type other than a text (map, array, XML element or fragment)."""
    DELETED = 2
    """Deleted or garbage-collected items: children naming them as parent are dropped."""
    SKIP = 3
    """Clocks the update does not fill (no items)."""
    VALUE = 4
    """JSON, binary or a subdocument: in a text, Yjs counts them in every position but
    shows them nowhere (not in ``toString``, not in ``toDelta``)."""
    TEXT_TYPE = 5
    """One nested text (``Y.Text`` or ``Y.XmlText``): a parent whose items are text."""


PARENT_KINDS = frozenset({Kind.TYPE, Kind.TEXT_TYPE})
"""Kinds of items other items may name as their parent."""


class Ref(IntEnum):
    """How a run's parent is found (Yjs encodes it only when no neighbour tells)."""

    NONE = 0
    """No parent: garbage-collected ranges and skips."""
    ROOT = 1
    """A root type of the document, by name."""
    PARENT = 2
    """The nested type with the referenced id."""
    NEIGHBOUR = 3
    """The parent of the referenced neighbour (the left origin, else the right one)."""


class Run(NamedTuple):
    """Consecutive clocks of one client that share a kind and a parent."""

    client: int
    clock: int
    length: int
    kind: Kind
    ref: Ref
    ref_client: int = 0
    ref_clock: int = 0
    needs: tuple[tuple[int, int], ...] = ()
    """Ids (client, clock) that must exist before this run can be integrated; the
    reference its parent comes from first (``ref_client``, ``ref_clock``), if any."""
    cuts: tuple[tuple[int, int], ...] = ()
    """Places (client, clock) where integrating it splits existing items: just after its
    left neighbour, just before its right one (a split before ``clock``)."""
    halves: tuple[int, ...] = ()
    """Clocks of this run that hold the second half of a character (a UTF-16 surrogate
    pair): splitting before one cuts the character in two."""
    root: str = ""
    """The root's name, for a run whose parent is a root (``Ref.ROOT``)."""
    entry: bool = False
    """Whether it says it is a map entry (under a key), not part of its parent's sequence;
    a run positioned by a neighbour (``Ref.NEIGHBOUR``) is whatever the neighbour is."""


@dataclass(slots=True)
class UpdateShape:
    """What an update adds and deletes, without the content itself."""

    runs: list[Run] = field(default_factory=list)
    """Per client in clock order; clients in the order the update lists them."""
    deletes: list[tuple[int, int, int]] = field(default_factory=list)
    """``(client, clock, length)`` ranges the update deletes."""


_GC, _DELETED, _JSON, _BINARY, _STRING, _EMBED, _FORMAT, _TYPE, _ANY, _DOC, _SKIP = range(11)
"""Content references of Yjs structs (the low five bits of an item's info byte)."""

STRING_CONTENT = _STRING
"""The content reference of a string item, in the low bits of its info byte."""
HAS_ORIGIN = 0x80
HAS_RIGHT_ORIGIN = 0x40
_HAS_PARENT_SUB = 0x20
_CONTENT_BITS = 0x1F

_LAST_SINGLE_UNIT = 0xFFFF
"""Characters above this take two UTF-16 code units (a surrogate pair)."""

_NAMED_TYPES = frozenset({3, 5})
"""Type refs followed by a name: ``YXmlElement`` and ``YXmlHook``."""

_TYPE_REFS = frozenset(range(7))
"""Array, Map, Text, XmlElement, XmlFragment, XmlHook, XmlText: what Yjs decodes."""

_TEXT_TYPES = frozenset({2, 6})
"""Type refs of texts: ``YText`` and ``YXmlText``."""

_ANY_FIXED_SIZE = {127: 0, 126: 0, 124: 4, 123: 8, 122: 8, 121: 0, 120: 0}
"""lib0 ``Any`` tags of fixed size: undefined, null, float32/64, bigint, false, true."""
_ANY_VAR_INT = 125
_ANY_STRING = 119
_ANY_OBJECT = 118
_ANY_ARRAY = 117
_ANY_BYTES = 116


def read_update(update: bytes, max_depth: int) -> UpdateShape:
    """Read the structure of a Yjs update without integrating it.

    Args:
        update: An encoded Yjs update (format v1, as y-websocket sends).
        max_depth: The deepest nesting of JSON values (arrays and objects) accepted
            inside the update's content.

    Returns:
        The runs of items the update adds and the ranges it deletes.

    Raises:
        ProtocolError: The update is truncated, has trailing bytes, an unknown content or
            type reference, a string that is not UTF-8, or an integer beyond 2**53 - 1.
        ContentRefused: A JSON value in it is nested deeper than ``max_depth``.
    """
    reader = _Reader(update)
    shape = UpdateShape()
    clients = set()
    for _ in range(reader.var_uint()):
        count = reader.var_uint()
        client = reader.var_uint()
        clock = reader.var_uint()
        if not count or client in clients:  # yrs panics on both; Yjs writes neither
            raise ProtocolError("a client without structs, or listed twice, in update")
        clients.add(client)
        for _ in range(count):
            run = reader.struct(client, clock, max_depth)
            shape.runs.append(run)
            clock += run.length
            if clock > MAX_SAFE_INTEGER:
                raise ProtocolError("clock out of range in update")
    for _ in range(reader.var_uint()):
        client = reader.var_uint()
        for _ in range(reader.var_uint()):
            clock = reader.var_uint()
            length = reader.var_uint()
            if length:
                shape.deletes.append((client, clock, length))
    if reader.pos != len(update):
        raise ProtocolError(f"{len(update) - reader.pos} unexpected trailing bytes in update")
    return shape


class Span(NamedTuple):
    """Where one struct of an update lies, for cutting the update into smaller ones."""

    clock: int
    length: int
    start: int
    """Offset of its first byte in the update."""
    end: int
    """Offset just after its last byte."""
    text_start: int | None
    """Offset of its string content, for a string item (the one kind Yjs squashes into
    items of any size, so the one that may need cutting itself)."""


def read_spans(update: bytes) -> tuple[list[tuple[int, list[Span]]], int]:
    """Where each struct of a valid update lies, per client, and where its delete set starts.

    For updates the server encoded itself (nothing is checked beyond the format).

    Raises:
        ProtocolError: The update is not a valid Yjs update.
    """
    reader = _Reader(update)
    clients = []
    for _ in range(reader.var_uint()):
        count = reader.var_uint()
        client = reader.var_uint()
        clock = reader.var_uint()
        spans = []
        for _ in range(count):
            start = reader.pos
            reader.text_start = None
            run = reader.struct(client, clock, MAX_SAFE_INTEGER)
            spans.append(Span(clock, run.length, start, reader.pos, reader.text_start))
            clock += run.length
        clients.append((client, spans))
    return clients, reader.pos


def read_var_uint(data: bytes, position: int) -> tuple[int, int]:
    """The lib0 unsigned integer at ``position`` in ``data``, and the position after it."""
    reader = _Reader(data)
    reader.pos = position
    return reader.var_uint(), reader.pos


def read_state_vector(state_vector: bytes) -> dict[int, int]:
    """Read a Yjs state vector: each client's next clock.

    Raises:
        ProtocolError: It is truncated, has trailing bytes or an integer beyond 2**53 - 1.
    """
    reader = _Reader(state_vector)
    clocks = {}
    for _ in range(reader.var_uint()):
        client = reader.var_uint()
        clocks[client] = reader.var_uint()
    if reader.pos != len(state_vector):
        raise ProtocolError("unexpected trailing bytes in state vector")
    return clocks


class _Reader:
    """Bounds-checked lib0 decoding of one update."""

    __slots__ = ("data", "pos", "text_start")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.text_start: int | None = None
        """Where the last string item's content started (see :func:`read_spans`)."""

    def struct(self, client: int, clock: int, max_depth: int) -> Run:
        info = self.byte()
        content = info & _CONTENT_BITS
        if content == _GC:
            return Run(client, clock, self.length(), Kind.DELETED, Ref.NONE)
        if content == _SKIP:
            return Run(client, clock, self.length(), Kind.SKIP, Ref.NONE)
        needs: list[tuple[int, int]] = []
        cuts: list[tuple[int, int]] = []
        if info & HAS_ORIGIN:
            needs.append((self.var_uint(), self.var_uint()))
            cuts.append((needs[-1][0], needs[-1][1] + 1))
        if info & HAS_RIGHT_ORIGIN:
            needs.append((self.var_uint(), self.var_uint()))
            cuts.append(needs[-1])
        root = ""
        if needs:
            ref, (ref_client, ref_clock) = Ref.NEIGHBOUR, needs[0]
        elif self.var_uint() == 1:
            root = self.string()
            ref, ref_client, ref_clock = Ref.ROOT, 0, 0
        else:
            ref, ref_client, ref_clock = Ref.PARENT, self.var_uint(), self.var_uint()
            needs.append((ref_client, ref_clock))
        entry = ref is not Ref.NEIGHBOUR and bool(info & _HAS_PARENT_SUB)
        if entry:
            self.string()  # the map key
        if content == _STRING:
            self.text_start = self.pos
            length, halves = self.text(clock)
            return Run(client, clock, length, Kind.CONTENT, ref, ref_client, ref_clock,
                       tuple(needs), tuple(cuts), halves, root, entry)  # fmt: skip
        kind, length = self.content(content, max_depth)
        return Run(client, clock, length, kind, ref, ref_client, ref_clock,
                   tuple(needs), tuple(cuts), (), root, entry)  # fmt: skip

    def text(self, clock: int) -> tuple[int, tuple[int, ...]]:
        """Read string content starting at ``clock``: its length and its second halves.

        A string counts its UTF-16 code units, as JavaScript does; an empty one (yrs
        writes it after splitting a surrogate pair) breaks Yjs clients.
        """
        text = self.string()
        length = len(text.encode("utf-16-le")) // 2 or _empty()
        if length == len(text):
            return length, ()
        halves = []
        for character in text:
            clock += 1
            if ord(character) > _LAST_SINGLE_UNIT:
                halves.append(clock)
                clock += 1
        return length, tuple(halves)

    def content(self, content: int, max_depth: int) -> tuple[Kind, int]:
        """Read an item's content; return its kind and its length in clocks."""
        if content == _DELETED:
            return Kind.DELETED, self.length()
        if content == _TYPE:
            type_ref = self.var_uint()
            if type_ref not in _TYPE_REFS:
                raise ProtocolError(f"unknown type reference {type_ref} in update")
            if type_ref in _NAMED_TYPES:
                self.string()
            return (Kind.TEXT_TYPE if type_ref in _TEXT_TYPES else Kind.TYPE), 1
        if content == _JSON:
            count = self.length()
            for _ in range(count):
                self.string()
            return Kind.VALUE, count
        if content == _ANY:
            count = self.length()
            self.any_values(count, max_depth)
            return Kind.VALUE, count
        if content in (_EMBED, _BINARY):
            self.skip(self.var_uint())
            return (Kind.CONTENT if content == _EMBED else Kind.VALUE), 1
        if content == _FORMAT:
            self.string()
            self.skip(self.var_uint())
            return Kind.CONTENT, 1
        if content == _DOC:
            self.string()
            self.any_values(1, max_depth)
            return Kind.VALUE, 1
        raise ProtocolError(f"unknown content reference {content} in update")

    def any_values(self, count: int, max_depth: int) -> None:
        """Skip ``count`` lib0 ``Any`` values, refusing nesting deeper than ``max_depth``."""
        stack = [[count, False]]  # per open level: values left, whether it is an object
        while stack:
            level = stack[-1]
            if not level[0]:
                stack.pop()
                continue
            level[0] -= 1
            if level[1]:
                self.skip(self.var_uint())  # the key of this value
            tag = self.byte()
            if tag in _ANY_FIXED_SIZE:
                self.skip(_ANY_FIXED_SIZE[tag])
            elif tag == _ANY_VAR_INT:
                while self.byte() & 0x80:
                    pass
            elif tag in (_ANY_STRING, _ANY_BYTES):
                self.skip(self.var_uint())
            elif tag in (_ANY_ARRAY, _ANY_OBJECT):
                if len(stack) > max_depth:
                    raise ContentRefused(f"a value in the update is nested over {max_depth} deep")
                stack.append([self.var_uint(), tag == _ANY_OBJECT])
            else:
                raise ProtocolError(f"unknown value tag {tag} in update")

    def byte(self) -> int:
        try:
            value = self.data[self.pos]
        except IndexError:
            raise ProtocolError("truncated update") from None
        self.pos += 1
        return value

    def var_uint(self) -> int:
        data, pos = self.data, self.pos
        try:
            byte = data[pos]
            value = byte & 0x7F
            shift = 7
            while byte >= 0x80:
                pos += 1
                byte = data[pos]
                value |= (byte & 0x7F) << shift
                shift += 7
                if value > MAX_SAFE_INTEGER:
                    raise ProtocolError("integer out of range in update")
        except IndexError:
            raise ProtocolError("truncated update") from None
        self.pos = pos + 1
        return value

    def length(self) -> int:
        """A run length: at least one clock."""
        return self.var_uint() or _empty()

    def skip(self, length: int) -> None:
        end = self.pos + length
        if end > len(self.data):
            raise ProtocolError("truncated update")
        self.pos = end

    def string(self) -> str:
        length = self.var_uint()
        start = self.pos
        self.skip(length)
        try:
            return self.data[start : self.pos].decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("string in update is not UTF-8") from None


def _empty() -> int:
    raise ProtocolError("empty item in update")

"""The frames of :mod:`benchmarks.hostile_memory`'s attacks, each as large as collab lets it be.

Every attack is a function ``(sequence number) -> frame``; each is built from collab's
own encoders (:mod:`collab.protocol`) or by pycrdt, never sent by a stock client.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any

from pycrdt import Doc, Text, write_var_uint

from collab.conf import DEFAULTS
from collab.protocol import (
    EMPTY_STATE_VECTOR,
    encode_awareness,
    encode_awareness_entry,
    encode_query_awareness,
    encode_sync_step1,
    encode_update,
    join_awareness_entries,
)
from tests.hostile_updates import deep_value_update, nested_elements_update

Frames = Callable[[int], bytes]
"""The ``n``-th frame of an attack (``n`` counts from 0 over all its connections)."""

MAX_FRAME_BYTES: int = DEFAULTS["MAX_FRAME_BYTES"]
MAX_STATE_BYTES: int = DEFAULTS["MAX_AWARENESS_STATE_BYTES"]
MAX_DEPTH: int = DEFAULTS["MAX_DEPTH"]

NULL_ENTRIES = 100_000
"""Entries per awareness frame of the null flood, as in issue 12 (about 0.9 MB)."""

FIRST_ID = 1 << 14
"""Made-up client ids start here (3-byte varuints) and go up."""

TEXT_CHUNK = 1_000_000
"""Characters per update of the document-growth and dependency attacks (a frame just
under ``MAX_FRAME_BYTES``)."""

NULL = b"null"


def _awareness(entries: list[bytes]) -> bytes:
    return encode_awareness(join_awareness_entries(entries))


VARIANTS = 16
"""Frames of made-up ids are built once for this many id ranges, then sent in turn (the
attacker must not be slower than the server)."""


def awareness_nulls(n: int) -> bytes:
    """100,000 ``null`` states of made-up client ids, other ids in each of 16 frames."""
    return _made_up_ids(n % VARIANTS, NULL)


def awareness_ids(n: int) -> bytes:
    """As many made-up client ids with a small state as fit a frame (4 are kept)."""
    return _made_up_ids(n % VARIANTS, b"{}")


@functools.cache
def _made_up_ids(variant: int, state: bytes) -> bytes:
    base = FIRST_ID + variant * NULL_ENTRIES
    count = min(NULL_ENTRIES, (MAX_FRAME_BYTES - 16) // (5 + len(state)))
    return _awareness([encode_awareness_entry(base + i, 1, state) for i in range(count)])


def awareness_max_states(n: int) -> bytes:
    """``MAX_AWARENESS_CLIENTS`` states of ``MAX_AWARENESS_STATE_BYTES`` each, a new clock
    in every frame: all accepted and relayed to every other connection."""
    filler = "x" * (MAX_STATE_BYTES - len('{"x":""}'))
    state = ('{"x":"' + filler + '"}').encode()
    clients: int = DEFAULTS["MAX_AWARENESS_CLIENTS"]
    return _awareness([encode_awareness_entry(FIRST_ID + i, n + 1, state) for i in range(clients)])


def awareness_forged(victims: list[int]) -> Frames:
    """States, then ``null``s, for the victims' own client ids with ever higher clocks."""

    @functools.cache
    def forged(variant: int) -> bytes:
        state = b'{"user":{"name":"ADMIN (forged)"}}' if variant % 2 == 0 else NULL
        entries = [encode_awareness_entry(victim, 1_000_000 + variant, state) for victim in victims]
        return _awareness(entries * (MAX_FRAME_BYTES // (2 * len(entries[0]) * len(victims))))

    return lambda n: forged(n % VARIANTS)


def step1(n: int) -> bytes:
    """Sync step 1 with an empty state vector: "send me the whole document"."""
    return encode_sync_step1(EMPTY_STATE_VECTOR)


def query_awareness(n: int) -> bytes:
    """Query-awareness: "send me every presence state"."""
    return encode_query_awareness()


class _TextWriter:
    """Updates of one made-up client, each inserting :data:`TEXT_CHUNK` characters."""

    def __init__(self, client_id: int, root: str = "content") -> None:
        self.doc: Doc[Any] = Doc(client_id=client_id)
        self.text = self.doc.get(root, type=Text)

    def next_update(self, letter: str) -> bytes:
        before = self.doc.get_state()
        self.text.insert(len(self.text), letter * TEXT_CHUNK)
        return self.doc.get_update(before)


def growth() -> Frames:
    """A new 1,000,000-character insert in every frame: the document grows."""
    writer = _TextWriter(client_id=0x7A11)
    return lambda n: encode_update(writer.next_update("abcdefghij"[n % 10]))


def duplicates() -> Frames:
    """The same maximum-size update again and again: read in full, then nothing to apply."""
    frame = encode_update(_TextWriter(client_id=0x7A12).next_update("d"))
    return lambda n: frame


def waiting() -> Frames:
    """Updates that depend on one never sent: each waits for it (up to MAX_PENDING_BYTES)."""
    writer = _TextWriter(client_id=0x7A13)
    writer.next_update("w")  # the update every later one depends on; never sent
    return lambda n: encode_update(writer.next_update("w"))


def small_structs(n: int) -> bytes:
    """One client's garbage-collected ranges of one clock each (two bytes per struct) from
    clock ``1 + n * count``: the smallest structs, each read into an object of its own;
    all of them wait for the client's clock 0, which never comes."""
    count = (MAX_FRAME_BYTES - 32) // 2
    header = write_var_uint(1) + write_var_uint(count) + write_var_uint(0x7A14)
    update = header + write_var_uint(1 + n * count) + b"\x00\x01" * count + write_var_uint(0)
    return encode_update(update)


def deep() -> Frames:
    """Nesting beyond MAX_DEPTH: a maximum-size JSON value of nested arrays, and rich
    text of nested elements, each from a new client id."""
    levels = (MAX_FRAME_BYTES - 64) // 2
    values = itertools.count(0x7B00)
    elements = nested_elements_update(MAX_DEPTH + 1)

    def frame(n: int) -> bytes:
        if n % 2:
            return encode_update(elements)
        return encode_update(deep_value_update(levels, client=next(values)))

    return frame

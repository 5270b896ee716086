"""A replica's memory: what waits for missing updates, and its document once closed.

Both found by ``benchmarks/hostile_memory.py``:

- A held update is kept with the runs read from it, one object per struct. Structs can
  be two bytes each (garbage-collected ranges), so 1 MiB of held updates took tens of
  times its size (an editor made a server hold 400 MiB for a 4 MiB
  ``MAX_PENDING_BYTES``).
- pycrdt keeps a ``Doc`` alive for as long as a callback observes it, whatever the
  callback holds: a room's document stayed in memory after the room was unloaded
  (each unloaded 85 MB document kept 80 MiB or more).
"""

from __future__ import annotations

import gc
import tracemalloc
import weakref

from pycrdt import Doc, Text, write_var_uint

from collab.exceptions import ContentRefused
from collab.replica import Replica

LIMIT = 1024 * 1024
"""MAX_PENDING_BYTES of the replica under test."""

STRUCTS = 50_000
"""Two-byte structs per update (100 KB)."""

ALLOWANCE = 2
"""What the held updates may take, as a multiple of what they are counted as."""


def small_structs_update(clock: int, client: int = 77) -> bytes:
    """An update of :data:`STRUCTS` one-clock garbage-collected ranges from ``clock``
    on: from clock 1 on, it waits for the client's clock 0, which never comes."""
    structs = b"\x00\x01" * STRUCTS
    header = write_var_uint(1) + write_var_uint(STRUCTS)
    return header + write_var_uint(client) + write_var_uint(clock) + structs + write_var_uint(0)


def test_updates_waiting_for_a_missing_one_hold_about_what_they_are_counted_as() -> None:
    replica = Replica(max_depth=128, max_pending_bytes=LIMIT)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        refused = False
        clock = 1
        while not refused:
            try:
                assert replica.integrate(small_structs_update(clock)) == (None, None)
            except ContentRefused:
                refused = True
            clock += STRUCTS
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert LIMIT - 2 * STRUCTS * 2 < replica.pending_bytes <= LIMIT
    assert held <= ALLOWANCE * LIMIT, f"{held / LIMIT:.1f} x MAX_PENDING_BYTES held"


def test_a_closed_replica_frees_its_document() -> None:
    author: Doc = Doc()
    author.get("content", type=Text).insert(0, "some text")
    replica = Replica(max_depth=128, max_pending_bytes=LIMIT)
    replica.load([author.get_update()])
    document = weakref.ref(replica.doc)
    replica.close()
    del replica
    gc.collect()
    assert document() is None

"""Updates that wait for missing ones hold about what ``MAX_PENDING_BYTES`` counts, not
many times it.

Found by ``benchmarks/hostile_memory.py``: a held update is kept with the runs read
from it, one object per struct. Structs can be two bytes each (garbage-collected
ranges), so the objects of 1 MiB of updates took tens of times its size.
"""

from __future__ import annotations

import tracemalloc

from pycrdt import write_var_uint

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
                assert replica.integrate(small_structs_update(clock)) is None
            except ContentRefused:
                refused = True
            clock += STRUCTS
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert LIMIT - 2 * STRUCTS * 2 < replica.pending_bytes <= LIMIT
    assert held <= ALLOWANCE * LIMIT, f"{held / LIMIT:.1f} x MAX_PENDING_BYTES held"

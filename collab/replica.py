"""A room's copy of its document: a pycrdt ``Doc`` that only integrates checked updates.

Every update is read by :mod:`collab.update_format` and judged by
:mod:`collab.item_index` before pycrdt sees it, so content that would crash the process
(values or shared types nested too deep), updates whose dependencies are missing and
parents that are not shared types never reach the ``Doc``. Updates that wait for
missing dependencies are held here, bounded by ``COLLAB["MAX_PENDING_BYTES"]``, and
integrated once what they need has arrived; pycrdt's own pending store stays empty.

If pycrdt still fails after integrating part of an update, the replica rebuilds itself
from its own encoded state and reports exactly what it now holds beyond what it had, so
the room can relay and store it: every replica stays identical. After a panic the
document is not touched again (pycrdt may have left it half changed; reading it can
crash the process): the replica refuses all further use, and the room is loaded anew
from storage.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

from pycrdt import Doc, Subscription, TransactionEvent, merge_updates, write_var_uint

from collab.content import TEXT_ROOT
from collab.exceptions import (
    ContentRefused,
    ProtocolError,
    ReplicaBroken,
    UpdateRejected,
    is_pycrdt_panic,
)
from collab.item_index import Admission, ItemIndex
from collab.protocol import EMPTY_STATE_VECTOR, EMPTY_UPDATE
from collab.update_format import UpdateShape, read_state_vector, read_update

PANIC_BYTES_SHOWN = 2048
"""How much of an update that made pycrdt panic goes into the error (and its log line)."""

TEXT_ROOTS = frozenset({TEXT_ROOT})
"""Roots that are texts from the start: the bundled plain-text editor's."""


class PartlyApplied(UpdateRejected):
    """pycrdt failed on an update after integrating part of it.

    ``delta`` is what the replica gained: the caller relays and stores it like any other
    change, so that every replica holds the same document, then refuses the sender.
    """

    def __init__(self, message: str, delta: bytes | None) -> None:
        super().__init__(message)
        self.delta = delta


class Integration(NamedTuple):
    """What integrating one update changed."""

    delta: bytes | None
    """What the update itself added to the document, as an update (None: nothing)."""
    released: bytes | None
    """What held updates it made ready added: they came from other senders, so the
    update's own sender has not got it either."""


Reserved = Callable[[int], bool]
"""Whether a client id belongs to another connection (its items must come from it)."""


class _Waiting:
    """An update held until the items it depends on exist."""

    __slots__ = ("reserved", "update")

    def __init__(self, update: bytes, reserved: Reserved) -> None:
        self.update = update
        """The update as it came (its parsed shape is many times its size: not kept)."""
        self.reserved = reserved


class Replica:
    """One document in memory, guarded against hostile updates."""

    def __init__(self, *, max_depth: int, max_pending_bytes: int) -> None:
        """An empty document.

        Args:
            max_depth: The deepest nesting of shared types, and of JSON values, accepted.
            max_pending_bytes: Bytes of updates that may wait for missing dependencies.
        """
        self.max_depth = max_depth
        self.max_pending_bytes = max_pending_bytes
        self.doc: Doc[Any] = Doc()
        self._index = ItemIndex(max_depth, TEXT_ROOTS)
        self._mixed_text = False
        """Whether values are let into texts (while loading what was stored before)."""
        self._waiting: dict[tuple[int, int], list[_Waiting]] = {}
        """Held updates, by the id (client, clock) each waits for."""
        self.pending_bytes = 0
        """Bytes of the updates held for missing dependencies."""
        self._whole: bytes | None = None
        self._delta: bytes | None = None
        self.broken = False
        """Whether pycrdt panicked on this document: nothing may use it any more."""
        self._subscription = self._observe()

    def integrate(self, update: bytes, reserved: Reserved = lambda client: False) -> Integration:
        """Check ``update`` and integrate it, with any held update it makes ready.

        Yjs trusts client ids: items a connection adds under another client's id would
        take that client's place in every replica, and conflict with what it writes
        itself. So items beyond the document's state under a ``reserved`` client id (one
        another connection has announced as its own) wait until the document has them
        from their owner; then they are duplicates, which Yjs ignores.

        Returns:
            What the document gained from it (nothing if it waits for missing
            dependencies), and from held updates it released.

        Raises:
            ProtocolError: The update is malformed, or refers to parents that are not
                shared types; nothing was integrated.
            ContentRefused: It nests deeper than ``max_depth``, or holding it would put
                more than ``max_pending_bytes`` on hold; nothing was integrated.
            PartlyApplied: pycrdt failed after integrating part of it (see there).
            ReplicaBroken: pycrdt panicked on it (or on an earlier one).
        """
        self._check_usable()
        shape = read_update(update, self.max_depth)
        admission, missing = self._judge(shape, reserved)
        if missing is not None:
            if self.pending_bytes + len(update) > self.max_pending_bytes:
                raise ContentRefused(
                    f"over {self.max_pending_bytes} bytes of updates wait for missing updates"
                )
            self._hold(_Waiting(update, reserved), missing)
            return Integration(None, None)
        delta = self._apply(update, admission)
        released = self._merged(self._release_ready(_clients_of(shape)))
        if delta is not None:
            self._whole = None
        return Integration(delta, released)

    def release_unreserved(self) -> bytes | None:
        """Integrate held updates that waited for a client id nobody claims any more.

        Items under a reserved id wait for that id's owner; once it cleared its
        presence state or left, nobody else will send them: a client reconnecting from
        the same page sends its edits made offline while its old connection may still be
        open, and these must not wait for ever.

        Returns:
            What the document gained from them, as one update (None: nothing).

        Raises:
            ReplicaBroken: pycrdt panicked on one of them.
        """
        if not self._waiting:
            return None
        unreserved = [
            key
            for key, held in self._waiting.items()
            if key[1] >= self._index.next_clock(key[0])
            and not all(waiting.reserved(key[0]) for waiting in held)
        ]
        deltas: list[bytes | None] = []
        arrived = self._retry(unreserved, deltas)
        deltas += self._release_ready(arrived)
        return self._merged(deltas)

    def load(self, updates: list[bytes]) -> None:
        """Integrate stored ``updates``, in order, through the same checks.

        Stored updates that wait for missing ones are held whatever their size: the
        limit applies to what arrives later.

        Raises:
            ProtocolError, ContentRefused, UpdateRejected: A stored update fails the checks.
        """
        limit, self.max_pending_bytes = self.max_pending_bytes, sys.maxsize
        self._mixed_text = True
        try:
            for update in updates:
                self.integrate(update)  # what it changes is stored already
        finally:
            self.max_pending_bytes = limit
            self._mixed_text = False
        if len(updates) == 1 and not self.pending_bytes:
            self._whole = updates[0]  # a lone snapshot already is the whole document

    def whole_update(self) -> bytes:
        """The whole document encoded as one update (encoded once per change).

        Raises:
            ReplicaBroken: pycrdt panicked on an earlier update.
        """
        self._check_usable()
        if self._whole is None:
            self._whole = self.doc.get_update()
        return self._whole

    def missing_for(self, state_vector: bytes) -> bytes:
        """Encode what a peer with ``state_vector`` lacks (Yjs sync step 2 content).

        Raises:
            ProtocolError: The state vector is malformed.
            UpdateRejected: pycrdt could not decode it.
            ReplicaBroken: pycrdt panicked on an earlier update.
        """
        if state_vector == EMPTY_STATE_VECTOR:
            return self.whole_update()
        for client, clock in read_state_vector(state_vector).items():
            self._index.check_cut(client, clock)  # pycrdt would answer from half a character
        self._check_usable()
        try:
            return self.doc.get_update(state_vector)
        except ValueError as exc:
            raise UpdateRejected("state vector rejected by pycrdt") from exc

    def close(self) -> None:
        """Drop held updates and let go of the document.

        Held updates were never integrated, stored or relayed. pycrdt keeps a document
        alive while a callback observes it, so the observer is removed.
        """
        self._waiting.clear()
        self.pending_bytes = 0
        if not self.broken:
            self.doc.unobserve(self._subscription)

    def _apply(self, update: bytes, admission: Admission) -> bytes | None:
        self._delta = None
        try:
            self.doc.apply_update(update)
        except Exception as exc:
            if isinstance(exc, ValueError) and self._delta is None:
                raise UpdateRejected("update rejected by pycrdt") from exc  # not decoded
            raise PartlyApplied("update rejected by pycrdt", self._recover()) from exc
        except BaseException as exc:
            if not is_pycrdt_panic(exc):
                raise
            self.broken = True
            shown = update[:PANIC_BYTES_SHOWN].hex()
            raise ReplicaBroken(
                f"pycrdt panicked on an update of {len(update)} bytes: {shown}"
            ) from exc
        self._index.record(admission)
        delta, self._delta = self._delta, None
        return delta

    def _check_usable(self) -> None:
        if self.broken:
            raise ReplicaBroken("pycrdt panicked on an earlier update of this document")

    def _recover(self) -> bytes | None:
        """Rebuild from the document's own state after pycrdt failed mid-update.

        The failed update passed the checks, so whatever part of it pycrdt integrated
        did too; the rebuilt index matches the document again.

        Returns:
            What the document now holds beyond what the index knew (None if nothing).
        """
        known = self._state_vector()
        state = self.doc.get_update()
        doc: Doc[Any] = Doc(client_id=self.doc.client_id)
        doc.apply_update(state)
        index = ItemIndex(self.max_depth, TEXT_ROOTS)
        index.record(index.admit(read_update(state, self.max_depth), mixed_text=True))
        self.doc.unobserve(self._subscription)
        self.doc, self._index, self._whole = doc, index, None
        self._subscription = self._observe()
        delta = doc.get_update(known)
        return None if delta == EMPTY_UPDATE else delta

    def _state_vector(self) -> bytes:
        """The state vector of what the index knows, encoded as Yjs does."""
        clients = self._index.clients()
        parts = [write_var_uint(len(clients))]
        for client, clock in clients:
            parts += (write_var_uint(client), write_var_uint(clock))
        return b"".join(parts)

    def _judge(
        self, shape: UpdateShape, reserved: Reserved
    ) -> tuple[Admission, tuple[int, int] | None]:
        """Admit ``shape``; return the verdict and the id it must wait for, if any."""
        admission = self._index.admit(shape, mixed_text=self._mixed_text)
        return admission, admission.missing or self._reserved_item(shape, reserved)

    def _reserved_item(self, shape: UpdateShape, reserved: Reserved) -> tuple[int, int] | None:
        """The last new item of the first run under a ``reserved`` client id, if any."""
        for run in shape.runs:
            end = run.clock + run.length
            if end > self._index.next_clock(run.client) and reserved(run.client):
                return run.client, end - 1
        return None

    def _hold(self, held: _Waiting, missing: tuple[int, int]) -> None:
        self._waiting.setdefault(missing, []).append(held)
        self.pending_bytes += len(held.update)

    def _release_ready(self, arrived: set[int]) -> list[bytes | None]:
        """Integrate held updates whose missing item has arrived, until none is ready.

        ``arrived``: the client ids of the items just integrated.
        """
        deltas: list[bytes | None] = []
        if not self._waiting:
            return deltas  # nearly always: skip the work on the hot path
        while arrived and self._waiting:
            ready = [
                key
                for key in self._waiting
                if key[0] in arrived and key[1] < self._index.next_clock(key[0])
            ]
            arrived = self._retry(ready, deltas)
        return deltas

    def _retry(self, keys: list[tuple[int, int]], deltas: list[bytes | None]) -> set[int]:
        """Judge the updates held under ``keys`` again; integrate those now admitted.

        A held update refused now (by the checks, once what it waited for shows what
        its parents are, or by pycrdt) is dropped, and what one integrated before failing
        is kept: the update that released them is integrated already, so what is released
        must all reach the room, whatever the others do. One still waiting is held again,
        whatever the limit (it was counted already, and :meth:`load` may exceed it).

        Returns:
            The client ids of the items integrated (their dependants may be ready now).
        """
        arrived: set[int] = set()
        for key in keys:
            for held in self._waiting.pop(key):
                self.pending_bytes -= len(held.update)
                shape = read_update(held.update, self.max_depth)
                try:
                    admission, missing = self._judge(shape, held.reserved)
                except (ProtocolError, ContentRefused):
                    continue  # nothing of it was integrated
                if missing is not None:
                    self._hold(held, missing)
                    continue
                try:
                    deltas.append(self._apply(held.update, admission))
                except PartlyApplied as exc:
                    deltas.append(exc.delta)  # its sender is not here to be refused
                except UpdateRejected:
                    continue  # pycrdt refused it: nothing of it was integrated
                arrived |= _clients_of(shape)
        return arrived

    def _merged(self, deltas: list[bytes | None]) -> bytes | None:
        """What released updates added, as one update (None: nothing)."""
        changes = [delta for delta in deltas if delta is not None]
        if not changes:
            return None
        self._whole = None
        return changes[0] if len(changes) == 1 else merge_updates(*changes)

    def _observe(self) -> Subscription:
        """Capture what each transaction changed, without a reference cycle.

        pycrdt keeps the callback in Rust, where Python's collector cannot see it: a bound
        method would keep the replica (and its document) alive forever.
        """
        this = weakref.ref(self)

        def capture(event: TransactionEvent) -> None:
            replica = this()
            if replica is not None:
                replica._delta = event.update

        return self.doc.observe(capture)


def _clients_of(shape: UpdateShape) -> set[int]:
    return {run.client for run in shape.runs}

"""Where every item of a document hangs, so an update can be judged before pycrdt sees it.

A Yjs item names its parent only when no neighbour tells it, so the nesting depth of
what an update adds depends on items integrated long before. The index keeps, for each
client, runs of consecutive clocks that share a parent depth and a kind: typing in one
paragraph is one run, so the index stays far smaller than the document.

With it, :meth:`ItemIndex.admit` tells before anything is applied:

* whether the update adds a shared type nested deeper than the limit (pycrdt's own
  recursion over deep trees, when deleting or printing them, crashes the process);
* whether every item it refers to exists (otherwise pycrdt would keep it pending,
  invisible, unstored and unrelayed, for as long as the room lives);
* whether it names as parent an item that is not a shared type (pycrdt then fails after
  integrating part of the update).

Pure: no Django, no pycrdt.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from dataclasses import dataclass, field

from collab.exceptions import ContentRefused, ProtocolError
from collab.update_format import Kind, Ref, Run, UpdateShape

_KINDS = 4
"""Values pack a parent depth and a :class:`Kind`: ``depth * _KINDS + kind``."""


@dataclass(slots=True)
class _ClientRuns:
    """One client's items: run starts (clocks) and packed values, both in clock order."""

    starts: array[int] = field(default_factory=lambda: array("Q"))
    values: array[int] = field(default_factory=lambda: array("L"))
    next_clock: int = 0


@dataclass(slots=True)
class Admission:
    """The verdict on one update: what it would add, or the first id it lacks."""

    additions: list[tuple[int, int, int, int]]
    """``(client, start, end, value)`` ranges the update adds to the index."""
    missing: tuple[int, int] | None
    """An id (client, clock) the update depends on that the document lacks."""
    halves: list[tuple[int, int]] = field(default_factory=list)
    """Ids (client, clock) of the second halves of characters the update adds."""


class ItemIndex:
    """The parent depth and kind of every item of one document, as compact runs."""

    def __init__(self, max_depth: int) -> None:
        """Track a document whose shared types may nest at most ``max_depth`` deep."""
        self.max_depth = max_depth
        self._clients: dict[int, _ClientRuns] = {}
        self._halves: dict[int, set[int]] = {}
        """Per client, clocks before which a split would cut a character in two."""

    def next_clock(self, client: int) -> int:
        """The first clock of ``client`` the document does not have (its state vector)."""
        runs = self._clients.get(client)
        return runs.next_clock if runs is not None else 0

    def clients(self) -> list[tuple[int, int]]:
        """Each client with its next clock: the document's state vector."""
        return [(client, runs.next_clock) for client, runs in self._clients.items()]

    @property
    def run_count(self) -> int:
        """How many runs the index holds (its size)."""
        return sum(len(runs.starts) for runs in self._clients.values())

    def admit(self, shape: UpdateShape) -> Admission:
        """Judge an update against the document as it is now, changing nothing.

        Returns:
            What the update adds, and ``missing`` set if it depends on items the
            document lacks (it must wait; it is not integrated).

        Raises:
            ContentRefused: It adds a shared type nested deeper than ``max_depth``.
            ProtocolError: An item names as parent an item that is not a shared type,
                or items of the update refer to each other in a circle.
        """
        return _Admitting(self, shape).run()

    def record(self, admission: Admission) -> None:
        """Add an admitted update's items (after pycrdt integrated it)."""
        for client, clock in admission.halves:
            self._halves.setdefault(client, set()).add(clock)
        for client, start, end, value in admission.additions:
            runs = self._clients.get(client)
            if runs is None:
                runs = self._clients[client] = _ClientRuns()
            start = max(start, runs.next_clock)
            if end <= start:
                continue
            if not runs.values or runs.values[-1] != value or start != runs.next_clock:
                runs.starts.append(start)
                runs.values.append(value)
            runs.next_clock = end

    def check_cut(self, client: int, clock: int) -> None:
        """Refuse a split of ``client``'s items before ``clock`` inside a character.

        pycrdt keeps text as UTF-8 and cannot hold half a surrogate pair: such a split
        gives it different lengths than Yjs, and every replica after it diverges.

        Raises:
            ContentRefused: ``clock`` is the second half of a character.
        """
        if clock in self._halves.get(client, ()):
            raise ContentRefused(SPLIT_CHARACTER)

    def lookup(self, client: int, clock: int) -> tuple[Kind, int] | None:
        """The kind and parent depth of item ``(client, clock)``, or None if unknown."""
        runs = self._clients.get(client)
        if runs is None or clock >= runs.next_clock:
            return None
        value = runs.values[bisect_right(runs.starts, clock) - 1]
        return Kind(value % _KINDS), value // _KINDS


SPLIT_CHARACTER = "the update splits a character (a UTF-16 surrogate pair) in two"
"""Yjs allows it (and turns both halves into U+FFFD); pycrdt cannot hold half a character."""

_UNRESOLVED = -1
_VISITING = -2


class _Admitting:
    """One admission: resolves the parent depth of every run of the update."""

    def __init__(self, index: ItemIndex, shape: UpdateShape) -> None:
        self.index = index
        self.shape = shape
        self.depths = [_UNRESOLVED] * len(shape.runs)
        self.by_client: dict[int, list[int]] = {}
        """Per client, positions in ``shape.runs`` of its runs (in clock order)."""
        self.starts: dict[int, list[int]] = {}
        """Per client, the first clock of each of those runs."""
        self.missing: tuple[int, int] | None = None

    def run(self) -> Admission:
        runs = self.shape.runs
        for position, run in enumerate(runs):
            self.by_client.setdefault(run.client, []).append(position)
            self.starts.setdefault(run.client, []).append(run.clock)
        for client, positions in self.by_client.items():
            first = runs[positions[0]]
            if first.clock > self.index.next_clock(client):
                return Admission([], (client, self.index.next_clock(client)))
            for position in positions:
                if runs[position].kind is Kind.SKIP and self._ends_after_known(runs[position]):
                    return Admission([], (client, runs[position].clock))
        for position in range(len(runs)):
            if self.depths[position] == _UNRESOLVED:
                self._resolve(position)
                if self.missing is not None:
                    return Admission([], self.missing)
        for client, clock, length in self.shape.deletes:
            known = max(self.index.next_clock(client), self._update_end(client))
            if clock + length > known:
                return Admission([], (client, known))
        halves = [
            (run.client, half)
            for run in runs
            for half in run.halves
            if half >= self.index.next_clock(run.client)  # known: what it says never counts
        ]
        self._check_cuts(halves)
        additions = [
            (run.client, run.clock, run.clock + run.length, depth * _KINDS + run.kind)
            for run, depth in zip(runs, self.depths, strict=True)
            if run.kind is not Kind.SKIP and run.length
        ]
        return Admission(additions, None, halves)

    def _check_cuts(self, halves: list[tuple[int, int]]) -> None:
        """Refuse splits inside a character, of known items or of the update's own.

        A run that starts among known items is split where the new ones start.
        """
        own = set(halves)
        cuts = [cut for run in self.shape.runs for cut in run.cuts]
        cuts += [(client, self.index.next_clock(client)) for client in self.by_client]
        for client, clock, length in self.shape.deletes:
            cuts += ((client, clock), (client, clock + length))
        for client, clock in cuts:
            if (client, clock) in own:
                raise ContentRefused(SPLIT_CHARACTER)
            self.index.check_cut(client, clock)

    def _ends_after_known(self, run: Run) -> bool:
        return run.clock + run.length > self.index.next_clock(run.client)

    def _update_end(self, client: int) -> int:
        positions = self.by_client.get(client)
        if not positions:
            return 0
        last = self.shape.runs[positions[-1]]
        return last.clock + last.length

    def _resolve(self, start: int) -> None:
        """Give run ``start`` (and every run it must follow) its parent depth, iteratively."""
        chain = [start]
        while chain:
            position = chain[-1]
            run = self.shape.runs[position]
            self.depths[position] = _VISITING
            for client, clock in run.needs:
                if self._find(client, clock) is None:
                    self.missing = (client, clock)
                    return
            before = self._unresolved_before(position)
            if before >= 0:
                chain.append(before)
                continue
            named = 0 if run.ref is Ref.NONE or run.ref is Ref.ROOT else self._depth_from(run)
            depth = self._landing_depth(run, named)
            if run.kind is Kind.TYPE and depth + 1 > self.index.max_depth:
                raise ContentRefused(
                    f"the update nests shared types over {self.index.max_depth} deep"
                )
            self.depths[position] = depth
            chain.pop()

    def _unresolved_before(self, position: int) -> int:
        """A run of the update not resolved yet that must come before the one at ``position``.

        Yjs and yrs integrate each client's runs in clock order, and a run only once
        what it refers to is there: runs that wait for each other stay pending for ever.

        Returns:
            Its position, or -1 if there is none.

        Raises:
            ProtocolError: Runs of the update wait for each other.
        """
        run = self.shape.runs[position]
        client_positions = self.by_client[run.client]
        previous = bisect_right(self.starts[run.client], run.clock) - 2
        before = [client_positions[previous]] if previous >= 0 else []
        before += [
            self._find_position(client, clock)
            for client, clock in run.needs
            if self.index.lookup(client, clock) is None
        ]
        for other in before:
            if self.depths[other] == _VISITING:
                raise ProtocolError("items of the update refer to each other in a circle")
            if self.depths[other] == _UNRESOLVED:
                return other
        return -1

    def _landing_depth(self, run: Run, named: int) -> int:
        """The parent depth ``run`` gets, given the one it names (``named``).

        Yjs and yrs skip the items they have, and put the rest of a run that starts
        among them after the last one, in its parent, whatever the run names.
        """
        known = self.index.next_clock(run.client)
        if run.clock >= known or run.kind is Kind.SKIP:
            return named
        found = self.index.lookup(run.client, min(run.clock + run.length, known) - 1)
        assert found is not None, "the document has every clock before its next one"
        return found[1]

    def _depth_from(self, run: Run) -> int:
        """The parent depth of ``run`` from what it refers to (which exists, resolved)."""
        found = self._find(run.ref_client, run.ref_clock)
        assert found is not None, "a run is resolved once what it needs exists"
        kind, depth = found
        if run.ref is Ref.NEIGHBOUR:
            return depth
        if kind is Kind.TYPE:
            return depth + 1
        if kind is Kind.DELETED:
            return 0  # a child of a deleted parent is dropped on arrival
        raise ProtocolError("an item's parent is not a shared type")

    def _find(self, client: int, clock: int) -> tuple[Kind, int] | None:
        """Kind and parent depth (or a resolution marker) of an id, the document's first.

        Yjs and yrs ignore what an update says about an item they have.
        """
        known = self.index.lookup(client, clock)
        if known is not None:
            return known
        position = self._find_position(client, clock)
        if position >= 0:
            return self.shape.runs[position].kind, self.depths[position]
        return None

    def _find_position(self, client: int, clock: int) -> int:
        """Position in the update of the run holding ``(client, clock)``, or -1."""
        starts = self.starts.get(client)
        if starts is None:
            return -1
        found = bisect_right(starts, clock) - 1
        if found < 0:
            return -1
        position = self.by_client[client][found]
        run = self.shape.runs[position]
        if clock >= run.clock + run.length or run.kind is Kind.SKIP:
            return -1
        return position

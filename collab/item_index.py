"""Where every item of a document hangs, so an update can be judged before pycrdt sees it.

A Yjs item names its parent only when no neighbour tells it, so where what an update
adds lands depends on items integrated long before. The index keeps, for each client,
runs of consecutive clocks that share a parent and a kind: typing in one paragraph is
one run, so the index stays far smaller than the document. Each parent (a root, or a
nested type with children) is kept once, with its depth and what its sequence holds.

With it, :meth:`ItemIndex.admit` tells before anything is applied:

* whether the update adds a shared type nested deeper than the limit (pycrdt's own
  recursion over deep trees, when deleting or printing them, crashes the process);
* whether every item it refers to exists (otherwise pycrdt would keep it pending,
  invisible, unstored and unrelayed, for as long as the room lives);
* whether it names as parent an item that is not a shared type (pycrdt then fails after
  integrating part of the update);
* whether it puts values (JSON, binary, subdocuments) into a text: Yjs counts them in
  every position of the text but shows them nowhere, so every editor bound to the text
  places its users' edits off by that many, and may cut a character in two.

Pure: no Django, no pycrdt.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from enum import IntEnum
from typing import NamedTuple

from collab.exceptions import ContentRefused, ProtocolError
from collab.update_format import PARENT_KINDS, Kind, Ref, Run, UpdateShape

ParentKey = str | tuple[int, int] | None
"""A parent: a root by name, a nested type by id (client, clock), or None for items
that are dropped on arrival (children of deleted parents) or hang nowhere (gaps)."""

_KIND_BITS = 3
_ENTRY_BIT = 1 << _KIND_BITS
_PARENT_SHIFT = _KIND_BITS + 1
"""Values pack a parent, whether the run is a map entry, and a :class:`Kind`."""


class Holds(IntEnum):
    """What a parent's sequence (its items not under a key) holds."""

    NOTHING = 0
    TEXT = 1
    """Strings, embeds or formatting: it is a text, values may not join."""
    VALUES = 2
    """JSON, binary or subdocuments: a list (strings may join; a list shows them)."""


class Place(NamedTuple):
    """Where a run lands: its parent, the parent's depth, whether it is a map entry."""

    parent: ParentKey
    depth: int
    entry: bool


_DROPPED = Place(None, 0, False)


@dataclass(slots=True)
class _ClientRuns:
    """One client's items: run starts (clocks) and packed values, both in clock order."""

    starts: array[int] = field(default_factory=lambda: array("Q"))
    values: array[int] = field(default_factory=lambda: array("Q"))
    next_clock: int = 0


@dataclass(slots=True)
class Addition:
    """Clocks ``start`` to ``end`` of ``client``: items of one kind in one place."""

    client: int
    start: int
    end: int
    kind: Kind
    place: Place


@dataclass(slots=True)
class Admission:
    """The verdict on one update: what it would add, or the first id it lacks."""

    additions: list[Addition]
    """The runs the update adds to the index."""
    missing: tuple[int, int] | None
    """An id (client, clock) the update depends on that the document lacks."""
    halves: list[tuple[int, int]] = field(default_factory=list)
    """Ids (client, clock) of the second halves of characters the update adds."""
    holds: dict[ParentKey, Holds] = field(default_factory=dict)
    """What the parents the update adds to hold once it is integrated."""


VALUES_IN_TEXT = "the update puts values (JSON, binary, documents) into a text"
"""Yjs counts them in the text's positions but shows them nowhere: editors misplace edits."""


class ItemIndex:
    """The parent and kind of every item of one document, as compact runs."""

    def __init__(self, max_depth: int, text_roots: frozenset[str] = frozenset()) -> None:
        """Track a document whose shared types may nest at most ``max_depth`` deep.

        ``text_roots`` name the roots that are texts before anything is typed into them.
        """
        self.max_depth = max_depth
        self.text_roots = text_roots
        self._clients: dict[int, _ClientRuns] = {}
        self._halves: dict[int, set[int]] = {}
        """Per client, clocks before which a split would cut a character in two."""
        self._parents: dict[ParentKey, int] = {None: 0}
        """Each parent's number, which the packed values of its runs hold."""
        self._places: list[Place] = [_DROPPED]
        """By number: each parent with its depth."""
        self._holds: dict[ParentKey, Holds] = {}
        """What each parent's sequence holds (parents that hold nothing yet are absent)."""

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

    def admit(self, shape: UpdateShape, *, mixed_text: bool = False) -> Admission:
        """Judge an update against the document as it is now, changing nothing.

        ``mixed_text`` lets values into texts: for what was stored before collab
        refused them, which must load as it is.

        Returns:
            What the update adds, and ``missing`` set if it depends on items the
            document lacks (it must wait; it is not integrated).

        Raises:
            ContentRefused: It adds a shared type nested deeper than ``max_depth``, or
                values into a text.
            ProtocolError: An item names as parent an item that is not a shared type,
                or items of the update refer to each other in a circle.
        """
        return _Admitting(self, shape, mixed_text).run()

    def record(self, admission: Admission) -> None:
        """Add an admitted update's items (after pycrdt integrated it)."""
        for client, clock in admission.halves:
            self._halves.setdefault(client, set()).add(clock)
        self._holds.update(admission.holds)
        for addition in admission.additions:
            runs = self._clients.get(addition.client)
            if runs is None:
                runs = self._clients[addition.client] = _ClientRuns()
            start = max(addition.start, runs.next_clock)
            if addition.end <= start:
                continue
            value = self._pack(addition.kind, addition.place)
            if not runs.values or runs.values[-1] != value or start != runs.next_clock:
                runs.starts.append(start)
                runs.values.append(value)
            runs.next_clock = addition.end

    def check_cut(self, client: int, clock: int) -> None:
        """Refuse a split of ``client``'s items before ``clock`` inside a character.

        pycrdt keeps text as UTF-8 and cannot hold half a surrogate pair: such a split
        gives it different lengths than Yjs, and every replica after it diverges.

        Raises:
            ContentRefused: ``clock`` is the second half of a character.
        """
        if clock in self._halves.get(client, ()):
            raise ContentRefused(SPLIT_CHARACTER)

    def lookup(self, client: int, clock: int) -> tuple[Kind, Place] | None:
        """The kind and place of item ``(client, clock)``, or None if unknown."""
        runs = self._clients.get(client)
        if runs is None or clock >= runs.next_clock:
            return None
        value = runs.values[bisect_right(runs.starts, clock) - 1]
        place = self._places[value >> _PARENT_SHIFT]
        return Kind(value & (_ENTRY_BIT - 1)), place._replace(entry=bool(value & _ENTRY_BIT))

    def holds(self, parent: ParentKey) -> Holds:
        """What ``parent``'s sequence holds, as the document is now."""
        if parent in self._holds:
            return self._holds[parent]
        return Holds.TEXT if parent in self.text_roots else Holds.NOTHING

    def _pack(self, kind: Kind, place: Place) -> int:
        number = self._parents.get(place.parent)
        if number is None:
            number = self._parents[place.parent] = len(self._places)
            self._places.append(place._replace(entry=False))
        return number << _PARENT_SHIFT | (_ENTRY_BIT if place.entry else 0) | kind


SPLIT_CHARACTER = "the update splits a character (a UTF-16 surrogate pair) in two"
"""Yjs allows it (and turns both halves into U+FFFD); pycrdt cannot hold half a character."""

_UNRESOLVED = Place(None, -1, False)
_VISITING = Place(None, -2, False)


class _Admitting:
    """One admission: resolves the place of every run of the update."""

    def __init__(self, index: ItemIndex, shape: UpdateShape, mixed_text: bool) -> None:
        self.index = index
        self.shape = shape
        self.mixed_text = mixed_text
        self.places = [_UNRESOLVED] * len(shape.runs)
        self.by_client: dict[int, list[int]] = {}
        """Per client, positions in ``shape.runs`` of its runs (in clock order)."""
        self.starts: dict[int, list[int]] = {}
        """Per client, the first clock of each of those runs."""
        self.missing: tuple[int, int] | None = None
        self.holds: dict[ParentKey, Holds] = {}
        """What parents hold once the update's runs resolved so far are in."""

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
            if self.places[position] is _UNRESOLVED:
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
            Addition(run.client, run.clock, run.clock + run.length, run.kind, place)
            for run, place in zip(runs, self.places, strict=True)
            if run.kind is not Kind.SKIP and run.length
        ]
        return Admission(additions, None, halves, self.holds)

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
        """Give run ``start`` (and every run it must follow) its place, iteratively."""
        chain = [start]
        while chain:
            position = chain[-1]
            run = self.shape.runs[position]
            self.places[position] = _VISITING
            for client, clock in run.needs:
                if self._find(client, clock) is None:
                    self.missing = (client, clock)
                    return
            before = self._unresolved_before(position)
            if before >= 0:
                chain.append(before)
                continue
            place = self._landing_place(run, self._named_place(run))
            if run.kind in PARENT_KINDS and place.depth + 1 > self.index.max_depth:
                raise ContentRefused(
                    f"the update nests shared types over {self.index.max_depth} deep"
                )
            if not place.entry and place.parent is not None:
                self._fill(place.parent, run.kind)
            self.places[position] = place
            chain.pop()

    def _fill(self, parent: ParentKey, kind: Kind) -> None:
        """Note what ``kind`` adds to ``parent``'s sequence; refuse values in a text."""
        holds = self.holds.get(parent)
        if holds is None:
            holds = self._initially_holds(parent)
        if kind is Kind.VALUE and holds is Holds.TEXT and not self.mixed_text:
            raise ContentRefused(VALUES_IN_TEXT)
        if holds is Holds.NOTHING and kind in (Kind.CONTENT, Kind.VALUE):
            self.holds[parent] = Holds.TEXT if kind is Kind.CONTENT else Holds.VALUES

    def _initially_holds(self, parent: ParentKey) -> Holds:
        """What ``parent`` holds before the update: a nested text is one from its start."""
        holds = self.index.holds(parent)
        if holds is Holds.NOTHING and isinstance(parent, tuple):
            found = self._find(*parent)
            if found is not None and found[0] is Kind.TEXT_TYPE:
                return Holds.TEXT
        return holds

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
            if self.places[other] is _VISITING:
                raise ProtocolError("items of the update refer to each other in a circle")
            if self.places[other] is _UNRESOLVED:
                return other
        return -1

    def _landing_place(self, run: Run, named: Place) -> Place:
        """The place ``run`` gets, given the one it names (``named``).

        Yjs and yrs skip the items they have, and put the rest of a run that starts
        among them after the last one, in its parent, whatever the run names.
        """
        known = self.index.next_clock(run.client)
        if run.clock >= known or run.kind is Kind.SKIP:
            return named
        found = self.index.lookup(run.client, min(run.clock + run.length, known) - 1)
        assert found is not None, "the document has every clock before its next one"
        return found[1]

    def _named_place(self, run: Run) -> Place:
        """The place ``run`` names, from what it refers to (which exists, resolved)."""
        if run.ref is Ref.NONE:
            return _DROPPED
        if run.ref is Ref.ROOT:
            return Place(run.root, 0, run.entry)
        found = self._find(run.ref_client, run.ref_clock)
        assert found is not None, "a run is resolved once what it needs exists"
        kind, place = found
        if run.ref is Ref.NEIGHBOUR:
            return place
        if kind in PARENT_KINDS:
            return Place((run.ref_client, run.ref_clock), place.depth + 1, run.entry)
        if kind is Kind.DELETED:
            return _DROPPED  # a child of a deleted parent is dropped on arrival
        raise ProtocolError("an item's parent is not a shared type")

    def _find(self, client: int, clock: int) -> tuple[Kind, Place] | None:
        """Kind and place (or a resolution marker) of an id, the document's first.

        Yjs and yrs ignore what an update says about an item they have.
        """
        known = self.index.lookup(client, clock)
        if known is not None:
            return known
        position = self._find_position(client, clock)
        if position >= 0:
            return self.shape.runs[position].kind, self.places[position]
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

"""The presence (awareness) states of one open document, each owned by whoever set it.

A room keeps these instead of pycrdt's ``Awareness``, which keeps the clock of every
client id it ever saw, including ids that only ever came with a ``null`` state: a
reader could grow the server by hundreds of megabytes with frames of made-up ids, and
every stock client relaying them grew with it.

Here each client id belongs to one owner: the local connection that introduced it (sent
it first, with a state, while nobody else owned it), another server process (the
channel it relays from), or the server itself. Only the owner may change or clear a
state, and its clock must increase, as in y-protocols. Entries for ids someone else
owns are dropped silently, since stock y-websocket clients echo every state they
receive back to the server. Nothing is kept for an id once its state is gone and its
owner has left, so memory follows the owners that are present.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from collab.conf import conf
from collab.protocol import (
    AwarenessEntry,
    encode_awareness_entry,
    encode_awareness_state,
    join_awareness_entries,
)

logger = logging.getLogger(__name__)

Owner = object
"""A local connection, another process's layer channel name, or :data:`SERVER`."""

SERVER = object()
"""The owner of the server's own presence state."""

NULL_STATE = encode_awareness_state(None)
"""The state of a client that is gone."""

MAX_CLOCK = 2**32
"""Highest awareness clock accepted. Stock clients count one per change of their state;
a clock pushed near lib0's 2**53 limit would make the owner's next state undecodable."""


@dataclass(slots=True)
class _Client:
    owner: Owner
    clock: int
    state: bytes | None
    """The state as compact JSON; ``None`` once the owner cleared it."""


class AwarenessStates:
    """Every presence state of one document in this process, with its owner."""

    def __init__(self, key: str) -> None:
        """Start empty; ``key`` names the document in log lines."""
        self._key = key
        self._clients: dict[int, _Client] = {}
        self._owned: dict[Owner, set[int]] = {}
        self._warned: set[Owner] = set()

    @property
    def client_count(self) -> int:
        """How many client ids are held, with a state or cleared by an owner still present."""
        return len(self._clients)

    @property
    def state_count(self) -> int:
        """How many client ids have a state."""
        return sum(client.state is not None for client in self._clients.values())

    def everything(self) -> bytes:
        """Every state as one awareness update, for a client that joins or asks."""
        return join_awareness_entries(
            [
                encode_awareness_entry(client_id, client.clock, client.state)
                for client_id, client in self._clients.items()
                if client.state is not None
            ]
        )

    def apply(
        self, owner: Owner, entries: Iterable[AwarenessEntry], max_clients: int | None = None
    ) -> bytes | None:
        """Apply the entries ``owner`` sent; return what to relay to everyone else.

        An entry is dropped when its id belongs to another owner, when its clock is over
        :data:`MAX_CLOCK` or not newer (a ``null`` may repeat the clock of the state it
        clears), when it is a ``null`` for an id without a state, when its state is not
        a JSON object of at most ``MAX_AWARENESS_STATE_BYTES``, or when it would give
        ``owner`` more than ``max_clients`` ids. The last two are logged once per owner.

        Args:
            owner: Who sent the entries.
            entries: The decoded entries of one awareness update.
            max_clients: How many ids ``owner`` may introduce; ``None``: no limit
                (another server process speaks for many connections).

        Returns:
            The accepted entries as one awareness update, or ``None`` if none was accepted.
        """
        accepted = []
        for entry in entries:
            client = self._clients.get(entry.client_id)
            if (client is not None and client.owner != owner) or entry.clock > MAX_CLOCK:
                continue
            if entry.state is None:
                encoded = self._clear(entry, client)
            else:
                encoded = self._update(owner, entry, client, max_clients)
            if encoded is not None:
                accepted.append(encoded)
        return join_awareness_entries(accepted) if accepted else None

    def claimant_of(self, client_id: int) -> Owner | None:
        """Who shows a presence state under ``client_id`` now (its owner, until it clears it).

        Stock clients clear their state when they disconnect, before their socket closes.
        """
        client = self._clients.get(client_id)
        return None if client is None or client.state is None else client.owner

    def remove_owner(self, owner: Owner) -> bytes | None:
        """Forget everything ``owner`` held; return the ``null`` states to relay, if any.

        Each ``null`` repeats the clock of the state it removes, which y-protocols
        accepts, so the client can show up again with its next clock.
        """
        self._warned.discard(owner)
        removed = []
        for client_id in self._owned.pop(owner, ()):
            client = self._clients.pop(client_id)
            if client.state is not None:
                removed.append(encode_awareness_entry(client_id, client.clock, NULL_STATE))
        return join_awareness_entries(removed) if removed else None

    def set_state(self, owner: Owner, client_id: int, state: object) -> bytes:
        """Set ``owner``'s own state of ``client_id`` with the next clock; return the update.

        For the server's state: the id is taken from whoever held it.
        """
        client = self._clients.get(client_id)
        if client is None or client.owner != owner:
            if client is not None:
                self._owned[client.owner].discard(client_id)
            client = self._clients[client_id] = _Client(owner, 0, None)
            self._owned.setdefault(owner, set()).add(client_id)
        client.clock += 1
        client.state = None if state is None else encode_awareness_state(state)
        return join_awareness_entries(
            [encode_awareness_entry(client_id, client.clock, client.state or NULL_STATE)]
        )

    def states_of(self, owner: Owner) -> bytes | None:
        """The current entries of ``owner``'s client ids (``null`` for cleared ones)."""
        entries = [
            encode_awareness_entry(client_id, client.clock, client.state or NULL_STATE)
            for client_id in self._owned.get(owner, ())
            if (client := self._clients.get(client_id)) is not None
        ]
        return join_awareness_entries(entries) if entries else None

    def renew(self, owner: Owner) -> bytes | None:
        """Move the clocks of ``owner``'s states on; return the update, if it has states.

        Stock clients drop a state that was not renewed for 30 seconds.
        """
        renewed = []
        for client_id in self._owned.get(owner, ()):
            client = self._clients[client_id]
            if client.state is not None:
                client.clock += 1
                renewed.append(encode_awareness_entry(client_id, client.clock, client.state))
        return join_awareness_entries(renewed) if renewed else None

    def _clear(self, entry: AwarenessEntry, client: _Client | None) -> bytes | None:
        """Clear the owner's state of ``entry``'s id; return the entry to relay, if any."""
        if client is None or client.state is None or entry.clock < client.clock:
            return None
        client.clock, client.state = entry.clock, None
        return encode_awareness_entry(entry.client_id, entry.clock, NULL_STATE)

    def _update(
        self, owner: Owner, entry: AwarenessEntry, client: _Client | None, max_clients: int | None
    ) -> bytes | None:
        """Set ``entry``'s state for ``owner``; return the entry to relay, if accepted."""
        if entry.clock <= (0 if client is None else client.clock):
            return None
        state = self._checked_state(owner, entry)
        if state is None:
            return None
        if client is None:
            owned = self._owned.setdefault(owner, set())
            if max_clients is not None and len(owned) >= max_clients:
                self._warn(owner, f"more than {max_clients} awareness client ids")
                return None
            owned.add(entry.client_id)
            self._clients[entry.client_id] = _Client(owner, entry.clock, state)
        else:
            client.clock, client.state = entry.clock, state
        return encode_awareness_entry(entry.client_id, entry.clock, state)

    def _checked_state(self, owner: Owner, entry: AwarenessEntry) -> bytes | None:
        """The entry's state, encoded, if it is an object within the size limit."""
        if not isinstance(entry.state, dict):
            self._warn(owner, f"a state that is not a JSON object (client {entry.client_id})")
            return None
        state = encode_awareness_state(entry.state)
        if len(state) > conf.MAX_AWARENESS_STATE_BYTES:
            self._warn(owner, f"a {len(state)} byte state (client {entry.client_id})")
            return None
        return state

    def _warn(self, owner: Owner, what: str) -> None:
        if owner not in self._warned:
            self._warned.add(owner)
            logger.warning(
                "collab: dropped %s on %r from %s; further drops from it are not logged",
                what,
                self._key,
                _describe(owner),
            )


def _describe(owner: Owner) -> str:
    if owner is SERVER:
        return "the server"
    if isinstance(owner, str):
        return f"process {owner}"
    return f"a connection of user {getattr(owner, 'user_id', None)}"

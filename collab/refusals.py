"""Refused clients are cheap: the same client refused again waits longer before each check.

Stock y-websocket 1.x and 2.x and ``@y/websocket`` 4 reconnect about 100 ms after any
close, forever, so a client without access would otherwise cost a database check and a
log line ten times a second. A client (its address and session) refused on a document
is remembered for :data:`FORGET_AFTER` seconds; each later handshake of it to that
document waits before it is checked: half a second after the first refusal, doubling
up to ``REFUSAL_DELAY``. The first refusal is immediate, so a person sees at once why.
Repeated refusals are logged at WARNING only the 1st, 2nd, 4th, 8th… time.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from collab.aio import PerLoop
from collab.conf import conf
from collab.identity import session_key
from collab.tokens import token_of

FIRST_DELAY = 0.5
"""Seconds the second handshake of a refused client waits before it is checked."""

FORGET_AFTER = 60.0
"""Seconds after its last refusal that a client counts as new again."""

REMEMBERED = 10_000
"""Most clients remembered at once per process (the oldest are forgotten first)."""

Client = tuple[str, str, str]
"""A client as refusals remember it: address, token or session key, and document key."""


def client_of(scope: Mapping[str, Any], key: str) -> Client:
    """Who is handshaking for document ``key``: its address and credential (no I/O)."""
    address = scope.get("client")
    credential = token_of(scope) or session_key(scope) or ""
    return (address[0] if address else "", credential, key)


class Refusals:
    """The clients refused lately on one event loop, and how often."""

    def __init__(self) -> None:
        self._refused: OrderedDict[Client, tuple[int, float]] = OrderedDict()

    def delay(self, client: Client) -> float:
        """Seconds ``client`` waits before its handshake is checked (0 if not refused lately)."""
        count = self._count(client)
        return min(conf.REFUSAL_DELAY, FIRST_DELAY * 2 ** (count - 1)) if count else 0.0

    def refused(self, client: Client) -> int:
        """Remember one more refusal of ``client``; return how many in a row it had."""
        count = self._count(client) + 1
        self._refused[client] = (count, time.monotonic())
        self._refused.move_to_end(client)
        while len(self._refused) > REMEMBERED:
            self._refused.popitem(last=False)
        return count

    def admitted(self, client: Client) -> None:
        """``client`` got in: forget its refusals."""
        self._refused.pop(client, None)

    def _count(self, client: Client) -> int:
        count, last = self._refused.get(client, (0, 0.0))
        return count if time.monotonic() - last < FORGET_AFTER else 0


def worth_logging(count: int) -> bool:
    """Whether the ``count``-th refusal in a row of one client is logged at WARNING."""
    return count & (count - 1) == 0


refusals = PerLoop(Refusals)
"""The refusals of the running event loop (one per server process)."""

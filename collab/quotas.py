"""Quotas per connection owner: connections and open documents at once, documents created.

An owner is a logged-in user, or for anonymous connections the client's address.
Connections and open documents are counted per server process, in memory (a process
that dies takes its counts with it). Documents created are counted per
``CREATE_PERIOD`` in Django's default cache, so across processes when that cache is
shared (Redis, Memcached, the database), and per process with the local-memory cache.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.cache import cache

from collab.aio import PerLoop
from collab.conf import conf
from collab.exceptions import QuotaExceeded

if TYPE_CHECKING:
    from collab.permissions import User


def owner_of(user: User, scope: Mapping[str, Any]) -> str:
    """Whom a connection counts against: its user, or its client's address if anonymous."""
    if user.is_authenticated:
        return f"user:{user.pk}"
    client = scope.get("client")
    return f"address:{client[0] if client else 'unknown'}"


class OpenCounts:
    """The connections and open documents of every owner on one event loop."""

    def __init__(self) -> None:
        self._documents: dict[str, Counter[str]] = {}

    def admit(self, owner: str, key: str) -> None:
        """Count a connection of ``owner`` to document ``key``, if within the quotas.

        Raises:
            QuotaExceeded: ``owner`` has ``MAX_CONNECTIONS_PER_USER`` connections, or
                ``MAX_DOCUMENTS_PER_USER`` other documents open, in this process.
        """
        documents = self._documents.get(owner, Counter())
        if documents.total() >= conf.MAX_CONNECTIONS_PER_USER:
            raise QuotaExceeded(f"{owner} has {documents.total()} connections open")
        if key not in documents and len(documents) >= conf.MAX_DOCUMENTS_PER_USER:
            raise QuotaExceeded(f"{owner} has {len(documents)} documents open")
        documents[key] += 1
        self._documents[owner] = documents

    def release(self, owner: str, key: str) -> None:
        """Forget one connection of ``owner`` to ``key`` (it closed)."""
        documents = self._documents.get(owner)
        if documents is None:
            return
        documents[key] -= 1
        if documents[key] <= 0:
            del documents[key]
        if not documents:
            del self._documents[owner]


open_counts = PerLoop(OpenCounts)
"""The counts of the running event loop (one per server process)."""


def count_creation(owner: str) -> None:
    """Count a document ``owner`` is about to create (blocking: uses the cache).

    Raises:
        QuotaExceeded: ``owner`` already created ``CREATE_LIMIT`` documents in the
            current ``CREATE_PERIOD``.
    """
    key = f"collab:created:{owner}"
    period = math.ceil(conf.CREATE_PERIOD)  # some cache backends keep whole seconds only
    cache.add(key, 0, timeout=period)
    try:
        created = cache.incr(key)
    except ValueError:  # expired between add and incr: a new period starts
        cache.set(key, created := 1, timeout=period)
    if created > conf.CREATE_LIMIT:
        raise QuotaExceeded(f"{owner} created {conf.CREATE_LIMIT} documents in the period")

"""Users found lately for session keys: a reconnect storm reads each session once.

After a restart every client of a user reconnects at once, each handshake reading the
same session, user and permissions. The handshake (:func:`collab.identity.connection_user`)
keeps what it found for ``COLLAB["AUTH_CACHE_SECONDS"]`` seconds, so Django's
``ModelBackend`` answers the permission checks of later handshakes from the same user
object, without a query.

The bound: an entry is used for at most ``AUTH_CACHE_SECONDS``. Changes collab sees
(:mod:`collab.revocation`: logout, a deleted session, a saved or deleted user, changed
permissions or groups) and every :func:`collab.access.recheck` drop the entries of the
users concerned at once, in every process with open connections; a process whose last
connection closed drops them all. Rechecks of open connections never use the cache.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Collection
from typing import TYPE_CHECKING

from collab.conf import conf

if TYPE_CHECKING:
    from collab.permissions import User

MAX_ENTRIES = 10_000
"""Most session keys kept; the oldest go first."""

_entries: OrderedDict[str, tuple[float, User]] = OrderedDict()
_lock = threading.Lock()


def get(session_key: str) -> User | None:
    """The user found for ``session_key`` within ``AUTH_CACHE_SECONDS``, else None."""
    with _lock:
        entry = _entries.get(session_key)
        if entry is None:
            return None
        found_at, user = entry
        if time.monotonic() - found_at < conf.AUTH_CACHE_SECONDS:
            return user
        del _entries[session_key]
        return None


def put(session_key: str, user: User) -> None:
    """Remember that ``session_key`` logs ``user`` in (a logged-in user only)."""
    if conf.AUTH_CACHE_SECONDS <= 0 or not user.is_authenticated:
        return
    with _lock:
        _entries[session_key] = (time.monotonic(), user)
        _entries.move_to_end(session_key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)


def forget(user_ids: Collection[int] | None) -> None:
    """Drop the entries of ``user_ids`` (``None``: every entry)."""
    with _lock:
        if user_ids is None:
            _entries.clear()
            return
        for session_key, (_, user) in list(_entries.items()):
            if user.pk in user_ids:
                del _entries[session_key]

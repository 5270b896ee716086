"""What a handshake found lately, reused by the next ones for ``AUTH_CACHE_SECONDS``.

After a restart every client reconnects at once, and each handshake would read the
same session, user, permissions and document again. :data:`users` keeps the user a
session key logs in (so Django's ``ModelBackend`` answers later permission checks from
the same user object, without a query); :data:`documents` keeps the document of a key.

The bound: an entry is used for at most ``COLLAB["AUTH_CACHE_SECONDS"]`` (5 s; 0 turns
reuse off). Changes collab sees drop entries at once: :mod:`collab.revocation` (logout,
a deleted session, a saved or deleted user, changed permissions or groups) and every
:func:`collab.access.recheck` drop users, in every process with open connections; a
saved or deleted document, or one deleted in another process, drops its entry; a
process whose last connection closed drops everything. Rechecks of open connections
never use these.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from collab.conf import conf

if TYPE_CHECKING:
    from collab.models import Document
    from collab.permissions import User

V = TypeVar("V")

MAX_ENTRIES = 10_000
"""Most entries each kind keeps; the oldest go first."""


class Recent(Generic[V]):
    """Values found lately by key, each reused for ``AUTH_CACHE_SECONDS``; thread-safe."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> V | None:
        """The value found for ``key`` within ``AUTH_CACHE_SECONDS``, else None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry[0] < conf.AUTH_CACHE_SECONDS:
                return entry[1]
            del self._entries[key]
            return None

    def put(self, key: str, value: V) -> None:
        """Remember ``value`` for ``key`` (nothing, with reuse turned off)."""
        if conf.AUTH_CACHE_SECONDS <= 0:
            return
        with self._lock:
            self._entries[key] = (time.monotonic(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)

    def forget(self, key: str) -> None:
        """Drop the entry of ``key``."""
        with self._lock:
            self._entries.pop(key, None)

    def forget_where(self, matches: Callable[[V], bool] | None = None) -> None:
        """Drop the entries whose value ``matches`` (every entry without a test)."""
        with self._lock:
            if matches is None:
                self._entries.clear()
                return
            for key, (_, value) in list(self._entries.items()):
                if matches(value):
                    del self._entries[key]


users: Recent[User] = Recent()
"""By session key: the logged-in user it names."""

documents: Recent[Document] = Recent()
"""By document key: the document."""


def forget_users(user_ids: set[int] | None) -> None:
    """Drop the users ``user_ids`` (``None``: every user and every document)."""
    if user_ids is None:
        users.forget_where()
        documents.forget_where()
    else:
        users.forget_where(lambda user: user.pk in user_ids)

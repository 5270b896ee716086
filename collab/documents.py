r"""Read and edit documents from Python: views, tasks, the shell.

Edits take the path a client's edits take: the change joins the document's room as
one more connection, so it is applied once, seen live by everyone connected (in this
process and, through the channel layer, in the others) and stored in the update log::

    from collab import documents

    with documents.edit("meeting-notes", user=request.user) as doc:
        doc.get("content", type=Text).insert(0, "Agenda\\n")

    text = documents.read_text("meeting-notes")

In async code use ``async with documents.aedit(...)`` and ``await documents.aread(...)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from pycrdt import Doc

from collab import content, store
from collab.close_codes import CloseCode
from collab.exceptions import DocumentNotFound
from collab.protocol import EMPTY_UPDATE, SyncUpdate
from collab.registry import get_registry

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

__all__ = ["aedit", "apply_update", "aread", "edit", "read", "read_json", "read_text", "replace"]


class ServerPeer:
    """The server's own edit, seen by the room as a connection that receives nothing."""

    can_edit = True

    def __init__(self, user: AbstractBaseUser | None) -> None:
        self.user_id: int | None = user.pk if user is not None else None

    def send_frame(self, frame: bytes) -> None:
        """Frames for a server-side edit have nobody to go to."""

    def idle_for(self) -> float:
        """Never idle: a server-side edit needs no keepalive."""
        return 0.0

    async def close_with(self, code: CloseCode) -> None:
        """Nothing to close: the edit ends by itself."""


async def aread(key: str) -> Doc[Any]:
    """A copy of document ``key`` as it is now (live state if it is open here).

    Raises:
        DocumentNotFound: No document has this key.
    """
    room = get_registry().get(key)
    if room is not None:
        return content.load(room.whole_update())
    document = await database_sync_to_async(store.get_document)(key)
    if document is None:
        raise DocumentNotFound(key)
    updates = await database_sync_to_async(store.load_updates)(document.pk)
    return content.load(*updates)


@asynccontextmanager
async def aedit(
    key: str, *, user: AbstractBaseUser | None = None, create: bool = True
) -> AsyncIterator[Doc[Any]]:
    """Edit document ``key``: change the yielded ``Doc``; on exit the change is applied.

    Args:
        key: The document's key.
        user: Who makes the change (reported by the ``document_changed`` signal).
        create: Create the document if it does not exist.

    Raises:
        DocumentNotFound: No document has this key and ``create`` is false.
    """
    doc = await aread(key) if create is False else await _read_or_create(key)
    before = doc.get_state()
    yield doc
    await apply_update(key, doc.get_update(before), user=user)


@contextmanager
def edit(
    key: str, *, user: AbstractBaseUser | None = None, create: bool = True
) -> Iterator[Doc[Any]]:
    """Synchronous :func:`aedit`, for views, management commands and the shell."""
    doc = async_to_sync(aread)(key) if create is False else async_to_sync(_read_or_create)(key)
    before = doc.get_state()
    yield doc
    async_to_sync(apply_update)(key, doc.get_update(before), user=user)


def read(key: str) -> Doc[Any]:
    """Synchronous :func:`aread`."""
    return async_to_sync(aread)(key)


def read_text(key: str) -> str:
    """The plain text of document ``key`` (see :func:`collab.content.text_of`)."""
    return content.text_of(read(key))


def read_json(key: str) -> dict[str, str]:
    """The known roots of document ``key`` (see :func:`collab.content.to_json`)."""
    return content.to_json(read(key))


async def apply_update(key: str, update: bytes, *, user: AbstractBaseUser | None = None) -> None:
    """Apply an encoded Yjs update to document ``key`` as one more connection would.

    Raises:
        UpdateRejected: pycrdt could not decode the update.
    """
    if update == EMPTY_UPDATE:
        return
    document = await database_sync_to_async(store.create_document)(key)
    registry = get_registry()
    peer = ServerPeer(user)
    room = await registry.join(key, document.pk, peer)
    try:
        room.receive(peer, SyncUpdate(update))
    finally:
        await registry.leave(room, peer)
        if room.peer_count == 0:
            await registry.unload_now(key)


def replace(key: str, state: bytes, *, user: AbstractBaseUser | None = None) -> None:
    """Make document ``key``'s content equal to ``state``, as a forward edit.

    Used to restore a version or to import content into an existing document: nothing
    is erased from the history, and connected clients see the change at once.
    """
    with edit(key, user=user) as doc:
        content.replace(doc, content.load(state))


async def _read_or_create(key: str) -> Doc[Any]:
    await database_sync_to_async(store.create_document)(key)
    return await aread(key)

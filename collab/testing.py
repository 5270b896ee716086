"""Helpers for testing your own project with collab: policies, pages, receivers.

:class:`YjsCommunicator` is a y-websocket client in your test's process, on Channels'
``WebsocketCommunicator``, with a pycrdt ``Doc`` of its own: it connects as a user,
syncs, edits and reads what the server sends, through collab's real consumer and rooms.
:func:`close_rooms` stores and unloads the documents a test opened; call it at the end
of every async test that connects (rooms belong to the test's event loop).

Tests that connect need a database that commits (pytest-django's
``django_db(transaction=True)``, or Django's ``TransactionTestCase``): rooms store
edits from a thread of their own. See :doc:`/testing` for an example.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from pycrdt import Doc, Text

from collab.conf import conf
from collab.protocol import (
    Message,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode_message,
    encode_sync_step1,
    encode_sync_step2,
    encode_update,
)
from collab.registry import get_registry
from collab.routing import websocket_urlpatterns

__all__ = ["YjsCommunicator", "close_rooms"]


class YjsCommunicator:
    """A y-websocket client of one document, driving collab in the test's process."""

    def __init__(
        self,
        key: str,
        user: Any = None,
        *,
        cookie: str | None = None,
        token: str | None = None,
        application: Any = None,
        field: str = "content",
    ) -> None:
        """Prepare a connection to document ``key``; :meth:`connect` opens it.

        Args:
            key: The document's key.
            user: The user the connection is made as, put in the scope as Channels'
                ``AuthMiddlewareStack`` would (``None`` with ``cookie`` or ``token``).
            cookie: Instead of ``user``: a ``Cookie`` header, such as
                ``f"sessionid={client.cookies['sessionid'].value}"`` after a Django test
                client logged in (collab then checks the session and the ``Origin``).
            token: Instead of ``user``: a token from :func:`collab.tokens.make_token`.
            application: The ASGI application to connect to; default: collab's
                websocket routes alone.
            field: The name of the ``Text`` that :attr:`text` and :meth:`edit` use.
        """
        self.doc: Doc[Any] = Doc()
        """The client's copy of the document."""
        self.text = self.doc.get(field, type=Text)
        """The ``Text`` named ``field`` in :attr:`doc`."""
        headers = [(b"cookie", cookie.encode())] if cookie is not None else []
        query = f"?{urlencode({'token': token})}" if token else ""
        self.communicator = WebsocketCommunicator(
            application or URLRouter(cast("list[Any]", websocket_urlpatterns)),
            f"/{conf.ROUTE_PREFIX}{key}{query}",
            headers,
        )
        """Channels' communicator underneath, for anything this class does not cover."""
        if cookie is None and token is None:
            cast(dict[str, Any], self.communicator.scope)["user"] = user

    async def connect(self) -> list[Message]:
        """Connect and sync both ways, as a stock client does.

        Returns:
            What the server sent besides the sync steps (presence, a read-only notice).

        Raises:
            AssertionError: The server refused the connection or sent no sync step 1.
        """
        connected, _ = await self.communicator.connect()
        assert connected, "the server did not accept the websocket"
        first = await self.receive()
        assert isinstance(first, SyncStep1), f"expected a sync step 1, got {first!r}"
        await self.send(encode_sync_step2(self.doc.get_update(first.state_vector)))
        await self.send(encode_sync_step1(self.doc.get_state()))
        others: list[Message] = []
        while not isinstance(message := await self.receive(), SyncStep2):
            others.append(message)
        self.apply(message)
        return others

    async def refused_with(self) -> int:
        """Connect and return the code the server closes with (see :doc:`/protocol`)."""
        connected, _ = await self.communicator.connect()
        assert connected, "the server did not accept the websocket"
        return await self.receive_close()

    async def send(self, frame: bytes) -> None:
        """Send one binary frame."""
        await self.communicator.send_to(bytes_data=frame)

    async def receive(self, timeout: float = 2) -> Message:  # noqa: ASYNC109  (as Channels)
        """Receive and decode the next frame."""
        frame = await self.communicator.receive_from(timeout)
        assert isinstance(frame, bytes), f"expected a binary frame, got {frame!r}"
        return decode_message(frame)

    async def receive_close(self, timeout: float = 2) -> int:  # noqa: ASYNC109  (as Channels)
        """Skip frames until the server closes; return the close code."""
        while True:
            output = await self.communicator.receive_output(timeout)
            if output["type"] == "websocket.close":
                return int(output.get("code", 1000))

    async def edit(self, text: str) -> bytes:
        """Append ``text`` to :attr:`text` and send the update; return the update."""
        state = self.doc.get_state()
        self.text += text
        update = self.doc.get_update(state)
        await self.send(encode_update(update))
        return update

    def apply(self, message: Message) -> None:
        """Apply a received sync step 2 or update to :attr:`doc`."""
        assert isinstance(message, SyncStep2 | SyncUpdate), message
        self.doc.apply_update(message.update)

    async def disconnect(self) -> None:
        """Close the connection cleanly."""
        await self.communicator.disconnect()


async def close_rooms() -> None:
    """Store and unload every document open in this event loop's process.

    Call it at the end of each async test that connected or edited: edits are then in
    the database, and the next test (with an event loop of its own) starts with no room.
    """
    await get_registry().close_all()

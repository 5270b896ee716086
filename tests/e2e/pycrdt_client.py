"""A pycrdt ``Provider`` (the client of pycrdt-websocket) over a ``websockets`` connection.

pycrdt's provider sends every update its document applies back to the server, the ones
it received too: a reader of fast writers sends as many frames as they do.
"""

from __future__ import annotations

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed


class WebsocketChannel:
    """The ``pycrdt.Channel`` a ``Provider`` reads and writes: one websocket connection."""

    def __init__(self, websocket: ClientConnection, path: str) -> None:
        self._websocket = websocket
        self._path = path
        self.sent = 0
        """Frames the provider sent."""

    @property
    def path(self) -> str:
        """The document's websocket path."""
        return self._path

    def __aiter__(self) -> WebsocketChannel:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.recv()
        except ConnectionClosed:
            raise StopAsyncIteration from None

    async def send(self, message: bytes) -> None:
        """Send one binary frame."""
        self.sent += 1
        await self._websocket.send(message)

    async def recv(self) -> bytes:
        """The next binary frame from the server."""
        while True:
            message = await self._websocket.recv()
            if isinstance(message, bytes):
                return message

"""Helpers to drive the consumer in-process with Channels' WebsocketCommunicator."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from pycrdt import Doc, Text

from collab.awareness import AwarenessStates
from collab.close_codes import CloseCode
from collab.protocol import (
    Message,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode_awareness_update,
    decode_message,
    encode_sync_step1,
    encode_sync_step2,
    encode_update,
)
from collab.routing import websocket_urlpatterns

application = URLRouter(websocket_urlpatterns)


def states_of(awareness: AwarenessStates) -> dict[int, object]:
    """The presence states ``awareness`` holds, decoded, by client id."""
    update = decode_awareness_update(awareness.everything())
    return {entry.client_id: entry.state for entry in update.entries}


class RecordingPeer:
    """A room peer that records the frames it is sent instead of sending them."""

    can_edit = True
    user_id = None

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.closed_with: CloseCode | None = None

    async def close_with(self, code: CloseCode) -> None:
        self.closed_with = code

    def send_frame(self, frame: bytes) -> None:
        self.frames.append(frame)

    def idle_for(self) -> float:
        return 0.0

    def messages(self) -> list[Message]:
        """The recorded frames, decoded."""
        return [decode_message(frame) for frame in self.frames]


class Client:
    """A minimal y-websocket client on a communicator, holding its own pycrdt Doc."""

    def __init__(
        self, key: str, user: Any = None, cookie: str | None = None, token: str | None = None
    ) -> None:
        """Connect as ``user`` (put in the scope, as ``AuthMiddlewareStack`` would), or
        with no user in the scope and a ``Cookie`` header holding ``cookie``, or with a
        ``token`` in the query string."""
        self.doc: Doc = Doc()
        self.text = self.doc.get("content", type=Text)
        headers = [(b"cookie", cookie.encode())] if cookie is not None else []
        path = f"/ws/collab/{key}" + (f"?{urlencode({'token': token})}" if token else "")
        self.communicator = WebsocketCommunicator(application, path, headers)
        if cookie is None and token is None:
            self.communicator.scope["user"] = user

    async def connect(self) -> list[Message]:
        """Connect and sync both ways; return what the server sent besides the sync steps."""
        connected, _ = await self.communicator.connect()
        assert connected
        first = await self.receive()
        assert isinstance(first, SyncStep1)
        await self.send(encode_sync_step2(self.doc.get_update(first.state_vector)))
        await self.send(encode_sync_step1(self.doc.get_state()))
        others = []
        while not isinstance(message := await self.receive(), SyncStep2):
            others.append(message)
        self.apply(message)
        return others

    async def refused_with(self) -> int:
        """Connect and return the close code the server answers with."""
        connected, _ = await self.communicator.connect()
        assert connected
        return await self.receive_close()

    async def send(self, frame: bytes) -> None:
        """Send one binary frame."""
        await self.communicator.send_to(bytes_data=frame)

    async def receive(self, timeout: float = 2) -> Message:
        """Receive and decode the next frame."""
        frame = await self.communicator.receive_from(timeout)
        assert isinstance(frame, bytes)
        return decode_message(frame)

    async def receive_close(self, timeout: float = 2) -> int:
        """Skip frames until the server closes; return the close code."""
        while True:
            output = await self.communicator.receive_output(timeout)
            if output["type"] == "websocket.close":
                return int(output.get("code", 1000))

    async def edit(self, text: str) -> bytes:
        """Append ``text`` locally and send the update; return the update."""
        state = self.doc.get_state()
        self.text += text
        update = self.doc.get_update(state)
        await self.send(encode_update(update))
        return update

    def apply(self, message: Message) -> None:
        """Apply a received sync step 2 or update to the local document."""
        assert isinstance(message, SyncStep2 | SyncUpdate), message
        self.doc.apply_update(message.update)

    async def disconnect(self) -> None:
        """Close the connection cleanly."""
        await self.communicator.disconnect()


async def connected(key: str, user: Any) -> Client:
    """A client of document ``key`` that finished the initial sync."""
    client = Client(key, user)
    await client.connect()
    return client

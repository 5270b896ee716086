"""Helpers to drive the consumer in-process with Channels' WebsocketCommunicator."""

from __future__ import annotations

from typing import Any

from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from pycrdt import Doc, Text

from collab.protocol import (
    AwarenessUpdate,
    Message,
    SyncStep1,
    decode_message,
    encode_sync_step1,
    encode_sync_step2,
    encode_update,
)
from collab.routing import websocket_urlpatterns

application = URLRouter(websocket_urlpatterns)


class Client:
    """A minimal y-websocket client on a communicator, holding its own pycrdt Doc."""

    def __init__(self, key: str, user: Any) -> None:
        self.doc: Doc = Doc()
        self.text = self.doc.get("content", type=Text)
        self.communicator = WebsocketCommunicator(application, f"/ws/collab/{key}")
        self.communicator.scope["user"] = user

    async def connect(self) -> list[Message]:
        """Connect, answer the server's step 1, sync, and return what the server sent first."""
        connected, _ = await self.communicator.connect()
        assert connected
        first = await self.receive()
        assert isinstance(first, SyncStep1)
        await self.send(encode_sync_step2(self.doc.get_update(first.state_vector)))
        await self.send(encode_sync_step1(self.doc.get_state()))
        return [first]

    async def send(self, frame: bytes) -> None:
        await self.communicator.send_to(bytes_data=frame)

    async def receive(self, timeout: float = 2) -> Message:
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
        update = getattr(message, "update", None)
        if update is not None:
            self.doc.apply_update(update)
        assert not isinstance(message, AwarenessUpdate) or message.entries is not None

    async def disconnect(self) -> None:
        await self.communicator.disconnect()

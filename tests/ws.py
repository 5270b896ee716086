"""Helpers to drive the consumer in-process with Channels' WebsocketCommunicator."""

from __future__ import annotations

from typing import Any

from channels.routing import URLRouter

from collab.awareness import AwarenessStates
from collab.close_codes import CloseCode
from collab.protocol import (
    Message,
    decode_awareness_update,
    decode_message,
)
from collab.routing import websocket_urlpatterns
from collab.testing import YjsCommunicator

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


Client = YjsCommunicator
"""The suite's client: the one :mod:`collab.testing` ships to users."""


async def connected(key: str, user: Any) -> Client:
    """A client of document ``key`` that finished the initial sync."""
    client = Client(key, user)
    await client.connect()
    return client

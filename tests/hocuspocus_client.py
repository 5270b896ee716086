"""A minimal Hocuspocus client on Channels' WebsocketCommunicator, for in-process tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from channels.testing import WebsocketCommunicator
from pycrdt import Doc, Text, write_var_uint

from collab.hocuspocus_protocol import (
    AUTH_AUTHENTICATED,
    AUTH_PERMISSION_DENIED,
    AUTH_TOKEN,
    HocuspocusType,
    addressed,
)
from collab.protocol import (
    Message,
    Reader,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode_message,
    encode_sync_step1,
    encode_sync_step2,
    encode_update,
)
from tests.ws import application


def string(text: str) -> bytes:
    """``text`` as a lib0 ``varString``."""
    encoded = text.encode()
    return write_var_uint(len(encoded)) + encoded


@dataclass
class Received:
    """One frame from the server."""

    address: str
    type: HocuspocusType
    body: bytes
    """The frame after its address (from the type byte on)."""

    @property
    def message(self) -> Message:
        """A sync or awareness frame, decoded as y-websocket's."""
        return decode_message(self.body)

    @property
    def text(self) -> str:
        """The string of an auth, close or stateless frame."""
        reader = Reader(self.body[1:])
        if self.type is HocuspocusType.AUTH:
            reader.var_uint()
        return reader.var_string()


@dataclass
class Replica:
    """One document as the client holds it."""

    doc: Doc = field(default_factory=Doc)

    @property
    def text(self) -> Text:
        """The shared text ``content``."""
        return self.doc.get("content", type=Text)


class HocuspocusSocket:
    """One socket speaking the Hocuspocus protocol, with a pycrdt replica per document."""

    def __init__(self, user: Any = None, cookie: str | None = None, path: str = "/ws/hocuspocus"):
        headers = [(b"cookie", cookie.encode())] if cookie is not None else []
        self.communicator = WebsocketCommunicator(application, path, headers)
        if cookie is None:
            self.communicator.scope["user"] = user
        self.replicas: dict[str, Replica] = {}

    async def connect(self) -> None:
        """Open the socket."""
        connected, _ = await self.communicator.connect()
        assert connected

    async def send(self, address: str, body: bytes) -> None:
        """Send ``body`` (type byte on) addressed to ``address``."""
        await self.communicator.send_to(bytes_data=addressed(address, body))

    async def open(self, address: str, token: str = "") -> Replica:
        """Send auth, sync step 1 at once (as providers do); return the document's replica."""
        replica = self.replicas.setdefault(address, Replica())
        await self.send(address, bytes((HocuspocusType.AUTH, AUTH_TOKEN)) + string(token))
        await self.send(address, encode_sync_step1(replica.doc.get_state()))
        return replica

    async def receive(self, timeout: float = 2) -> Received:
        """The next frame (a ping is answered and skipped)."""
        while True:
            frame = await self.communicator.receive_from(timeout)
            assert isinstance(frame, bytes)
            if frame == bytes((HocuspocusType.PING,)):
                await self.communicator.send_to(bytes_data=bytes((HocuspocusType.PONG,)))
                continue
            reader = Reader(frame)
            address = reader.var_string()
            start = reader.position
            return Received(address, HocuspocusType(reader.var_uint()), frame[start:])

    async def synced(self, address: str, timeout: float = 2) -> list[Received]:
        """Handle frames until ``address`` is synced both ways; return the others.

        Answers the server's sync step 1, applies its step 2, and expects the auth answer
        first. Frames of other documents are returned too.
        """
        replica = self.replicas[address]
        others: list[Received] = []
        got_step2 = got_status = False
        while not (got_step2 and got_status):
            received = await self.receive(timeout)
            if received.address == address and received.type is HocuspocusType.SYNC:
                message = received.message
                if isinstance(message, SyncStep1):
                    update = replica.doc.get_update(message.state_vector)
                    await self.send(address, encode_sync_step2(update))
                    continue
                if isinstance(message, SyncStep2 | SyncUpdate):
                    replica.doc.apply_update(message.update)
                    got_step2 = got_step2 or isinstance(message, SyncStep2)
                    continue
            if received.address == address and received.type is HocuspocusType.SYNC_STATUS:
                got_status = True
                continue
            others.append(received)
        return others

    async def edit(self, address: str, text: str) -> None:
        """Append ``text`` to the document locally and send the update."""
        replica = self.replicas[address]
        state = replica.doc.get_state()
        replica.text.insert(len(replica.text), text)
        await self.send(address, encode_update(replica.doc.get_update(state)))

    async def receive_close(self, timeout: float = 2) -> int:
        """Skip frames until the server closes the socket; return the close code."""
        while True:
            output = await self.communicator.receive_output(timeout)
            if output["type"] == "websocket.close":
                return int(output.get("code", 1000))

    async def disconnect(self) -> None:
        """Close the socket."""
        await self.communicator.disconnect()


AUTHENTICATED = AUTH_AUTHENTICATED
PERMISSION_DENIED = AUTH_PERMISSION_DENIED

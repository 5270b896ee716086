"""A connection's frames go out at once, or in order behind a send the server holds back."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from django.test import override_settings

from collab.close_codes import CloseCode
from collab.consumers import DocumentConsumer
from collab.outbox import daphne_backlog


class Server:
    """An ASGI ``send`` that takes frames at once, or holds them while not ``writable``."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed_with: int | None = None
        self.writable = asyncio.Event()
        self.writable.set()
        self.gone = False

    async def send(self, message: dict[str, Any]) -> None:
        await self.writable.wait()  # as uvicorn does while the client's socket is full
        if self.gone:
            raise OSError("client disconnected")
        if message["type"] == "websocket.close":
            self.closed_with = message["code"]
        else:
            self.sent.append(message["bytes"])


def connection_to(server: Server) -> DocumentConsumer:
    """A consumer as it is once connected, sending to ``server``."""
    consumer = DocumentConsumer()
    consumer.base_send = server.send
    consumer.key = "outbox"
    return consumer


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_frames_go_out_at_once_and_an_idle_connection_keeps_no_outbox() -> None:
    server = Server()
    connection = connection_to(server)
    connection.send_frame(b"one")
    connection.send_frame(b"two")
    assert server.sent == [b"one", b"two"]  # without a turn of the event loop
    assert connection._outbox is None


async def test_frames_wait_in_order_behind_a_held_send() -> None:
    server = Server()
    connection = connection_to(server)
    server.writable.clear()
    for frame in (b"one", b"two", b"three"):
        connection.send_frame(frame)  # returns although the server holds the first send
    await settle()
    assert server.sent == []
    server.writable.set()
    await settle()
    assert server.sent == [b"one", b"two", b"three"]
    assert connection._outbox is None  # all out: the outbox is gone
    connection.send_frame(b"four")
    assert server.sent[-1] == b"four"  # straight out again


async def test_a_frame_sent_while_the_outbox_drains_keeps_its_place() -> None:
    server = Server()
    connection = connection_to(server)
    server.writable.clear()
    connection.send_frame(b"one")
    connection.send_frame(b"two")
    server.writable.set()
    await asyncio.sleep(0)
    connection.send_frame(b"three")
    await settle()
    assert server.sent == [b"one", b"two", b"three"]


@override_settings(COLLAB={"MAX_OUTBOX_BYTES": 10})
async def test_a_client_with_too_much_waiting_is_closed_with_4504() -> None:
    server = Server()
    connection = connection_to(server)
    server.writable.clear()
    connection.send_frame(b"held")
    connection.send_frame(b"x" * 6)
    connection.send_frame(b"y" * 4)  # 10 bytes wait: at the limit, still fine
    await settle()
    assert server.closed_with is None
    connection.send_frame(b"z")
    connection.send_frame(b"later")
    server.writable.set()
    await settle()
    assert server.sent == [b"held"]  # the send under way completes; the rest is dropped
    assert server.closed_with == CloseCode.CLIENT_TOO_SLOW


async def test_frames_for_a_gone_connection_are_dropped_quietly() -> None:
    server = Server()
    connection = connection_to(server)
    server.gone = True
    connection.send_frame(b"at once")  # the server raises at once
    server.writable.clear()
    connection.send_frame(b"held")
    connection.send_frame(b"behind")
    server.writable.set()  # the held send wakes up and fails
    await settle()
    assert server.sent == []
    assert connection._outbox is None
    server.gone = False
    connection.send_frame(b"again")
    assert server.sent == [b"again"]


async def test_bytes_held_by_servers_other_than_daphne_are_not_counted() -> None:
    """Only daphne's send (a partial over a protocol with a Twisted transport) is read."""
    server = Server()
    assert daphne_backlog(server.send) is None
    assert daphne_backlog(functools.partial(Server.send, server)) is None
    assert daphne_backlog(functools.partial(server.send)) is None

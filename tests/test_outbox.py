"""A connection's frames go out in order from a task of its own, whatever ``send`` returns."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Generator
from typing import Any

import pytest
from autobahn.exception import PayloadExceededError
from django.test import override_settings

from collab.close_codes import CloseCode
from collab.conf import conf
from collab.consumers import DocumentConsumer
from collab.outbox import Outbox
from collab.server_socket import ServerSocket, server_socket


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
        self.take(message)

    def take(self, message: dict[str, Any]) -> None:
        if self.gone:
            raise OSError("client disconnected")
        if message["type"] == "websocket.close":
            self.closed_with = message["code"]
        else:
            self.sent.append(message["bytes"])


class FutureAwaitable:
    """What granian's ``send`` returns: an awaitable that is not a coroutine (no ``close``)."""

    def __init__(self, future: asyncio.Future[None]) -> None:
        self._future = future

    def __await__(self) -> Generator[Any, None, None]:
        return self._future.__await__()


class FutureServer(Server):
    """A server whose ``send`` hands back a :class:`FutureAwaitable`, finished later."""

    def send(self, message: dict[str, Any]) -> FutureAwaitable:  # type: ignore[override]
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        loop.call_soon(lambda: (self.take(message), future.set_result(None)))
        return FutureAwaitable(future)


def connection_to(server: Server) -> DocumentConsumer:
    """A consumer as it is once connected, sending to ``server``."""
    consumer = DocumentConsumer()
    consumer.key = "outbox"
    consumer.base_send = server.send
    consumer._outbox = Outbox(
        server.send,
        conf.MAX_OUTBOX_BYTES,
        consumer._fell_behind,
        ServerSocket().backlog,
        consumer._not_sent,
    )
    return consumer


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_frames_go_out_in_order_and_an_idle_connection_keeps_no_task() -> None:
    server = Server()
    connection = connection_to(server)
    connection.send_frame(b"one")
    connection.send_frame(b"two")
    await settle()
    assert server.sent == [b"one", b"two"]
    assert connection._outbox._sender.task is None


async def test_any_awaitable_send_works() -> None:
    """granian's ``send`` returns a future-like awaitable without ``close()``."""
    server = FutureServer()
    connection = connection_to(server)
    for frame in (b"one", b"two", b"three"):
        connection.send_frame(frame)
    await settle()
    assert server.sent == [b"one", b"two", b"three"]


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
    assert connection._outbox._sender.task is None  # all out: the task is gone
    connection.send_frame(b"four")
    await settle()
    assert server.sent[-1] == b"four"


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


async def test_a_close_goes_out_after_the_frames_before_it_and_nothing_after() -> None:
    server = Server()
    connection = connection_to(server)
    server.writable.clear()
    connection.send_frame(b"one")
    connection._outbox.close(int(CloseCode.GOING_AWAY))
    connection.send_frame(b"after")
    server.writable.set()
    await connection._outbox.sent()
    assert server.sent == [b"one"]
    assert server.closed_with == CloseCode.GOING_AWAY


@override_settings(COLLAB={"MAX_OUTBOX_BYTES": 10})
async def test_a_client_with_too_much_waiting_is_closed_with_4504_at_once() -> None:
    server = Server()
    connection = connection_to(server)
    server.writable.clear()
    connection.send_frame(b"held")
    connection.send_frame(b"x" * 6)  # 10 bytes wait: at the limit, still fine
    await settle()
    assert server.closed_with is None
    connection.send_frame(b"z")
    connection.send_frame(b"later")
    server.writable.set()  # the close was sent beside the held send
    await settle()
    assert server.closed_with == CloseCode.CLIENT_TOO_SLOW
    assert server.sent == [b"held"]  # the send under way completes; the rest is dropped


async def test_bytes_the_server_holds_count_against_the_limit() -> None:
    server = Server()
    held = 0
    overflowed: list[bool] = []
    outbox = Outbox(server.send, 10, lambda: overflowed.append(True), lambda: held, print)
    outbox.put(b"12345")
    await settle()
    held = 6  # as daphne's Twisted buffer, once the client stops reading
    outbox.put(b"12345")
    assert overflowed == [True]


async def test_frames_for_a_gone_connection_are_dropped_quietly() -> None:
    server = Server()
    connection = connection_to(server)
    server.gone = True
    connection.send_frame(b"one")
    connection.send_frame(b"two")
    await settle()
    assert server.sent == []
    assert connection._outbox._sender.task is None
    server.gone = False
    connection.send_frame(b"again")
    await settle()
    assert server.sent == [b"again"]


async def test_bytes_held_by_servers_other_than_daphne_are_not_counted() -> None:
    """Only daphne's send (a partial over a protocol with a Twisted transport) is read."""
    server = Server()
    for send in (
        server.send,
        functools.partial(Server.send, server),
        functools.partial(server.send),
    ):
        assert type(server_socket(send)) is ServerSocket


async def test_a_frame_the_server_refuses_for_its_size_closes_with_4500_and_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = Server()
    connection = connection_to(server)
    connection.scope = {}
    real_take = server.take

    def take(message: dict[str, Any]) -> None:
        if len(message.get("bytes", b"")) > 100:  # as daphne over its message limit
            raise PayloadExceededError("message too big")
        real_take(message)

    server.take = take  # type: ignore[method-assign]
    connection.send_frame(b"small")
    connection.send_frame(bytes(200))
    connection.send_frame(b"after")
    await settle()
    assert server.sent == [b"small"]
    assert server.closed_with == CloseCode.SERVER_ERROR
    assert any(
        record.levelname == "ERROR" and "refused to send a frame" in record.getMessage()
        for record in caplog.records
    )

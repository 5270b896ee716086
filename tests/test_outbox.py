"""A connection's outbox: frames go out at once, or in order behind a send the server holds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from collab.outbox import Outbox


class Server:
    """An ASGI ``send`` that takes frames at once, or holds them while ``hold`` is set."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.writable = asyncio.Event()
        self.writable.set()
        self.gone = False

    async def send(self, message: dict[str, Any]) -> None:
        await self.writable.wait()  # as uvicorn does while the client's socket is full
        if self.gone:
            raise OSError("client disconnected")
        self.sent.append(message["bytes"])


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_frames_go_out_at_once_when_the_server_takes_them() -> None:
    server = Server()
    outbox = Outbox(server.send, limit=100, on_overflow=pytest.fail)
    outbox.put(b"one")
    outbox.put(b"two")
    assert server.sent == [b"one", b"two"]  # without yielding to the event loop


async def test_frames_wait_in_order_behind_a_held_send() -> None:
    server = Server()
    outbox = Outbox(server.send, limit=100, on_overflow=pytest.fail)
    server.writable.clear()
    for frame in (b"one", b"two", b"three"):
        outbox.put(frame)  # returns although the server holds the first send
    await settle()
    assert server.sent == []
    server.writable.set()
    await settle()
    assert server.sent == [b"one", b"two", b"three"]
    outbox.put(b"four")
    assert server.sent[-1] == b"four"  # nothing waits any more: straight out again


async def test_a_frame_put_while_the_backlog_drains_keeps_its_place() -> None:
    server = Server()
    outbox = Outbox(server.send, limit=100, on_overflow=pytest.fail)
    server.writable.clear()
    outbox.put(b"one")
    outbox.put(b"two")
    server.writable.set()
    await asyncio.sleep(0)
    outbox.put(b"three")
    await settle()
    assert server.sent == [b"one", b"two", b"three"]


async def test_overflow_drops_what_waits_and_reports_once() -> None:
    server = Server()
    overflows: list[None] = []
    outbox = Outbox(server.send, limit=10, on_overflow=lambda: overflows.append(None))
    server.writable.clear()
    outbox.put(b"held")
    outbox.put(b"x" * 6)
    assert overflows == []  # 6 bytes wait: within the limit
    outbox.put(b"y" * 6)
    assert overflows == [None]  # 12 bytes would wait
    outbox.put(b"later")
    assert overflows == [None]
    server.writable.set()
    await settle()
    assert server.sent == [b"held"]  # the send already under way completes; nothing else


async def test_frames_for_a_gone_connection_are_dropped_quietly() -> None:
    server = Server()
    outbox = Outbox(server.send, limit=100, on_overflow=pytest.fail)
    server.gone = True
    outbox.put(b"at once")  # the server raises at once
    server.writable.clear()
    outbox.put(b"held")
    outbox.put(b"behind")
    server.writable.set()  # the server wakes the held send, which then fails
    await settle()
    assert server.sent == []
    server.gone = False
    outbox.put(b"again")
    assert server.sent == [b"again"]

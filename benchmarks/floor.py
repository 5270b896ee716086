"""A y-websocket relay with nothing else: the floor for any Python server under uvicorn.

It answers the sync handshake with an empty document and sends every update frame it
receives, unchanged and unchecked, to the other connections of the same URL. No
validation, no document, no storage, no Django: what remains is uvicorn's own per-frame
work. ``benchmarks/run.py`` runs the fan-out and idle scenarios against it (the ``floor``
column) to show how much of collab's latency and memory per connection is the server
stack and how much is collab's own. It is not a server anyone should deploy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

Send = Callable[[dict[str, Any]], Awaitable[None]]

SYNC_STEP1_EMPTY = bytes([0, 0, 1, 0])
"""Sync step 1 with the state vector of an empty document."""

SYNC_STEP2_EMPTY = bytes([0, 1, 2, 0, 0])
"""Sync step 2 carrying an empty update."""

rooms: defaultdict[str, set[Send]] = defaultdict(set)


async def application(
    scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]], send: Send
) -> None:
    """Relay update frames between the websocket connections of one path."""
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    room = rooms[scope["path"]]
    room.add(send)
    await send({"type": "websocket.send", "bytes": SYNC_STEP1_EMPTY})
    try:
        while (message := await receive())["type"] == "websocket.receive":
            frame = message.get("bytes") or b""
            if frame[:2] == b"\x00\x00":
                await send({"type": "websocket.send", "bytes": SYNC_STEP2_EMPTY})
            elif frame[:2] == b"\x00\x02":
                relayed = {"type": "websocket.send", "bytes": frame}
                for other in list(room):
                    if other is not send:
                        await other(relayed)
    finally:
        room.discard(send)

"""A TCP load balancer in front of several servers, as production would have.

New connections go round-robin to the backends; a backend that refuses connections
(because it was killed) is skipped, so clients reconnect to a surviving process.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Sequence

from tests.e2e.server import LocalEndpoint, ServerProcess, free_port


class Balancer(LocalEndpoint):
    """Forwards each accepted connection to the next backend that accepts it."""

    def __init__(self, backends: Sequence[ServerProcess]) -> None:
        self.port = free_port()
        self._backends = list(backends)
        self._turn = itertools.count()
        self._writers: list[asyncio.StreamWriter] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise AssertionError("the load balancer did not start")

    def close(self) -> None:
        """Stop accepting, cut every forwarded connection, and release the sockets."""
        self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._run())
        self._loop.close()

    async def _run(self) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)
        self._ready.set()
        await self._stopping.wait()
        server.close()
        for writer in self._writers:
            writer.close()
        await server.wait_closed()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        first = next(self._turn)
        for offset in range(len(self._backends)):
            backend = self._backends[(first + offset) % len(self._backends)]
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(
                    "127.0.0.1", backend.port
                )
            except OSError:
                continue
            self._writers.append(upstream_writer)
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
            return
        writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()

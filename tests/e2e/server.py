"""A real ASGI server process (daphne, uvicorn, hypercorn or granian) serving ``tests.asgi``.

Tests stop, kill and restart it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Protocol

from tests.e2e.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]

MAX_MESSAGE_BYTES = 16 * 1024 * 1024
"""Daphne's own frame and message limits (1 MiB by default) are raised above collab's
``MAX_FRAME_BYTES``, so that collab's limit is the one under test."""

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Endpoint(Protocol):
    """Where clients connect: a server, or a load balancer in front of several."""

    @property
    def ws_url(self) -> str:
        """The URL a ``WebsocketProvider`` is given; the document key is appended to it."""

    @property
    def origin(self) -> str:
        """The Origin header a page served there would send."""


class LocalEndpoint:
    """Something clients reach on a port of 127.0.0.1 (``secure``: through TLS)."""

    port: int
    secure = False

    @property
    def ws_url(self) -> str:
        """The URL a ``WebsocketProvider`` is given; the document key is appended to it."""
        return f"{'wss' if self.secure else 'ws'}://127.0.0.1:{self.port}/ws/collab"

    @property
    def origin(self) -> str:
        """The Origin header a page served there would send."""
        return f"{'https' if self.secure else 'http'}://127.0.0.1:{self.port}"


def daphne_command(port: int) -> list[str]:
    """Run daphne, the server Django users get with ``runserver``, as the deployment guide
    runs it: with a listen backlog for reconnect storms (Twisted's default is 50)."""
    return [
        *("-m", "daphne", "-e", f"tcp:port={port}:interface=127.0.0.1:backlog=4096"),
        *("--websocket-max-message-size", str(MAX_MESSAGE_BYTES)),
        *("--websocket-max-frame-size", str(MAX_MESSAGE_BYTES)),
        "tests.asgi:application",
    ]


def uvicorn_command(port: int) -> list[str]:
    """Run uvicorn, a second ASGI server collab must work with."""
    return [
        *("-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port)),
        *("--ws-max-size", str(MAX_MESSAGE_BYTES), "--lifespan", "off"),
        *("--ws-per-message-deflate", "false"),
        "tests.asgi:application",
    ]


def hypercorn_command(port: int) -> list[str]:
    """Run hypercorn (its websocket message limit is 16 MiB by default)."""
    return [*("-m", "hypercorn", "-b", f"127.0.0.1:{port}"), "tests.asgi:application"]


def granian_command(port: int) -> list[str]:
    """Run granian, whose ``send`` returns a Rust future rather than a coroutine.

    ``asginl``: ASGI without lifespan events, which Channels' router does not handle.
    Its main process logs that it listens before the worker accepts connections, so
    readiness is the worker's start.
    """
    return [
        *("-m", "granian", "--interface", "asginl", "--host", "127.0.0.1"),
        *("--port", str(port), "tests.asgi:application"),
    ]


SERVERS = {
    "daphne": (daphne_command, "Listening on TCP address 127.0.0.1:{port}"),
    "uvicorn": (uvicorn_command, "Uvicorn running on http://127.0.0.1:{port}"),
    "hypercorn": (hypercorn_command, "Running on http://127.0.0.1:{port}"),
    "granian": (granian_command, "Started worker-1"),
    "daphne-defaults": (
        lambda port: ["-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "tests.asgi:application"],
        "Listening on TCP address 127.0.0.1:{port}",
    ),
    "uvicorn-defaults": (
        lambda port: [
            *("-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port), "--lifespan", "off"),
            "tests.asgi:application",
        ],
        "Uvicorn running on http://127.0.0.1:{port}",
    ),
}
"""How to start each server, and the log line that says it is ready. The ``-defaults``
kinds run the server with its own message limits, as ``runserver`` or a bare
``uvicorn`` command would."""

ASGI_SERVERS = ("daphne", "granian", "hypercorn", "uvicorn")
"""Every ASGI server collab supports, as run in the tests."""


class ServerProcess(LocalEndpoint):
    """An ASGI server on a fixed free port, logging to ``log_path``."""

    def __init__(self, env: dict[str, str], log_path: Path, kind: str = "daphne") -> None:
        self.kind = kind
        self.port = free_port()
        self.log_path = log_path
        self._env = env
        self._process: subprocess.Popen[bytes] | None = None
        log_path.write_bytes(b"")

    def start(self) -> None:
        """Start the server and wait until it listens.

        Readiness is read from daphne's log, not probed with a bare TCP connection:
        daphne 4.2 keeps such a connection without an application for up to 1 s, and
        a SIGTERM in that time makes its shutdown handler fail with a KeyError before
        it cancels (and so lets collab store) the open connections.
        """
        log_start = self.log_path.stat().st_size
        command, ready_line = SERVERS[self.kind]
        listening = ready_line.format(port=self.port).encode()
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, *command(self.port)],
                cwd=ROOT,
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(
            lambda: self._alive() and listening in self.log_path.read_bytes()[log_start:],
            START_TIMEOUT,
            lambda: f"{self.kind} is not listening on port {self.port}\n{self.log_tail()}",
        )

    def stop(self) -> None:
        """Shut the server down gracefully (SIGTERM) and wait until it exited."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash or an OOM kill would."""
        self._end(signal.SIGKILL)

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self._process is not None, "the server was never started"
        return self._process.pid

    @property
    def resident_bytes(self) -> int:
        """The server process's resident memory (``VmRSS`` in ``/proc/<pid>/status``)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        (kib,) = (line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(kib) * 1024

    @property
    def exit_status(self) -> int | None:
        """The process's exit status (negative: the signal that ended it); None while it runs."""
        return None if self._process is None else self._process.poll()

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def log_text(self) -> str:
        """Everything the server wrote to stdout and stderr since the test started."""
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server log, for failure messages."""
        tail = "\n".join(self.log_text().splitlines()[-lines:])
        return f"--- server log {self.log_path} (tail) ---\n{tail}"

    def _alive(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            raise AssertionError(
                f"{self.kind} exited with {self._process.returncode} on start\n{self.log_tail()}"
            )
        return True

    def _end(self, signum: signal.Signals) -> None:
        assert self._process is not None, "the server was never started"
        self._process.send_signal(signum)
        try:
            self._process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            for pid in _process_tree(self._process.pid):
                os.kill(pid, signal.SIGUSR1)  # tests.settings: dump the stacks to the log
            time.sleep(1.0)
            self._process.kill()
            self._process.wait()
            raise AssertionError(
                f"{self.kind} ignored {signum.name} for {STOP_TIMEOUT} s\n{self.log_tail(200)}"
            ) from None


def _process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (a server's worker processes)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        child_pids = [int(child) for child in children.read_text().split()]
    except OSError:
        return [pid]
    return [pid, *(descendant for child in child_pids for descendant in _process_tree(child))]

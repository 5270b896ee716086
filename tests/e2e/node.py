"""Python handles on the Node Yjs clients of ``tests/node/driver.mjs``."""

from __future__ import annotations

import base64
import itertools
import json
import os
import queue
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from tests.e2e.server import ROOT, Endpoint
from tests.e2e.waiting import wait_until

NODE_DIR = ROOT / "tests" / "node"

REQUEST_TIMEOUT = 10.0
"""Seconds the driver may take to answer one command (they all return at once)."""

WAIT_TIMEOUT = float(os.environ.get("COLLAB_TEST_WAIT_TIMEOUT", "5"))
"""Default bound on waiting for a client to reach a state (longer for manual runs with
very large documents)."""

Snapshot = dict[str, Any]


class NodeDriver:
    """One ``node driver.mjs`` process, spoken to in JSON lines."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("wb") as log:
            self._process = subprocess.Popen(
                ["node", "driver.mjs"],
                cwd=NODE_DIR,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                encoding="utf-8",
            )
        self._replies: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read_replies, daemon=True)
        self._reader.start()
        self._ids = itertools.count(1)

    def request(self, command: str, **arguments: Any) -> Any:
        """Run ``command`` in the driver and return its result.

        Raises:
            AssertionError: The driver failed the command, exited, or did not answer.
        """
        assert self._process.stdin is not None
        request_id = next(self._ids)
        self._process.stdin.write(json.dumps({"id": request_id, "command": command, **arguments}))
        self._process.stdin.write("\n")
        self._process.stdin.flush()
        try:
            line = self._replies.get(timeout=REQUEST_TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"node driver did not answer {command!r}") from None
        if line is None:
            raise AssertionError(
                f"node driver exited with {self._process.wait()}; see {self.log_path}"
            )
        reply = json.loads(line)
        assert reply["id"] == request_id, f"node driver answered {reply} to request {request_id}"
        if "error" in reply:
            raise AssertionError(f"node driver failed {command!r}: {reply['error']}")
        return reply["result"]

    def close(self) -> None:
        """End the driver; its sockets close with it."""
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.close()
        try:
            self._process.wait(REQUEST_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join()
        self._process.stdout.close()

    def _read_replies(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._replies.put(line)
        self._replies.put(None)


@dataclass(frozen=True)
class _Handle:
    """Something the driver holds under ``name``, inspected by polling."""

    driver: NodeDriver
    name: str
    inspect_command: ClassVar[str]

    def inspect(self) -> Snapshot:
        """What the driver knows about it right now."""
        result: Snapshot = self.driver.request(self.inspect_command, name=self.name)
        return result

    def wait(
        self, condition: Callable[[Snapshot], bool], what: str, timeout: float = WAIT_TIMEOUT
    ) -> Snapshot:
        """Poll :meth:`inspect` until ``condition`` holds; return that snapshot.

        Raises:
            AssertionError: Not within ``timeout`` seconds; the message shows the last snapshot.
        """
        last: Snapshot = {}

        def holds() -> bool:
            nonlocal last
            last = self.inspect()
            return condition(last)

        wait_until(holds, timeout, lambda: f"{self.name}: no {what}; last seen {last}")
        return last


@dataclass(frozen=True)
class YClient(_Handle):
    """A ``WebsocketProvider`` with its own ``Y.Doc``; edits ``getText("content")``."""

    client_id: int
    inspect_command: ClassVar[str] = "inspect"

    @property
    def text(self) -> str:
        """The client's current text."""
        return str(self.inspect()["text"])

    @property
    def length(self) -> int:
        """The length of the client's text (without polling the text itself)."""
        return int(self.driver.request("length", name=self.name)["length"])

    def insert(self, index: int, text: str) -> int:
        """Insert ``text`` at ``index`` (at the end if beyond it); return the new length."""
        return int(self.driver.request("insert", name=self.name, index=index, text=text)["length"])

    def insert_many(self, text: str, count: int) -> int:
        """Append ``text`` ``count`` times in a burst, one update frame each; return the length."""
        result = self.driver.request("insertMany", name=self.name, text=text, count=count)
        return int(result["length"])

    def delete(self, index: int, length: int) -> int:
        """Delete ``length`` characters from ``index``; return the new length."""
        result = self.driver.request("delete", name=self.name, index=index, length=length)
        return int(result["length"])

    def set_awareness(self, state: object) -> None:
        """Set this client's local awareness state (broadcast by the provider)."""
        self.driver.request("setAwareness", name=self.name, state=state)

    def send_stateless(self, payload: str) -> None:
        """Send a stateless message (Hocuspocus providers only)."""
        self.driver.request("sendStateless", name=self.name, payload=payload)

    def close(self) -> None:
        """Destroy the provider: clean websocket close, no reconnect."""
        self.driver.request("close", name=self.name)

    def drop(self) -> None:
        """Cut the TCP connection without a close frame, and do not reconnect."""
        self.driver.request("drop", name=self.name)

    def wait_text(self, expected: str, timeout: float = WAIT_TIMEOUT) -> None:
        """Wait until the client's text is ``expected``."""
        self.wait(lambda snapshot: snapshot["text"] == expected, f"text {expected!r}", timeout)

    def wait_awareness(self, client_id: int, state: object, timeout: float = WAIT_TIMEOUT) -> None:
        """Wait until this client knows ``state`` for ``client_id`` (None: knows no state)."""

        def known(snapshot: Snapshot) -> bool:
            states = {int(known_id): known for known_id, known in snapshot["awareness"]}
            return states.get(client_id) == state

        self.wait(known, f"awareness state {state!r} of client {client_id}", timeout)


@dataclass(frozen=True)
class RawSocket(_Handle):
    """A bare ``ws`` socket, for frames no Yjs client would send."""

    inspect_command: ClassVar[str] = "rawInspect"

    def send(self, frame: bytes | str) -> None:
        """Send ``frame`` as one binary frame, or as a text frame if it is a ``str``."""
        if isinstance(frame, str):
            self.driver.request("rawSend", name=self.name, text=frame)
        else:
            encoded = base64.b64encode(frame).decode("ascii")
            self.driver.request("rawSend", name=self.name, binary=encoded)

    def pause(self) -> None:
        """Stop reading from the socket: what the server sends piles up in the kernel."""
        self.driver.request("rawPause", name=self.name)

    def resume(self) -> None:
        """Read from the socket again."""
        self.driver.request("rawResume", name=self.name)

    def wait_closed(self, timeout: float = WAIT_TIMEOUT) -> int:
        """Wait until the server closed the socket; return the close code."""
        snapshot = self.wait(lambda raw: raw["closeCode"] is not None, "close", timeout)
        return int(snapshot["closeCode"])


@dataclass(frozen=True)
class HocuspocusSocket(_Handle):
    """A ``HocuspocusProviderWebsocket``: one socket for any number of documents."""

    inspect_command: ClassVar[str] = "hocuspocusSocketInspect"


class Clients:
    """Opens clients on ``server``, logged in as a given user (or anonymous)."""

    def __init__(self, driver: NodeDriver, server: Endpoint, prefix: str = "") -> None:
        self._driver = driver
        self._server = server
        self._prefix = prefix
        self._names = itertools.count(1)

    def open(
        self,
        key: str,
        user: User | None,
        library: str = "y-websocket",
        cookie: str | None = None,
        *,
        wait: bool = True,
        token: str | None = None,
        origin: str | None = None,
    ) -> YClient:
        """Connect a ``WebsocketProvider`` to document ``key`` and wait until it synced.

        ``library`` is the npm package whose provider connects: ``y-websocket`` (3.x,
        stops on 44xx close codes) or ``y-websocket-2`` (2.x, reconnects after any close).
        ``cookie`` is the ``Cookie`` header to send instead of a new session of ``user``;
        ``token`` goes in the provider's ``params`` (with ``user`` None: no cookie);
        ``origin`` replaces the server's own as the ``Origin`` header;
        ``wait=False`` returns without waiting for the sync (for a refused client).
        """
        name = f"{self._prefix}client{next(self._names)}"
        connection: dict[str, Any] = self._connection(user)
        if cookie is not None:
            connection["cookie"] = cookie
        if token is not None:
            connection["params"] = {"token": token}
        if origin is not None:
            connection["origin"] = origin
        result = self._driver.request("open", name=name, key=key, library=library, **connection)
        client = YClient(self._driver, name, int(result["clientId"]))
        if wait:
            client.wait(lambda snapshot: snapshot["synced"], "sync")
        return client

    def open_raw(self, key: str, user: User | None) -> RawSocket:
        """Open a bare websocket on document ``key``."""
        name = f"{self._prefix}raw{next(self._names)}"
        connection = self._connection(user)
        connection["url"] = f"{connection['url']}/{key}"
        self._driver.request("rawOpen", name=name, **connection)
        return RawSocket(self._driver, name)

    def hocuspocus_socket(self, user: User | None, origin: str | None = None) -> HocuspocusSocket:
        """Open a Hocuspocus socket on the server's ``ws/hocuspocus`` route.

        With ``user``, it sends a session cookie of theirs (as a page of the site would).
        """
        name = f"{self._prefix}hocuspocus{next(self._names)}"
        connection = self._connection(user)
        connection["url"] = connection["url"].removesuffix("/ws/collab") + "/ws/hocuspocus"  # type: ignore[union-attr]
        if origin is not None:
            connection["origin"] = origin
        self._driver.request("hocuspocusSocket", name=name, **connection)
        return HocuspocusSocket(self._driver, name)

    def open_hocuspocus(
        self, socket: HocuspocusSocket, key: str, token: str = "", *, wait: bool = True
    ) -> YClient:
        """Attach a ``HocuspocusProvider`` of document ``key`` to ``socket``.

        ``wait`` waits until it is authenticated and synced with nothing unacknowledged.
        """
        name = f"{self._prefix}provider{next(self._names)}"
        result = self._driver.request(
            "hocuspocusOpen", name=name, socket=socket.name, key=key, token=token
        )
        client = YClient(self._driver, name, int(result["clientId"]))
        if wait:
            client.wait(lambda s: s["synced"] and s["scopes"] and s["unsyncedChanges"] == 0, "sync")
        return client

    def _connection(self, user: User | None) -> dict[str, str | None]:
        cookie = None if user is None else session_cookie(user)
        return {"url": self._server.ws_url, "cookie": cookie, "origin": self._server.origin}


def session_cookie(user: User) -> str:
    """A ``Cookie`` header value that logs ``user`` in, as a browser would send it."""
    browser = Client()
    browser.force_login(user)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return f"{settings.SESSION_COOKIE_NAME}={session}"

"""A websocket client on a bare TCP socket that sends and reads only when told to.

For clients that stop reading: nothing reads in the background, and the socket's
receive buffer is kept small, so what the server sends piles up on the server's side.
"""

from __future__ import annotations

import base64
import os
import socket
import struct

RECEIVE_BUFFER = 4096
"""Bytes of the client socket's receive buffer (the kernel doubles it)."""

CLOSE_OPCODE = 8

EXTENDED_LENGTHS = {126: struct.Struct("!H"), 127: struct.Struct("!Q")}
"""How a frame's length continues after the 7-bit markers 126 and 127."""


class RawClient:
    """One websocket connection whose socket is read only by :meth:`read_until_closed`."""

    def __init__(self, port: int, path: str, headers: dict[str, str]) -> None:
        """Connect to ``127.0.0.1:port`` and complete the websocket handshake for ``path``.

        Raises:
            AssertionError: The server did not switch protocols.
        """
        self.socket = socket.socket()
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        self.socket.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        self.socket.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.socket.recv(1)
            assert chunk, f"the server closed the handshake: {response!r}"
            response += chunk
        assert response.startswith(b"HTTP/1.1 101"), response

    def send(self, payload: bytes) -> None:
        """Send ``payload`` as one masked binary frame (raises OSError once the server is gone)."""
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x82, 0x80 | length)
        elif length < 2**16:
            header = struct.pack("!BBH", 0x82, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x82, 0x80 | 127, length)
        self.socket.sendall(header + mask + _masked(payload, mask))

    def receive(self, timeout: float) -> bytes:
        """Read the next frame the server sends (unfragmented, as collab sends them).

        Returns:
            The frame's payload.

        Raises:
            AssertionError: The server closed the connection instead.
        """
        self.socket.settimeout(timeout)
        first, second = self._read(2)
        length = second & 0x7F
        extended = EXTENDED_LENGTHS.get(length)
        if extended is not None:
            (length,) = extended.unpack(self._read(extended.size))
        payload = self._read(length)
        assert first & 0x0F != CLOSE_OPCODE, f"closed with {payload[:2].hex()}"
        return payload

    def _read(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.socket.recv(size - len(data))
            assert chunk, "the server dropped the connection"
            data += chunk
        return data

    def read_until_closed(self, timeout: float) -> int | None:
        """Read everything the server sent until the connection ends.

        Returns:
            The code of the server's close frame, or None if the connection ended
            without one reaching the client (the server aborted it).

        Raises:
            TimeoutError: The connection was still open after ``timeout`` seconds.
        """
        self.socket.settimeout(timeout)
        data = b""
        try:
            while chunk := self.socket.recv(1 << 16):
                data += chunk
                code = _close_code(data)
                if code is not None:
                    return code
        except ConnectionResetError:
            pass
        return _close_code(data)

    def close(self) -> None:
        """Drop the TCP connection."""
        self.socket.close()


def _masked(payload: bytes, mask: bytes) -> bytes:
    """``payload`` XORed with the repeated 4-byte ``mask`` (as one big integer: fast for 1 MiB)."""
    key = (mask * (len(payload) // 4 + 1))[: len(payload)]
    masked = int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")
    return masked.to_bytes(len(payload), "big")


def _close_code(data: bytes) -> int | None:
    """The code of the first close frame in ``data`` (unmasked server frames), if any."""
    position = 0
    while position + 2 <= len(data):
        opcode, length = data[position] & 0x0F, data[position + 1] & 0x7F
        position += 2
        extended = EXTENDED_LENGTHS.get(length)
        if extended is not None:
            if position + extended.size > len(data):
                return None
            (length,) = extended.unpack_from(data, position)
            position += extended.size
        if opcode == CLOSE_OPCODE and position + 2 <= len(data):
            return int(struct.unpack_from("!H", data, position)[0])
        position += length
    return None

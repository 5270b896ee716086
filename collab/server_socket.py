"""What collab sees and steers of the socket an ASGI server keeps for one connection.

Most servers need nothing: their ``send`` waits while the client does not read (the
bytes wait in collab's outbox, counted there), and they stop reading a socket whose
frames the application does not ask for (``receive`` is not called). daphne does
neither: its ``send`` returns at once and Twisted buffers what the client does not
read, and it reads every frame the client sends into a queue of its own, however long.
So under daphne collab counts Twisted's buffer and pauses Twisted's reading itself.
This is the one module that relies on daphne's and Twisted's internals (daphne 4.2,
Twisted 26); a ``send`` it does not recognise gets :class:`ServerSocket`, which does
nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

Send = Callable[[dict[str, Any]], Awaitable[None]]
"""An ASGI ``send`` callable."""


def refused_as_too_large(exc: BaseException) -> bool:
    """Whether a failed send was refused for its size, the connection still being open.

    daphne (autobahn) refuses a message over its ``--websocket_max_message_size`` with
    ``PayloadExceededError``; the other servers send messages of any size.
    """
    return type(exc).__name__ == "PayloadExceededError"


class ServerSocket:
    """A server's socket collab cannot see into (the server buffers boundedly itself)."""

    def backlog(self) -> int:
        """Bytes the server buffers for the client beyond what collab holds (none known)."""
        return 0

    def pause_reading(self) -> None:
        """Stop reading the client's frames (the server does so when they are not asked for)."""

    def resume_reading(self) -> None:
        """Read the client's frames again."""


class TwistedSocket(ServerSocket):
    """daphne's socket: a Twisted ``FileDescriptor``."""

    def __init__(self, descriptor: Any) -> None:
        self._descriptor = descriptor

    def backlog(self) -> int:
        """Unsent bytes in Twisted: ``dataBuffer[offset:]`` plus ``_tempDataLen``."""
        descriptor = self._descriptor
        return int(len(descriptor.dataBuffer) - descriptor.offset + descriptor._tempDataLen)

    def pause_reading(self) -> None:
        """Stop reading the socket, so the client's frames wait in TCP, not in daphne."""
        self._descriptor.pauseProducing()

    def resume_reading(self) -> None:
        """Read the socket again."""
        self._descriptor.resumeProducing()


def server_socket(send: Send) -> ServerSocket:
    """The socket behind ``send``: a :class:`TwistedSocket` under daphne.

    daphne passes ``functools.partial(server.handle_reply, protocol)`` as ``send``; the
    protocol's ``transport`` (or, under TLS, the transport it wraps) is a Twisted
    ``FileDescriptor``. A ``send`` that does not look like that gives a plain
    :class:`ServerSocket`, so servers this does not recognise are left alone.
    """
    protocol = send.args[0] if isinstance(send, partial) and send.args else None
    transport = getattr(protocol, "transport", None)
    while transport is not None and not hasattr(transport, "_tempDataLen"):
        transport = getattr(transport, "transport", None)
    if transport is None or not hasattr(transport, "dataBuffer"):
        return ServerSocket()
    return TwistedSocket(transport)

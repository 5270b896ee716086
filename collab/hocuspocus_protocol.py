r"""The Hocuspocus wire protocol (``@hocuspocus/provider`` 2.x to 4.x) as pure functions on bytes.

One socket carries many documents. Every frame but a ping or pong starts with the
*address* of the document it is about, ``varString(name)`` (``name\0session`` for a
provider with ``sessionAwareness``), then ``varUint(type)`` and a payload:

* 0 sync, 1 awareness, 3 query-awareness: exactly as in y-websocket
  (:mod:`collab.protocol`), so what follows the address is a y-websocket frame;
* 2 auth: ``varUint(0)`` + ``varString(token)`` [+ ``varString(version)``] from the
  client; ``varUint(2)`` + ``varString("read-write" | "readonly")`` (authenticated) or
  ``varUint(1)`` + ``varString(reason)`` (permission denied) from the server;
* 5 stateless: ``varString(payload)``, both ways;
* 7 close: from a client, detach this document; from the server, ``varString(reason)``;
* 8 sync status: ``varInt(1 | 0)``, whether the client's last change was applied;
* 9 ping and 10 pong: one byte, no address.

Types 4 (sync reply) and 6 (broadcast stateless) are internal to the Hocuspocus server
and refused from clients. Decoding is strict: a truncated frame, trailing bytes or an
unknown type raise :class:`~collab.exceptions.ProtocolError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from pycrdt import write_var_uint

from collab.exceptions import ProtocolError
from collab.protocol import Reader


class HocuspocusType(IntEnum):
    """Top-level message types of the Hocuspocus protocol."""

    SYNC = 0
    AWARENESS = 1
    AUTH = 2
    QUERY_AWARENESS = 3
    SYNC_REPLY = 4
    STATELESS = 5
    BROADCAST_STATELESS = 6
    CLOSE = 7
    SYNC_STATUS = 8
    PING = 9
    PONG = 10


AUTH_TOKEN = 0
AUTH_PERMISSION_DENIED = 1
AUTH_AUTHENTICATED = 2

PING_FRAME = bytes((HocuspocusType.PING,))
"""The server's keepalive; providers answer with :data:`PONG_FRAME`."""
PONG_FRAME = bytes((HocuspocusType.PONG,))

DOCUMENT_FRAME_TYPES = frozenset(
    (HocuspocusType.SYNC, HocuspocusType.AWARENESS, HocuspocusType.QUERY_AWARENESS)
)
"""Types whose frame, after the address, is a y-websocket frame for the document's room."""


@dataclass(frozen=True, slots=True)
class AddressedFrame:
    """A client frame about one document."""

    address: str
    r"""The document's name, with ``\0session`` for providers with ``sessionAwareness``."""
    type: HocuspocusType
    body: bytes
    """The frame without its address: for document frame types, a y-websocket frame."""

    @property
    def name(self) -> str:
        """The document's name (the address without its session)."""
        return self.address.partition("\0")[0]


@dataclass(frozen=True, slots=True)
class Auth:
    """A client's credential for one document."""

    token: str


def split_frame(frame: bytes) -> AddressedFrame:
    """Read the address and type of a client frame (not a pong: see :data:`PONG_FRAME`).

    Raises:
        ProtocolError: The address or type is truncated, not UTF-8, or the type unknown.
    """
    reader = Reader(frame)
    address = reader.var_string()
    start = reader.position
    kind = reader.var_uint()
    try:
        message_type = HocuspocusType(kind)
    except ValueError:
        raise ProtocolError(f"unknown message type {kind}") from None
    return AddressedFrame(address, message_type, frame[start:])


def read_auth(body: bytes) -> Auth:
    """Decode an auth message from a client (``body`` starts with its type byte).

    Raises:
        ProtocolError: Not a token message, or truncated.
    """
    reader = Reader(body[1:])
    if reader.var_uint() != AUTH_TOKEN:
        raise ProtocolError("a client may only send an auth token")
    token = reader.var_string()
    if reader.remaining():
        reader.var_string()  # the provider's version
    reader.finish()
    return Auth(token)


def read_stateless(body: bytes) -> str:
    """Decode the payload of a stateless message (``body`` starts with its type byte).

    Raises:
        ProtocolError: Truncated, not UTF-8, or trailing bytes.
    """
    reader = Reader(body[1:])
    payload = reader.var_string()
    reader.finish()
    return payload


def _string(text: str) -> bytes:
    encoded = text.encode("utf-8")
    return write_var_uint(len(encoded)) + encoded


def addressed(address: str, frame: bytes) -> bytes:
    """Prefix a y-websocket ``frame`` (or a message body) with a document's address."""
    return _string(address) + frame


def encode_authenticated(address: str, read_only: bool) -> bytes:
    """Tell the client it may use the document, and how."""
    scope = "readonly" if read_only else "read-write"
    return addressed(address, bytes((HocuspocusType.AUTH, AUTH_AUTHENTICATED)) + _string(scope))


def encode_permission_denied(address: str, reason: str) -> bytes:
    """Tell the client it may not use the document, and why."""
    body = bytes((HocuspocusType.AUTH, AUTH_PERMISSION_DENIED)) + _string(reason)
    return addressed(address, body)


def encode_sync_status(address: str, applied: bool) -> bytes:
    """Acknowledge one sync step 2 or update of the client."""
    return addressed(address, bytes((HocuspocusType.SYNC_STATUS, int(applied))))


def encode_close(address: str, reason: str) -> bytes:
    """Tell the client the server detached it from the document."""
    return addressed(address, bytes((HocuspocusType.CLOSE,)) + _string(reason))


def encode_stateless(address: str, payload: str) -> bytes:
    """A stateless message for the client's provider of the document."""
    return addressed(address, bytes((HocuspocusType.STATELESS,)) + _string(payload))

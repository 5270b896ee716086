"""The y-websocket wire protocol as pure functions on bytes (no I/O, no Django).

A frame is ``varUint(type)`` followed by a payload:

* 0 sync: ``varUint(step)`` + ``varByteArray`` (0 step 1 = state vector,
  1 step 2 = update, 2 update),
* 1 awareness: ``varByteArray`` holding an awareness update,
* 2 auth: ``varUint(0)`` + ``varString(reason)`` (permission denied; server to client),
* 3 query-awareness: no payload.

Decoding is strict: any truncated, overlong or unknown frame raises
:class:`~collab.exceptions.ProtocolError`. Encoding reuses pycrdt's helpers and
hand-encodes only what pycrdt lacks (auth and query-awareness).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from pycrdt import (
    YSyncMessageType,
    create_awareness_message,
    create_update_message,
    write_message,
    write_var_uint,
)

from collab.exceptions import ProtocolError
from collab.update_format import read_state_vector
from collab.update_split import split_update

__all__ = [
    "AwarenessEntry",
    "AwarenessUpdate",
    "Message",
    "PermissionDenied",
    "QueryAwareness",
    "SyncStep1",
    "SyncStep2",
    "SyncUpdate",
    "decode_message",
    "encode_awareness",
    "encode_awareness_update",
    "encode_query_awareness",
    "encode_sync_step1",
    "encode_sync_step2",
    "encode_update",
]

MAX_VAR_UINT = 2**53
"""lib0 refuses integers beyond JavaScript's safe range (``Number.MAX_SAFE_INTEGER``); so do we."""

SHORT_LENGTH = 0x80
"""Lengths below this take one byte as a variable-length integer."""

EMPTY_UPDATE = b"\x00\x00"
"""An update with no structs and no deletions, as Yjs encodes it."""

EMPTY_STATE_VECTOR = b"\x00"
"""The state vector of an empty document: a peer that has nothing yet."""


class MessageType(IntEnum):
    """Top-level message types of the y-websocket protocol."""

    SYNC = 0
    AWARENESS = 1
    AUTH = 2
    QUERY_AWARENESS = 3


SYNC_UPDATE_HEADER = bytes((MessageType.SYNC, YSyncMessageType.SYNC_UPDATE))
"""The first two bytes of every sync update frame."""

PERMISSION_DENIED = 0
"""The only auth sub-type y-protocols defines."""


@dataclass(frozen=True, slots=True)
class SyncStep1:
    """A peer's state vector, asking for what it lacks."""

    state_vector: bytes


@dataclass(frozen=True, slots=True)
class SyncStep2:
    """The answer to a sync step 1: everything the asker lacked."""

    update: bytes


@dataclass(frozen=True, slots=True)
class SyncUpdate:
    """An incremental document update."""

    update: bytes


@dataclass(frozen=True, slots=True)
class AwarenessEntry:
    """One client's presence state inside an awareness update."""

    client_id: int
    clock: int
    state: object
    """The decoded JSON state; ``None`` means the client is gone."""


@dataclass(frozen=True, slots=True)
class AwarenessUpdate:
    """Presence states of one or more clients (cursors, names, colours)."""

    payload: bytes
    """The encoded awareness update, as pycrdt's ``Awareness`` consumes it."""
    entries: tuple[AwarenessEntry, ...]


@dataclass(frozen=True, slots=True)
class QueryAwareness:
    """A request for every awareness state the server knows."""


@dataclass(frozen=True, slots=True)
class PermissionDenied:
    """The server refused a request; clients log the reason."""

    reason: str


Message = SyncStep1 | SyncStep2 | SyncUpdate | AwarenessUpdate | QueryAwareness | PermissionDenied


class Reader:
    """Bounds-checked reader of lib0 encodings."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    @property
    def position(self) -> int:
        """Bytes read so far."""
        return self._pos

    def remaining(self) -> int:
        """Bytes not read yet."""
        return len(self._data) - self._pos

    def var_uint(self) -> int:
        """Read a variable-length unsigned integer."""
        value = 0
        shift = 0
        while True:
            if self._pos >= len(self._data):
                raise ProtocolError("truncated variable-length integer")
            byte = self._data[self._pos]
            self._pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if value >= MAX_VAR_UINT:
                raise ProtocolError("variable-length integer out of range")
            if byte < 0x80:
                return value

    def var_bytes(self) -> bytes:
        """Read a length-prefixed byte array."""
        length = self.var_uint()
        end = self._pos + length
        if end > len(self._data):
            raise ProtocolError(f"truncated byte array: {length} bytes announced")
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def var_string(self) -> str:
        """Read a length-prefixed UTF-8 string."""
        try:
            return self.var_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("string is not valid UTF-8") from exc

    def finish(self) -> None:
        """Check that nothing is left to read."""
        if self._pos != len(self._data):
            raise ProtocolError(f"{len(self._data) - self._pos} unexpected trailing bytes")


def decode_message(frame: bytes) -> Message:
    """Decode one websocket frame.

    Args:
        frame: The binary frame as received.

    Returns:
        The typed message.

    Raises:
        ProtocolError: The frame is empty, truncated, has trailing bytes, or an unknown
            message or sync type.
    """
    if (
        frame[:2] == SYNC_UPDATE_HEADER
        and len(frame) > 3
        and frame[2] == len(frame) - 3 < SHORT_LENGTH
    ):
        return SyncUpdate(frame[3:])  # the frame of almost every edit, decoded at once
    reader = Reader(frame)
    message_type = reader.var_uint()
    message: Message
    if message_type == MessageType.SYNC:
        message = _decode_sync(reader)
    elif message_type == MessageType.AWARENESS:
        message = decode_awareness_update(reader.var_bytes())
    elif message_type == MessageType.AUTH:
        if reader.var_uint() != PERMISSION_DENIED:
            raise ProtocolError("unknown auth message type")
        message = PermissionDenied(reader.var_string())
    elif message_type == MessageType.QUERY_AWARENESS:
        message = QueryAwareness()
    else:
        raise ProtocolError(f"unknown message type {message_type}")
    reader.finish()
    return message


def _decode_sync(reader: Reader) -> SyncStep1 | SyncStep2 | SyncUpdate:
    step = reader.var_uint()
    payload = reader.var_bytes()
    if step == YSyncMessageType.SYNC_STEP1:
        read_state_vector(payload)
        return SyncStep1(payload)
    if step == YSyncMessageType.SYNC_STEP2:
        return SyncStep2(payload)
    if step == YSyncMessageType.SYNC_UPDATE:
        return SyncUpdate(payload)
    raise ProtocolError(f"unknown sync message type {step}")


def decode_awareness_update(payload: bytes) -> AwarenessUpdate:
    """Decode and validate an awareness update (the payload of a type-1 frame).

    Raises:
        ProtocolError: The update is truncated, has trailing bytes, or a state is not JSON.
    """
    reader = Reader(payload)
    entries = []
    for _ in range(reader.var_uint()):
        client_id = reader.var_uint()
        clock = reader.var_uint()
        state = _strict_json(reader.var_string(), client_id)
        entries.append(AwarenessEntry(client_id, clock, state))
    reader.finish()
    return AwarenessUpdate(payload, tuple(entries))


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} does not fit a double")
    return value


def _strict_json(raw: str, client_id: int) -> object:
    """Parse an awareness state as JSON every client can read back.

    No ``NaN`` or ``Infinity`` (``JSON.parse`` rejects them), and no number beyond a
    double (``1e999``), which would come back out as ``Infinity``.
    """
    try:
        return json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"awareness state of client {client_id} is not JSON") from exc


def encode_awareness_state(state: object) -> bytes:
    """Encode a presence state as compact JSON (``null`` for a client that is gone)."""
    return json.dumps(state, separators=(",", ":"), allow_nan=False).encode()


def encode_awareness_entry(client_id: int, clock: int, state: bytes) -> bytes:
    """Encode one client's part of an awareness update; ``state`` is its encoded JSON."""
    return write_var_uint(client_id) + write_var_uint(clock) + write_var_uint(len(state)) + state


def join_awareness_entries(entries: Sequence[bytes]) -> bytes:
    """An awareness update (the payload of a type-1 frame) made of encoded entries."""
    return write_var_uint(len(entries)) + b"".join(entries)


def encode_awareness_update(entries: Iterable[AwarenessEntry]) -> bytes:
    """Encode awareness entries as an awareness update (the payload of a type-1 frame).

    Each state is written as compact JSON, ``null`` for a client that is gone.
    """
    return join_awareness_entries(
        [
            encode_awareness_entry(e.client_id, e.clock, encode_awareness_state(e.state))
            for e in entries
        ]
    )


def merge_awareness_updates(payloads: Sequence[bytes]) -> bytes:
    """One awareness update holding the latest entry of each client id in ``payloads``.

    Raises:
        ProtocolError: A payload is not a valid awareness update.
    """
    latest: dict[int, AwarenessEntry] = {}
    for payload in payloads:
        for entry in decode_awareness_update(payload).entries:
            latest[entry.client_id] = entry
    return encode_awareness_update(latest.values())


def encode_sync_step1(state_vector: bytes) -> bytes:
    """Encode a sync step 1 frame carrying ``state_vector``."""
    return bytes((MessageType.SYNC, YSyncMessageType.SYNC_STEP1)) + write_message(state_vector)


def encode_sync_step2(update: bytes) -> bytes:
    """Encode a sync step 2 frame carrying ``update``."""
    return bytes((MessageType.SYNC, YSyncMessageType.SYNC_STEP2)) + write_message(update)


def encode_update(update: bytes) -> bytes:
    """Encode a sync update frame carrying ``update``."""
    if len(update) < SHORT_LENGTH:
        # The frame of almost every edit: its length fits the one byte after the header.
        return SYNC_UPDATE_HEADER + bytes((len(update),)) + update
    return create_update_message(update)


FRAME_HEADER_BYTES = 16
"""More than a sync frame's header takes: message types and the payload's length."""


def encode_sync_step2_frames(update: bytes, max_frame_bytes: int) -> list[bytes]:
    """``update`` as a sync step 2, after sync updates with what does not fit in one frame.

    Each frame stays within ``max_frame_bytes`` (see :mod:`collab.update_split`), so a
    large document reaches a new client also through a server that caps message sizes.
    The step 2 comes last: clients count as synced when it arrives, and by then they
    have everything.
    """
    *first, last = split_update(update, max_frame_bytes - FRAME_HEADER_BYTES)
    return [*map(encode_update, first), encode_sync_step2(last)]


def encode_update_frames(update: bytes, max_frame_bytes: int) -> list[bytes]:
    """``update`` as sync update frames of at most ``max_frame_bytes`` each."""
    return [
        encode_update(part) for part in split_update(update, max_frame_bytes - FRAME_HEADER_BYTES)
    ]


def encode_awareness(payload: bytes) -> bytes:
    """Encode an awareness frame carrying an encoded awareness update."""
    return create_awareness_message(payload)


def encode_permission_denied(reason: str) -> bytes:
    """Encode an auth frame telling the client it may not do what it tried."""
    encoded = reason.encode("utf-8")
    return bytes((MessageType.AUTH, PERMISSION_DENIED)) + write_var_uint(len(encoded)) + encoded


def encode_query_awareness() -> bytes:
    """Encode a query-awareness frame."""
    return bytes((MessageType.QUERY_AWARENESS,))


KEEPALIVE_FRAME = encode_awareness(b"\x00")
"""An awareness update about zero clients: a no-op that resets a client's idle timer."""

"""The sans-I/O protocol core, on exact bytes."""

from __future__ import annotations

import pytest
from pycrdt import Awareness, Doc, Text, create_update_message

from collab.exceptions import ProtocolError
from collab.protocol import (
    KEEPALIVE_FRAME,
    AwarenessEntry,
    AwarenessUpdate,
    PermissionDenied,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode_message,
    encode_awareness,
    encode_permission_denied,
    encode_query_awareness,
    encode_sync_step1,
    encode_sync_step2,
    encode_update,
)


def test_sync_frames_encode_type_step_and_length_prefixed_payload() -> None:
    assert encode_sync_step1(b"\x01\x02") == b"\x00\x00\x02\x01\x02"
    assert encode_sync_step2(b"\x00\x00") == b"\x00\x01\x02\x00\x00"
    assert encode_update(b"abc") == b"\x00\x02\x03abc"


def test_length_prefix_is_a_var_uint() -> None:
    payload = bytes(200)
    assert encode_update(payload) == b"\x00\x02\xc8\x01" + payload
    assert decode_message(encode_update(payload)) == SyncUpdate(payload)


@pytest.mark.parametrize("length", [0, 1, 126, 127, 128, 129, 255, 256, 20_000])
def test_update_frames_of_every_length_match_pycrdt_and_round_trip(length: int) -> None:
    # Short updates take a shortcut both ways; it must agree with the general encoding.
    payload = bytes(range(256)) * (length // 256) + bytes(range(length % 256))
    frame = encode_update(payload)
    assert frame == create_update_message(payload)
    assert decode_message(frame) == SyncUpdate(payload)


def test_awareness_auth_and_query_frames() -> None:
    assert encode_awareness(b"\x00") == b"\x01\x01\x00"
    assert KEEPALIVE_FRAME == b"\x01\x01\x00"
    assert encode_permission_denied("no") == b"\x02\x00\x02no"
    assert encode_query_awareness() == b"\x03"


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b"\x00\x00\x03\x01\x05\x07", SyncStep1(b"\x01\x05\x07")),
        (b"\x00\x01\x02\x00\x00", SyncStep2(b"\x00\x00")),
        (b"\x00\x02\x00", SyncUpdate(b"")),
        (b"\x03", QueryAwareness()),
        (b"\x02\x00\x03why", PermissionDenied("why")),
    ],
)
def test_decode_known_frames(frame: bytes, message: object) -> None:
    assert decode_message(frame) == message


def test_decode_awareness_update_from_pycrdt() -> None:
    awareness = Awareness(Doc())
    awareness.set_local_state({"user": {"name": "Ada"}})
    payload = awareness.encode_awareness_update([awareness.client_id])
    message = decode_message(encode_awareness(payload))
    assert message == AwarenessUpdate(
        payload, (AwarenessEntry(awareness.client_id, 1, {"user": {"name": "Ada"}}),)
    )


def test_awareness_null_state_means_removed() -> None:
    payload = b"\x01\x07\x03\x04null"
    message = decode_message(encode_awareness(payload))
    assert isinstance(message, AwarenessUpdate)
    assert message.entries == (AwarenessEntry(7, 3, None),)


def test_real_yjs_update_round_trips() -> None:
    doc: Doc[Text] = Doc()
    doc["content"] = Text("hello")
    update = doc.get_update()
    assert decode_message(encode_update(update)) == SyncUpdate(update)


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        (b"", "truncated variable-length integer"),
        (b"\x80", "truncated variable-length integer"),
        (b"\x09", "unknown message type 9"),
        (b"\x00\x07\x00", "unknown sync message type 7"),
        (b"\x00\x02\x05ab", "truncated byte array: 5 bytes announced"),
        (b"\x00\x02", "truncated variable-length integer"),
        (b"\x00\x02\x01a!", "1 unexpected trailing bytes"),
        (b"\x00\x02\x03ab", "truncated byte array: 3 bytes announced"),
        # 0xc8 followed by 200 bytes is not a length of 200 but of 0x48 (0xc8 continues).
        (b"\x00\x02\xc8" + bytes(200), "127 unexpected trailing bytes"),
        (b"\x00\x02\xc8\x01" + bytes(199), "truncated byte array: 200 bytes announced"),
        (b"\x03\x00", "1 unexpected trailing bytes"),
        (b"\x01\x02\x01\x07", "truncated variable-length integer"),
        (b"\x01\x06\x01\x07\x00\x02{x", "awareness state of client 7 is not JSON"),
        (b"\x01\x06\x01\x07\x00\x02\xff\xfe", "string is not valid UTF-8"),
        (b"\x02\x05", "unknown auth message type"),
        (b"\xff" * 8 + b"\x01", "variable-length integer out of range"),
    ],
)
def test_malformed_frames_raise_protocol_error(frame: bytes, error: str) -> None:
    with pytest.raises(ProtocolError, match=error):
        decode_message(frame)

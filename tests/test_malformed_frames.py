"""Every malformed frame closes its connection with the code docs/protocol.md documents."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from pycrdt import write_var_uint

from collab.close_codes import CloseCode
from collab.protocol import (
    MAX_VAR_UINT,
    encode_awareness,
    encode_awareness_update,
    encode_update,
)
from collab.registry import RoomRegistry
from tests.stored import wait_for_stored_text
from tests.ws import connected

pytestmark = pytest.mark.django_db(transaction=True)

MAX_FRAME_BYTES = 256 * 1024
"""The frame limit these tests run with."""

TOO_BIG = write_var_uint(MAX_VAR_UINT)
"""An 8-byte varuint of 2**53: one beyond lib0's limit (``Number.MAX_SAFE_INTEGER``)."""

LARGEST = write_var_uint(MAX_VAR_UINT - 1)
"""The largest varuint lib0 reads (8 bytes)."""

OVERLONG = b"\xff" * 9 + b"\x01"
"""A 10-byte varuint of 64 bits and more."""


def awareness(state: str, client_id: bytes = b"\x07") -> bytes:
    """An awareness frame about one client whose state is the raw string ``state``."""
    raw = state.encode()
    payload = b"\x01" + client_id + b"\x01" + write_var_uint(len(raw)) + raw
    return encode_awareness(payload)


def nested(depth: int) -> str:
    """A JSON array nested ``depth`` deep."""
    return "[" * depth + "]" * depth


MALFORMED = {
    # Truncated.
    "empty": b"",
    "sync-without-step": b"\x00",
    "step1-without-length": b"\x00\x00",
    "step1-truncated": b"\x00\x00\x05ab",
    "step2-truncated": b"\x00\x01\x09abc",
    "update-truncated": b"\x00\x02\x09abc",
    "varuint-truncated": b"\x80",
    "awareness-without-payload": b"\x01",
    "awareness-payload-truncated": b"\x01\x05\x01",
    "awareness-entry-truncated": encode_awareness(b"\x01\x07"),
    "awareness-state-truncated": encode_awareness(b"\x01\x07\x01\x09{}"),
    "auth-without-type": b"\x02",
    # Varuints beyond lib0's 53 bits.
    "type-2**53": TOO_BIG,
    "type-overlong": OVERLONG,
    "length-2**53": b"\x00\x02" + TOO_BIG,
    "length-2**53-1": b"\x00\x02" + LARGEST,
    "awareness-count-2**53": encode_awareness(TOO_BIG),
    "awareness-client-2**53": encode_awareness(b"\x01" + TOO_BIG + b"\x01\x02{}"),
    "awareness-clock-2**53": encode_awareness(b"\x01\x07" + TOO_BIG + b"\x02{}"),
    "sync-step-overlong": b"\x00" + OVERLONG + b"\x00",
    # Trailing bytes.
    "step1-trailing": b"\x00\x00\x01\x00\x00",
    "update-trailing": encode_update(b"\x00\x00") + b"\x00",
    "awareness-trailing": encode_awareness(encode_awareness_update([])) + b"\x00",
    "awareness-payload-trailing": encode_awareness(b"\x00\x00"),
    "query-awareness-trailing": b"\x03\x00",
    # Unknown message types and sync steps.
    "type-4": b"\x04",
    "type-9": b"\x09\x00",
    "type-128": b"\x80\x01",
    "type-2**53-1": LARGEST,
    "sync-step-3": b"\x00\x03\x00",
    "sync-step-2**53-1": b"\x00" + LARGEST + b"\x00",
    # Auth messages are sent by the server only.
    "auth-permission-denied": b"\x02\x00\x01x",
    "auth-unknown-type": b"\x02\x01\x00",
    "auth-reason-not-utf8": b"\x02\x00\x01\xff",
    # Content pycrdt or JSON.parse rejects.
    "update-garbage": encode_update(b"garbage!"),
    "state-vector-garbage": b"\x00\x00\x03\xff\xff\xff",
    "awareness-not-json": awareness("{"),
    "awareness-not-utf8": encode_awareness(b"\x01\x07\x01\x01\xff"),
    "awareness-nan": awareness('{"x":NaN}'),
    "awareness-infinity": awareness('{"x":-Infinity}'),
    "awareness-beyond-a-double": awareness('{"x":1e999}'),
    "awareness-nested-100k": awareness(nested(100_000)),
}

REFUSED = {
    "text": ({"text": "hello"}, CloseCode.UNSUPPORTED_DATA),
    "text-empty": ({"text": ""}, CloseCode.UNSUPPORTED_DATA),
    "oversize": ({"bytes": encode_update(bytes(MAX_FRAME_BYTES))}, CloseCode.FRAME_TOO_LARGE),
    "oversize-by-one": ({"bytes": bytes(MAX_FRAME_BYTES + 1)}, CloseCode.FRAME_TOO_LARGE),
    **{name: ({"bytes": frame}, CloseCode.MALFORMED_FRAME) for name, frame in MALFORMED.items()},
}


@pytest.mark.parametrize(("frame", "code"), REFUSED.values(), ids=REFUSED.keys())
async def test_malformed_frame_closes_with_its_documented_code(
    editor: User, rooms: RoomRegistry, frame: dict[str, bytes | str], code: CloseCode
) -> None:
    with override_settings(COLLAB={"MAX_FRAME_BYTES": MAX_FRAME_BYTES}):
        good = await connected("malformed", editor)
        bad = await connected("malformed", editor)
        await bad.communicator.send_input({"type": "websocket.receive", **frame})
        assert await bad.receive_close() == code
        await good.edit("intact")
        await wait_for_stored_text("malformed", "intact")
        await good.disconnect()

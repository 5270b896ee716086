"""The close-code table of docs/protocol.md is the contract: it matches ``CloseCode``."""

from __future__ import annotations

import re
from pathlib import Path

from collab.close_codes import CloseCode

PROTOCOL_DOC = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"

ROW = re.compile(r"^\| (\d{4}) \| `(\w+)` \| (.+?) \| (.+?) \|$", re.MULTILINE)
"""A row of the table: code, member name, when it is sent, what the client should do."""


def documented_codes() -> dict[int, str]:
    """The codes in the table under "Close codes", with their ``CloseCode`` names."""
    text = PROTOCOL_DOC.read_text()
    section = text[text.index("## Close codes") :]
    rows = ROW.findall(section)
    codes = {int(code): name for code, name, _, _ in rows}
    assert len(codes) == len(rows), "a code is documented twice"
    return codes


def test_every_close_code_is_documented_and_every_documented_code_exists() -> None:
    assert documented_codes() == {int(code): code.name for code in CloseCode}


def test_every_documented_code_is_in_the_private_use_range() -> None:
    assert all(4000 <= code <= 4999 for code in documented_codes())


AUDIT_ROW = re.compile(r"^\| (\d{4}) \| ([^`|]+?) \| ([^`|]+?) \| (.+?) \|$", re.MULTILINE)
"""A row of the audit: code, what y-websocket 1.x/2.x do, what 3.x does, what it means."""


def audited_codes() -> dict[int, tuple[str, str]]:
    """The codes under "What stock clients do with each code": 3.x's reaction, the intent."""
    text = PROTOCOL_DOC.read_text()
    section = text[text.index("### What stock clients do with each code") :]
    return {int(code): (v3, meant) for code, _, v3, meant in AUDIT_ROW.findall(section)}


def test_every_close_code_is_audited_against_stock_clients() -> None:
    assert set(audited_codes()) == {int(code) for code in CloseCode}


def test_only_do_not_come_back_codes_make_y_websocket_3_stop() -> None:
    """y-websocket 3.x stops for good on 4400-4499: those codes are refusals, and only they."""
    for code, (v3, meant) in audited_codes().items():
        permanent = 4400 <= code <= 4499
        assert (v3 == "stops for good") == permanent, code
        assert meant.startswith("do not come back" if permanent else "come back"), code

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

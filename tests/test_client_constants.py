"""The browser client's copy of server constants is what the server's modules say."""

from __future__ import annotations

import pytest

from client import server_constants
from collab import html


def test_committed_client_constants_are_current() -> None:
    committed = server_constants.TARGET.read_text(encoding="utf-8")
    assert committed == server_constants.render(), (
        "client/src/server-constants.js is stale: run `python client/server_constants.py`, "
        "then `npm run build --prefix client`, and commit both"
    )


def test_permanent_codes_are_the_4xx_ones() -> None:
    rendered = server_constants.render()
    assert "'4410': 'DOCUMENT_DELETED'" in rendered
    assert "'4422': 'CONTENT_REFUSED'" in rendered
    for transient in ("4500", "4503", "4504"):
        assert f"'{transient}'" not in rendered


def test_a_changed_scheme_list_makes_the_committed_file_stale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(html, "SAFE_SCHEMES", html.SAFE_SCHEMES | {"javascript"})
    assert server_constants.TARGET.read_text(encoding="utf-8") != server_constants.render()

"""Each page loads only the editor it uses: the other mode's chunk is never requested."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page

from tests.browser.conftest import SERVER_SETTINGS, OpenPage
from tests.browser.test_editing import expect_status

pytestmark = [pytest.mark.browser, SERVER_SETTINGS]


def scripts(page: Page) -> list[str]:
    """The file names of the scripts the page loaded."""
    entries = page.evaluate(
        "performance.getEntriesByType('resource').map(entry => entry.name)"
        ".filter(name => name.endsWith('.mjs'))"
    )
    return sorted(str(name).rsplit("/", 1)[-1] for name in entries)


@pytest.mark.parametrize(
    ("mode", "loads", "skips"), [("plain", "code-", "rich-text-"), ("rich", "rich-text-", "code-")]
)
def test_a_page_loads_only_its_editor_mode(
    open_page: OpenPage, alice: User, mode: str, loads: str, skips: str
) -> None:
    page = open_page(alice, f"/editor/bundles-{mode}/{mode}/")
    expect_status(page, "synced")

    loaded = scripts(page)

    assert "collab-editor.mjs" in loaded
    assert [name for name in loaded if name.startswith(loads)], loaded
    assert not [name for name in loaded if name.startswith(skips)], loaded

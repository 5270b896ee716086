"""The bundled editor follows a revoked edit permission at once: it becomes read-only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from playwright.sync_api import expect

from tests.browser.conftest import SERVER_SETTINGS, OpenPage
from tests.browser.test_editing import EDITABLE, expect_status, type_at_end
from tests.e2e.test_revocation import layer_to_servers
from tests.stored import wait_until_stored

pytestmark = [pytest.mark.browser, SERVER_SETTINGS]

__all__ = ["layer_to_servers"]


@pytest.mark.parametrize("mode", ["plain", "rich"])
def test_the_editor_turns_read_only_when_the_edit_permission_goes(
    open_page: OpenPage, alice: User, layer_to_servers: None, mode: str
) -> None:
    key = f"revoked-{mode}"
    page = open_page(alice, f"/editor/{key}/{mode}/")
    expect_status(page, "synced")
    type_at_end(page, mode, "Before.")
    expect(page.locator(".collab-status")).to_have_attribute("data-unsynced", "false")

    alice.user_permissions.remove(
        Permission.objects.get(content_type__app_label="collab", codename="change_document")
    )

    expect_status(page, "read-only")
    expect(page.locator(EDITABLE[mode])).to_have_attribute("contenteditable", "false")
    if mode == "plain":
        wait_until_stored(key, "Before.", 1)

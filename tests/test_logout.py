"""Logging out answers with Clear-Site-Data, so offline copies of documents are deleted."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import AsyncClient, Client

from collab.middleware import MIDDLEWARE, warn_if_missing
from collab.widgets import editor_config

pytestmark = pytest.mark.django_db


def test_the_logout_response_clears_the_site_data(editor: User) -> None:
    client = Client()
    client.force_login(editor)

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"storage"'


def test_other_responses_clear_nothing(editor: User) -> None:
    client = Client()
    client.force_login(editor)
    assert "Clear-Site-Data" not in client.get("/admin/").headers
    assert "Clear-Site-Data" not in client.get("/admin/login/").headers


async def test_an_asynchronous_stack_clears_it_too(editor: User) -> None:
    client = AsyncClient()
    await client.aforce_login(editor)

    response = await client.post("/logout/")

    assert response["Clear-Site-Data"] == '"storage"'


def test_offline_editors_without_the_middleware_are_reported_once(
    editor: User, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.MIDDLEWARE = [entry for entry in settings.MIDDLEWARE if entry != MIDDLEWARE]
    warn_if_missing.cache_clear()
    editor_config("doc", "plain", editor)
    assert caplog.messages == []

    editor_config("doc", "plain", editor, offline=True)
    editor_config("doc", "plain", editor, offline=True)

    assert caplog.messages == [
        f"collab: an editor keeps offline copies, but {MIDDLEWARE} is not in MIDDLEWARE: "
        "logging out leaves them in the browser"
    ]
    warn_if_missing.cache_clear()

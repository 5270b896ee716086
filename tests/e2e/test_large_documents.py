"""A document larger than a server's message limit still opens in a new stock client.

daphne (what ``runserver`` runs) caps websocket messages at 1 MiB in both directions,
so a document's whole state goes out as several frames within ``MAX_FRAME_BYTES``.
"""

from __future__ import annotations

import os

import pytest
from django.contrib.auth.models import User
from pycrdt import Doc, Text

from collab import store
from collab.models import Document
from tests.e2e.node import Clients

pytestmark = pytest.mark.e2e

EDITS = int(os.environ.get("COLLAB_TEST_LARGE_EDITS", "2300"))
"""Small edits of 1,000 characters each, by three writers in turn: over 2 MiB."""


@pytest.fixture(params=["daphne-defaults", "uvicorn-defaults"])
def server_kind(request: pytest.FixtureRequest) -> str:
    """daphne and uvicorn with their own default message limits."""
    kind: str = request.param
    return kind


def store_many_small_edits(key: str) -> str:
    """Store ``EDITS`` updates of three writers as the server would have; return the text."""
    writers = [Doc() for _ in range(3)]
    updates = []
    for number in range(EDITS):
        writer = writers[number % 3]
        for other in writers:
            writer.apply_update(other.get_update(writer.get_state()))
        before = writer.get_state()
        writer.get("content", type=Text).insert(0, f"{number:06d}" + "é" * 497)
        updates.append(writer.get_update(before))
    document = Document.objects.create(key=key)
    store.append_updates(document.pk, updates)
    merged = Doc()
    for update in updates:
        merged.apply_update(update)
    assert len(merged.get_update()) > 2 * 1024 * 1024
    return str(merged.get("content", type=Text))


def test_a_new_client_opens_a_document_of_over_2_mib(clients: Clients, editor: User) -> None:
    text = store_many_small_edits("large")
    client = clients.open("large", editor)
    assert client.length == len(text)
    assert client.text == text
    client.insert(0, "after")  # and it edits as usual
    second = clients.open("large", editor)
    second.wait_text("after" + text, timeout=20)

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


LOGGED = 20
"""Edits stored one by one after the snapshot (compaction merges every 500)."""


@pytest.fixture(params=["daphne-defaults", "uvicorn-defaults"])
def server_kind(request: pytest.FixtureRequest) -> str:
    """daphne and uvicorn with their own default message limits."""
    kind: str = request.param
    return kind


def store_many_small_edits(key: str, writer_count: int) -> str:
    """Store ``EDITS`` small edits as the server would have; return the text.

    Three writers insert at the start in turn; one writer appends, so that the encoded
    state holds a single string item of over 2 MiB (yrs squashes them). What is stored
    is what compaction leaves: a snapshot of the document, then the latest edits.
    """
    writers = [Doc() for _ in range(writer_count)]
    updates = []
    snapshot = b""
    for number in range(EDITS):
        writer = writers[number % writer_count]
        for other in writers:
            writer.apply_update(other.get_update(writer.get_state()))
        before = writer.get_state()
        content = writer.get("content", type=Text)
        content.insert(0 if writer_count > 1 else len(content), f"{number:06d}" + "é😀" * 166)
        updates.append(writer.get_update(before))
        if number == EDITS - LOGGED - 1:
            snapshot = writer.get_update()
    document = Document.objects.create(key=key)
    store.append_updates(document.pk, [snapshot, *updates[-LOGGED:]])
    everything = writers[(EDITS - 1) % writer_count]
    assert len(everything.get_update()) > 2 * 1024 * 1024
    return str(everything.get("content", type=Text))


@pytest.mark.parametrize("writer_count", [3, 1])
def test_a_new_client_opens_a_document_of_over_2_mib(
    clients: Clients, editor: User, writer_count: int
) -> None:
    text = store_many_small_edits("large", writer_count)
    client = clients.open("large", editor)
    assert client.length == len(text.encode("utf-16-le")) // 2  # Yjs counts UTF-16 units
    assert client.text == text
    client.insert(0, "after")  # and it edits as usual
    second = clients.open("large", editor)
    second.wait_text("after" + text, timeout=20)

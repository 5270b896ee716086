"""A document larger than the frame and outbox limits reaches a new client whole."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.test import override_settings
from pycrdt import Doc, Text

from collab import store
from collab.models import Document
from collab.protocol import SyncStep2, SyncUpdate, decode_message, encode_sync_step1
from collab.registry import RoomRegistry
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)

SMALL_LIMITS = {"MAX_FRAME_BYTES": 16 * 1024, "MAX_OUTBOX_BYTES": 64 * 1024}


def large_text() -> tuple[bytes, str]:
    """A document of about 300 KB: several writers' paragraphs."""
    writers = [Doc() for _ in range(3)]
    for number in range(300):
        writer = writers[number % 3]
        for other in writers:
            writer.apply_update(other.get_update(writer.get_state()))
        writer.get("content", type=Text).insert(0, f"{number:04d}" + "paragraph " * 100)
    last = writers[299 % 3]
    return last.get_update(), str(last.get("content", type=Text))


async def test_a_new_client_gets_the_whole_document_in_frames_within_the_limit(
    editor: User, rooms: RoomRegistry
) -> None:
    state, text = large_text()
    document = await Document.objects.acreate(key="large")
    await database_sync_to_async(store.append_updates)(document.pk, [state])
    with override_settings(COLLAB=SMALL_LIMITS):
        client = Client("large", editor)
        connected, _ = await client.communicator.connect()
        assert connected
        await client.receive()  # the server's sync step 1
        await client.send(encode_sync_step1(client.doc.get_state()))
        frames = 0
        while True:
            frame = await client.communicator.receive_from(5)
            assert isinstance(frame, bytes)
            assert len(frame) <= SMALL_LIMITS["MAX_FRAME_BYTES"]
            frames += 1
            message = decode_message(frame)
            client.apply(message)
            if isinstance(message, SyncStep2):
                break
            assert isinstance(message, SyncUpdate)
        assert frames > 300_000 / SMALL_LIMITS["MAX_FRAME_BYTES"]
        assert str(client.text) == text
        await client.disconnect()

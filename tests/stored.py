"""Read what the database holds for a document, for assertions."""

from __future__ import annotations

import asyncio
import time

from channels.db import database_sync_to_async
from pycrdt import Doc, Text, merge_updates

from collab import store
from collab.models import Document
from tests.e2e.waiting import wait_until


def stored_text(key: str, field: str = "content") -> str:
    """The text of ``field`` in the stored document ``key`` (empty if nothing stored)."""
    document = Document.objects.get(key=key)
    updates = store.load_updates(document.pk)
    doc: Doc[Text] = Doc()
    if updates:
        doc.apply_update(merge_updates(*updates))
    return str(doc.get(field, type=Text))


async def wait_for_stored_text(key: str, expected: str, within: float = 1.0) -> None:
    """Poll the database until document ``key`` holds ``expected`` or ``within`` s pass."""
    deadline = time.monotonic() + within
    while True:
        text = await database_sync_to_async(stored_text)(key)
        if text == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"stored text is {text!r}, expected {expected!r}")
        await asyncio.sleep(0.02)


def wait_until_stored(key: str, expected: str, timeout: float) -> None:
    """Wait until the database holds ``expected`` as document ``key``'s text."""
    wait_until(
        lambda: stored_text(key) == expected,
        timeout,
        lambda: f"stored {stored_text(key)!r}, expected {expected!r}",
    )

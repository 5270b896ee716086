"""Editing with stock y-websocket clients: convergence, late joiners, read-only users."""

from __future__ import annotations

import random
import time

import pytest
from django.contrib.auth.models import User

from tests.e2e.node import Clients
from tests.e2e.server import ServerProcess
from tests.e2e.waiting import wait_until
from tests.stored import wait_until_stored

pytestmark = pytest.mark.e2e

EDITORS = 6
INSERTS_EACH = 30
FIRST_CHAR = 0x4E00
"""Every insert is one distinct CJK character (one UTF-16 unit), so each can be found."""


def test_concurrent_inserts_converge_and_are_stored(clients: Clients, editor: User) -> None:
    """Interleaved inserts at random positions converge everywhere and in the database."""
    peers = [clients.open("convergence", editor) for _ in range(EDITORS)]
    lengths = [0] * EDITORS
    inserted = []
    for round_number in range(INSERTS_EACH):
        for number, peer in enumerate(peers):
            char = chr(FIRST_CHAR + number * INSERTS_EACH + round_number)
            lengths[number] = peer.insert(random.randint(0, lengths[number]), char)
            inserted.append(char)
    last_edit = time.monotonic()

    converged = peers[0].wait(
        lambda snapshot: sorted(snapshot["text"]) == sorted(inserted), "text with every insert"
    )["text"]
    for peer in peers[1:]:
        peer.wait_text(converged)
    wait_until_stored("convergence", converged, last_edit + 1.0 - time.monotonic())


def test_late_joiner_receives_document_after_room_unloaded(
    clients: Clients, server: ServerProcess, editor: User
) -> None:
    """A client joining after everyone left and the room unloaded gets the whole text."""
    first = clients.open("late-joiner", editor)
    second = clients.open("late-joiner", editor)
    first.insert(0, "hello world")
    second.wait_text("hello world")
    second.delete(0, len("hello "))
    second.insert(len("world"), "!")
    first.wait_text("world!")
    first.close()
    second.close()
    unloaded = "collab: unloaded document 'late-joiner'"
    wait_until(lambda: unloaded in server.log_text(), 3.0, lambda: f"no {unloaded!r} logged")

    assert clients.open("late-joiner", editor).text == "world!"


def test_reader_receives_but_cannot_edit(clients: Clients, editor: User, reader: User) -> None:
    """A read-only client syncs and follows edits; its own edit is refused and goes nowhere."""
    writer = clients.open("read-only", editor)
    writer.insert(0, "draft")
    watcher = clients.open("read-only", reader)
    watcher.wait_text("draft")
    writer.insert(len("draft"), " one")
    watcher.wait_text("draft one")
    denials = watcher.wait(lambda snapshot: snapshot["denials"], "permission denied on join")
    assert denials["denials"][0].startswith("Permission denied")

    watcher.insert(0, "X")
    watcher.wait(lambda snapshot: len(snapshot["denials"]) == 2, "permission denied for its edit")
    writer.insert(len("draft one"), " two")
    watcher.wait_text("Xdraft one two")
    wait_until_stored("read-only", "draft one two", 1.0)
    assert writer.text == "draft one two"
    assert clients.open("read-only", editor).text == "draft one two"

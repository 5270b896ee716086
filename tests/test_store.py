"""The update log and snapshots in the database."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import override_settings
from pycrdt import Doc, Text, merge_updates

from collab import store
from collab.models import Document, DocumentSnapshot, DocumentUpdate

pytestmark = pytest.mark.django_db


def edits(*chunks: str) -> list[bytes]:
    """One Yjs update per chunk, each appending it to the "content" text."""
    doc: Doc[Text] = Doc()
    text = doc.get("content", type=Text)
    updates = []
    for chunk in chunks:
        state = doc.get_state()
        text += chunk
        updates.append(doc.get_update(state))
    return updates


def text_of(updates: list[bytes]) -> str:
    doc: Doc[Text] = Doc()
    if updates:
        doc.apply_update(merge_updates(*updates))
    return str(doc.get("content", type=Text))


def test_batch_is_one_log_row_and_loads_back() -> None:
    document = store.create_document("d")
    assert store.append_updates(document.pk, edits("a", "b", "c")) == 1
    assert DocumentUpdate.objects.count() == 1
    assert text_of(store.load_updates(document.pk)) == "abc"


def test_create_document_is_idempotent() -> None:
    assert store.create_document("same").pk == store.create_document("same").pk
    assert store.get_document("same") is not None
    assert store.get_document("other") is None


def test_compaction_merges_log_into_snapshot() -> None:
    document = store.create_document("c")
    first, second, third = edits("x", "y", "z")
    store.append_updates(document.pk, [first])
    store.append_updates(document.pk, [second])
    snapshot = store.compact(document.pk)
    assert snapshot is not None
    assert DocumentUpdate.objects.count() == 0
    store.append_updates(document.pk, [third])
    assert len(store.load_updates(document.pk)) == 2
    assert text_of(store.load_updates(document.pk)) == "xyz"
    assert store.compact(Document.objects.get(key="c").pk) is not None
    assert text_of(store.load_updates(document.pk)) == "xyz"


def test_compacting_an_empty_log_does_nothing() -> None:
    document = store.create_document("empty")
    assert store.compact(document.pk) is None
    assert store.load_updates(document.pk) == []


def test_duplicate_updates_are_stored_once_after_compaction() -> None:
    document = store.create_document("dup")
    (update,) = edits("once")
    store.append_updates(document.pk, [update, update])
    store.append_updates(document.pk, [update])
    store.compact(document.pk)
    assert text_of(store.load_updates(document.pk)) == "once"


@override_settings(COLLAB={"SNAPSHOT_RETENTION": 2})
def test_old_snapshots_are_pruned() -> None:
    document = store.create_document("r")
    for update in edits("1", "2", "3", "4"):
        store.append_updates(document.pk, [update])
        store.compact(document.pk)
    kept = DocumentSnapshot.objects.filter(document=document)
    assert kept.count() == 2
    assert text_of(store.load_updates(document.pk)) == "1234"


def test_append_touches_updated_at() -> None:
    document = store.create_document("t")
    before = document.updated_at
    store.append_updates(document.pk, edits("!"))
    document.refresh_from_db()
    assert document.updated_at > before


@pytest.mark.django_db(transaction=True)
def test_concurrent_compactions_lose_nothing() -> None:
    """Two processes appending and compacting one document at once (threads here)."""
    document = store.create_document("race")
    tokens = {worker: [f"<{worker}{i}>" for i in range(15)] for worker in ("a", "b")}
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def work(worker: str) -> None:
        try:
            barrier.wait()
            for update in edits(*tokens[worker]):
                store.append_updates(document.pk, [update])
                store.compact(document.pk)
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(worker,)) for worker in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    text = text_of(store.load_updates(document.pk))
    for token in tokens["a"] + tokens["b"]:
        assert text.count(token) == 1, token
    assert len(text) == sum(len(t) for t in tokens["a"] + tokens["b"])
    assert not DocumentUpdate.objects.filter(
        document=document, id__lte=DocumentSnapshot.objects.latest().last_update_id
    ).exists()


def deleting(updates: list[bytes], start: int, length: int) -> bytes:
    """An update deleting ``length`` characters at ``start`` of the text ``updates`` make."""
    doc: Doc[Text] = Doc()
    for update in updates:
        doc.apply_update(update)
    state = doc.get_state()
    del doc.get("content", type=Text)[start : start + length]
    return doc.get_update(state)


def gap_in_insertions() -> tuple[list[bytes], list[bytes]]:
    """A missing insertion, and a stored one that continues it."""
    lost, kept = edits("lost ", "kept")
    return [lost], [kept]


def gap_before_a_deletion() -> tuple[list[bytes], list[bytes]]:
    """A missing insertion, and a stored deletion of part of it."""
    lost = edits("lost ")
    return lost, [deleting(lost, 0, 2)]


@pytest.mark.parametrize("missing_and_stored", [gap_in_insertions, gap_before_a_deletion])
def test_compaction_keeps_rows_that_wait_for_a_missing_row(
    missing_and_stored: Callable[[], tuple[list[bytes], list[bytes]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A row that depends on one the log lacks is kept, not dropped by a snapshot.

    pycrdt keeps such content pending and leaves it out of what it encodes, so a
    snapshot made of it would lose it for good.
    """
    document = store.create_document("gap")
    before = edits("before ")
    store.append_updates(document.pk, before)
    store.compact(document.pk)
    missing, stored = missing_and_stored()
    store.append_updates(document.pk, stored)
    with caplog.at_level(logging.ERROR, logger="collab.store"):
        assert store.compact(document.pk) is None
    assert DocumentUpdate.objects.filter(document=document).count() == 1
    assert "'gap'" in caplog.text
    store.append_updates(document.pk, missing)
    assert store.compact(document.pk) is not None
    assert DocumentUpdate.objects.filter(document=document).count() == 0
    assert text_of(store.load_updates(document.pk)) == text_of([*before, *missing, *stored])


def test_a_named_version_of_a_log_with_a_gap_keeps_the_rows() -> None:
    """A named version is made of what can be shown; the rows stay for the next load."""
    document = store.create_document("named-gap")
    first, second = edits("lost ", "kept")
    store.append_updates(document.pk, [second])
    version = store.compact(document.pk, name="v1")
    assert version is not None
    assert text_of([bytes(version.state)]) == ""
    assert DocumentUpdate.objects.filter(document=document).count() == 1
    store.append_updates(document.pk, [first])
    assert text_of(store.load_updates(document.pk)) == "lost kept"

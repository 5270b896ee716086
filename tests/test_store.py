"""The update log and snapshots in the database."""

from __future__ import annotations

import pytest
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

"""The management commands collab_compact, collab_export, collab_import and collab_stats."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from pycrdt import Text

from collab import content, documents, presence, store, versions
from collab.html import to_html
from collab.models import Document, DocumentSnapshot, DocumentUpdate
from tests.rich_text import RICH_HTML, RICH_UPDATE

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> str:
    """Run a command; return what it printed."""
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def with_log(key: str, text: str) -> Document:
    """A document whose content is one update-log row (no snapshot yet)."""
    document = Document.objects.create(key=key)
    doc = content.load(b"")
    doc.get("content", type=Text).insert(0, text)
    store.append_updates(document.pk, [doc.get_update()])
    return document


def write(key: str, text: str) -> None:
    with documents.edit(key) as doc:
        doc.get("content", type=Text).insert(0, text)


def test_compact_named_documents() -> None:
    first = with_log("first", "a")
    with_log("second", "b")
    Document.objects.create(key="empty")

    output = run("collab_compact", "first", "empty")

    snapshot = DocumentSnapshot.objects.get(document=first)
    assert output == f"first: snapshot of {snapshot.size}\xa0bytes\nempty: nothing to compact\n"
    assert not DocumentUpdate.objects.filter(document=first).exists()
    assert DocumentUpdate.objects.filter(document__key="second").count() == 1


def test_compact_all() -> None:
    with_log("first", "a")
    with_log("second", "b")
    output = run("collab_compact", "--all")
    sizes = {snapshot.document.key: snapshot.size for snapshot in DocumentSnapshot.objects.all()}
    assert output.splitlines() == [
        f"first: snapshot of {sizes['first']}\xa0bytes",
        f"second: snapshot of {sizes['second']}\xa0bytes",
    ]
    assert not DocumentUpdate.objects.exists()


@pytest.mark.parametrize("args", [(), ("first", "--all")])
def test_compact_needs_keys_or_all(args: tuple[str, ...]) -> None:
    with pytest.raises(CommandError, match="Name the documents to compact, or pass --all"):
        run("collab_compact", *args)


def test_compact_unknown_key_changes_nothing() -> None:
    with_log("first", "a")
    with pytest.raises(CommandError, match="No document with the key 'nope', 'gone'"):
        run("collab_compact", "first", "nope", "gone")
    assert not DocumentSnapshot.objects.exists()


def test_export_text_json_and_html_to_stdout() -> None:
    documents.replace("rich", RICH_UPDATE)
    doc = documents.read("rich")
    assert run("collab_export", "rich", "--format", "text") == content.text_of(doc)
    roots = json.loads(run("collab_export", "rich", "--format", "json"))
    assert list(roots) == ["prosemirror"]
    assert roots["prosemirror"].startswith('<heading level="2">Title <&></heading><paragraph>')
    page = run("collab_export", "rich", "--format", "html")
    assert page.startswith("<!DOCTYPE html>")
    assert RICH_HTML in page


def test_export_yjs_to_file_and_import_it_back(tmp_path: Path) -> None:
    documents.replace("rich", RICH_UPDATE)
    target = tmp_path / "rich.yjs"
    assert run("collab_export", "rich", "-o", str(target)) == ""
    assert to_html(content.load(target.read_bytes())) == RICH_HTML

    assert run("collab_import", "copy", str(target)) == "Created copy.\n"
    assert to_html(documents.read("copy")) == RICH_HTML


def test_export_refuses_binary_to_a_text_stream() -> None:
    write("notes", "x")
    with pytest.raises(CommandError, match="write it to a file with -o"):
        run("collab_export", "notes")


def test_export_errors(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No document with the key 'nope'"):
        run("collab_export", "nope", "--format", "text")
    write("notes", "x")
    with pytest.raises(CommandError, match="Cannot write"):
        run("collab_export", "notes", "-o", str(tmp_path / "missing" / "notes.yjs"))


def test_import_text_creates_document(tmp_path: Path) -> None:
    source = tmp_path / "notes.md"
    source.write_text("# Notes\nsecond line\n")
    assert run("collab_import", "notes", str(source)) == "Created notes.\n"
    assert documents.read_text("notes") == "# Notes\nsecond line\n"


def test_import_replace(tmp_path: Path) -> None:
    write("notes", "old")
    document = Document.objects.get(key="notes")
    version = versions.create_version(document, "before")
    source = tmp_path / "notes.txt"
    source.write_text("new")

    with pytest.raises(CommandError, match=r"exists already\. Pass --replace"):
        run("collab_import", "notes", str(source))
    assert documents.read_text("notes") == "old"

    output = run("collab_import", "notes", str(source), "--replace")
    assert output == "Replaced the content of notes.\n"
    assert documents.read_text("notes") == "new"
    assert DocumentSnapshot.objects.filter(pk=version.pk).exists()


def test_import_format_overrides_the_file_name(tmp_path: Path) -> None:
    source = tmp_path / "looks-binary.yjs"
    source.write_text("plain words")
    with pytest.raises(CommandError, match="not a Yjs update that collab can read"):
        run("collab_import", "words", str(source))
    run("collab_import", "words", str(source), "--format", "text")
    assert documents.read_text("words") == "plain words"


@pytest.mark.parametrize(
    ("key", "name", "data", "message"),
    [
        ("../up", "a.txt", b"x", "'../up' is not a valid key"),
        ("k", "missing.txt", None, "Cannot read"),
        ("k", "bad.yjs", b"\x01\x02garbage", "bad.yjs: The file is not a Yjs update"),
        ("k", "latin.txt", "Grüße".encode("latin-1"), "latin.txt: The file is not UTF-8 text"),
    ],
)
def test_import_errors(
    tmp_path: Path, key: str, name: str, data: bytes | None, message: str
) -> None:
    source = tmp_path / name
    if data is not None:
        source.write_bytes(data)
    with pytest.raises(CommandError, match=message):
        run("collab_import", key, str(source))
    assert not Document.objects.exists()


def test_stats() -> None:
    alice = User.objects.create_user("alice")
    with_log("logged", "abc")
    write("compacted", "text")
    compacted = Document.objects.get(key="compacted")
    versions.create_version(compacted, "v1")
    presence.record_presences("process-a", {compacted.pk: [alice.pk, None]})
    snapshots = DocumentSnapshot.objects.all()
    snapshot_bytes = sum(snapshot.size for snapshot in snapshots)
    log_bytes = sum(len(row.data) for row in DocumentUpdate.objects.all())

    output = run("collab_stats")

    assert output.splitlines() == [
        "documents: 2",
        f"stored bytes: {snapshot_bytes + log_bytes}",
        f"snapshots: 2 ({snapshot_bytes} bytes)",
        "named versions: 1",
        f"log rows: 1 ({log_bytes} bytes)",
        "open now: 1",
        "  compacted: alice (2 connections)",
    ]


def test_stats_of_nothing() -> None:
    output: Any = run("collab_stats")
    assert output.splitlines()[:2] == ["documents: 0", "stored bytes: 0"]
    assert output.splitlines()[-1] == "open now: 0"

"""The document admin through Django's test client: list, editor, versions, files, delete."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template.defaultfilters import filesizeformat
from django.test import AsyncClient, Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pycrdt import Text

from collab import content, documents, presence, signals, store, versions
from collab.close_codes import CloseCode
from collab.html import to_html
from collab.models import Document, DocumentSnapshot, DocumentUpdate
from collab.protocol import SyncUpdate
from collab.registry import RoomRegistry
from tests.rich_text import RICH_HTML, RICH_UPDATE
from tests.test_widgets import configs
from tests.ws import connected

pytestmark = pytest.mark.django_db(transaction=True)


def url(view: str, *args: Any) -> str:
    return reverse(f"admin:collab_document_{view}", args=args)


def write(key: str, text: str, user: User | None = None) -> Document:
    """Append ``text`` to document ``key`` through the room, as ``user``."""
    with documents.edit(key, user=user) as doc:
        field = doc.get("content", type=Text)
        field.insert(len(field), text)
    return Document.objects.get(key=key)


def staff(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="collab", codename__in=codenames)
    )
    return user


@pytest.fixture
def viewer_client() -> Client:
    """Logged in as staff who may only view documents."""
    client = Client()
    client.force_login(staff("viewer", "view_document"))
    return client


def cell(html: str, column: str, row: int = 0) -> str:
    """The text of ``column`` in row ``row`` of the change list."""
    return re.findall(rf'<td class="field-{column}">(.*?)</td>', html)[row]


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_list_shows_key_title_size_and_change_time(admin_client: Client) -> None:
    document = write("notes", "first part")
    Document.objects.filter(pk=document.pk).update(title="Meeting notes")
    snapshot = document.snapshots.get()
    doc = content.load(bytes(snapshot.state))
    before = doc.get_state()
    doc.get("content", type=Text).insert(0, "more ")
    store.append_updates(document.pk, [doc.get_update(before)])
    log = DocumentUpdate.objects.get(document=document)

    html = admin_client.get(url("changelist")).content.decode()

    assert '<th class="field-key"><a href="' in html
    assert cell(html, "title") == "Meeting notes"
    assert cell(html, "size") == filesizeformat(len(snapshot.state) + len(log.data))
    assert re.search(r'<td class="field-updated_at[^"]*">', html)


def test_list_size_costs_the_same_queries_for_any_number_of_documents(
    admin_client: Client,
) -> None:
    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url("changelist")).status_code == 200
        return len(queries)

    write("one", "text")
    few = queries_for_list()
    for number in range(5):
        store.compact(write(f"more-{number}", "text" * number).pk)
    assert queries_for_list() == few


def test_list_shows_who_is_connected_now(admin_client: Client) -> None:
    alice = User.objects.create_user("alice")
    bob = User.objects.create_user("bob")
    busy = Document.objects.create(key="busy")
    stale = Document.objects.create(key="stale")
    Document.objects.create(key="quiet")
    presence.record_presences("process-a", {busy.pk: [alice.pk, None]})
    presence.record_presences("process-b", {busy.pk: [bob.pk, alice.pk]})
    presence.record_presences("process-a", {stale.pk: [bob.pk]})
    an_hour_ago = timezone.now() - timedelta(hours=1)
    stale.presence.update(updated_at=an_hour_ago)

    html = admin_client.get(url("changelist") + "?o=1").content.decode()

    keys = re.findall(r'<th class="field-key"><a href="[^"]*">([^<]*)</a>', html)
    assert keys == ["busy", "quiet", "stale"]
    assert [cell(html, "connected", row) for row in range(3)] == [
        "alice, bob (4 connections)",
        "-",
        "-",
    ]


def test_list_search(admin_client: Client) -> None:
    write("alpha-notes", "a")
    write("beta", "b")
    Document.objects.filter(key="beta").update(title="Quarterly plan")

    def found(query: str) -> list[str]:
        response = admin_client.get(url("changelist"), {"q": query})
        return sorted(document.key for document in response.context["cl"].result_list)

    assert found("alpha") == ["alpha-notes"]
    assert found("quarterly") == ["beta"]
    assert found("nothing") == []


def test_list_filters(admin_client: Client) -> None:
    named = write("named", "a")
    versions.create_version(named, "Release")
    store.compact(write("checkpointed", "b").pk)
    old = write("old", "c")
    Document.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=30))
    presence.record_presences("process-a", {old.pk: [None]})

    def found(**params: str) -> list[str]:
        response = admin_client.get(url("changelist"), params)
        assert response.status_code == 200
        return sorted(document.key for document in response.context["cl"].result_list)

    assert found(named="yes") == ["named"]
    assert found(named="no") == ["checkpointed", "old"]
    assert found(connected="yes") == ["old"]
    assert found(connected="no") == ["checkpointed", "named"]
    week_ago = (timezone.now() - timedelta(days=7)).isoformat()
    assert found(updated_at__gte=week_ago) == ["checkpointed", "named"]


def test_change_page_shows_live_editor_and_text_preview(admin_client: Client) -> None:
    plain = write("plain-doc", "Hello <preview>")
    documents.replace("rich-doc", RICH_UPDATE)
    rich = Document.objects.get(key="rich-doc")

    html = admin_client.get(url("change", plain.pk)).content.decode()
    assert configs(html) == [
        {
            "key": "plain-doc",
            "mode": "plain",
            "user": configs(html)[0]["user"],
            "readOnly": False,
            "label": "plain-doc",
            "offline": None,
        }
    ]
    assert '<pre class="collab-preview">Hello &lt;preview&gt;</pre>' in html
    assert "collab/collab-editor.mjs" in html
    assert f'href="{url("versions", plain.pk)}"' in html
    assert f'href="{url("export", plain.pk, "yjs")}"' in html

    html = admin_client.get(url("change", rich.pk)).content.decode()
    assert configs(html)[0]["mode"] == "rich"
    assert "Title &lt;&amp;&gt;\nplain bold" in html


def test_change_page_editor_is_read_only_for_viewers(viewer_client: Client) -> None:
    document = write("watched", "text")
    html = viewer_client.get(url("change", document.pk)).content.decode()
    assert configs(html)[0]["readOnly"] is True
    assert url("import") not in html


def test_add_page_creates_document_and_sends_signal(admin_client: Client) -> None:
    created: list[Document] = []

    def receiver(sender: object, document: Document, **kwargs: Any) -> None:
        created.append(document)

    signals.document_created.connect(receiver)
    try:
        response = admin_client.post(url("add"), {"key": "fresh", "title": "Fresh"})
    finally:
        signals.document_created.disconnect(receiver)
    assert response.status_code == 302
    assert [document.key for document in created] == ["fresh"]


def test_key_is_read_only_once_the_document_exists(admin_client: Client) -> None:
    document = write("fixed", "text")
    admin_client.post(url("change", document.pk), {"key": "moved", "title": "T"})
    document.refresh_from_db()
    assert (document.key, document.title) == ("fixed", "T")


@pytest.fixture
def history() -> tuple[Document, User, User]:
    """A document with checkpoints of edits by alice, then bob, then a version named by bob.

    Each server-side edit opens the document's room and compacts when it unloads.
    """
    alice = User.objects.create_user("alice")
    bob = User.objects.create_user("bob")
    document = write("history", "first", user=alice)
    write("history", " second", user=bob)
    versions.create_version(document, "Draft <1>", user=bob)
    return document, alice, bob


def test_versions_list(admin_client: Client, history: tuple[Document, User, User]) -> None:
    document, _, _ = history
    response = admin_client.get(url("versions", document.pk))
    html = response.content.decode()
    named, by_bob, by_alice = document.snapshots.all()

    rows = re.findall(r"<tr>\s*<th scope=\"row\">.*?</tr>", html, re.DOTALL)
    assert len(rows) == 3
    assert "<strong>Draft &lt;1&gt;</strong> (named by bob)" in rows[0]
    assert f"<td>{filesizeformat(len(named.state))}</td>" in rows[0]
    assert "Checkpoint" in rows[1]
    assert "<td>bob</td>" in rows[1]
    assert "Checkpoint" in rows[2]
    assert "<td>alice</td>" in rows[2]
    assert f"<td>{filesizeformat(len(by_alice.state))}</td>" in rows[2]
    assert url("version", document.pk, by_bob.pk) in rows[1]
    assert url("compare", document.pk, by_bob.pk) in rows[1]
    assert url("restore", document.pk, by_bob.pk) in rows[1]
    assert 'name="name"' in html


def test_versions_list_shows_deleted_authors_by_id(
    admin_client: Client, history: tuple[Document, User, User]
) -> None:
    document, alice, _ = history
    alice_id = alice.pk
    alice.delete()
    html = admin_client.get(url("versions", document.pk)).content.decode()
    assert f"<td>#{alice_id}</td>" in html


def test_create_named_version(admin_client: Client) -> None:
    document = write("to-name", "content")
    response = admin_client.post(url("versions", document.pk), {"name": "Release 1"}, follow=True)

    assert messages_of(response) == ["Saved version “Release 1”."]
    snapshot = DocumentSnapshot.objects.get(document=document, name="Release 1")
    assert (snapshot.name, snapshot.created_by) == ("Release 1", User.objects.get(username="admin"))
    assert content.text_of(content.load(bytes(snapshot.state))) == "content"


def test_create_named_version_needs_a_name(admin_client: Client) -> None:
    document = write("unnamed", "content")
    response = admin_client.post(url("versions", document.pk), {"name": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not DocumentSnapshot.objects.exclude(name="").exists()


def test_viewers_see_versions_but_cannot_change_them(
    viewer_client: Client, history: tuple[Document, User, User]
) -> None:
    document, _, _ = history
    snapshot = document.snapshots.last()
    assert snapshot is not None
    html = viewer_client.get(url("versions", document.pk)).content.decode()
    assert "Checkpoint" in html
    assert 'name="name"' not in html
    assert url("restore", document.pk, snapshot.pk) not in html
    assert viewer_client.get(url("version", document.pk, snapshot.pk)).status_code == 200
    assert viewer_client.get(url("compare", document.pk, snapshot.pk)).status_code == 200

    assert viewer_client.post(url("versions", document.pk), {"name": "x"}).status_code == 403
    assert viewer_client.post(url("restore", document.pk, snapshot.pk)).status_code == 403
    assert document.snapshots.count() == 3
    assert documents.read_text("history") == "first second"


def test_version_pages_need_view_permission(history: tuple[Document, User, User]) -> None:
    document, _, _ = history
    client = Client()
    client.force_login(staff("nobody"))
    assert client.get(url("versions", document.pk)).status_code == 403
    assert client.get(url("export", document.pk, "text")).status_code == 403


def test_version_of_another_document_is_not_found(
    admin_client: Client, history: tuple[Document, User, User]
) -> None:
    document, _, _ = history
    other = write("other", "x")
    snapshot = document.snapshots.first()
    assert snapshot is not None
    assert admin_client.get(url("version", other.pk, snapshot.pk)).status_code == 404
    assert admin_client.get(url("versions", 999999)).status_code == 404


def test_preview_plain_version(admin_client: Client, history: tuple[Document, User, User]) -> None:
    document, _, _ = history
    checkpoint = document.snapshots.last()
    assert checkpoint is not None
    html = admin_client.get(url("version", document.pk, checkpoint.pk)).content.decode()
    assert '<pre class="collab-version-text">first</pre>' in html
    assert '<div class="collab-version-html">' not in html


def test_preview_rich_version_as_html_and_text(admin_client: Client) -> None:
    documents.replace("rich", RICH_UPDATE)
    document = Document.objects.get(key="rich")
    snapshot = versions.create_version(document, "v1")
    html = admin_client.get(url("version", document.pk, snapshot.pk)).content.decode()
    assert f'<div class="collab-version-html">{RICH_HTML}</div>' in html
    assert "Title &lt;&amp;&gt;\nplain bold" in html


def test_compare_with_current_content(admin_client: Client) -> None:
    document = write("compared", "one\ntwo\nthree <b>")
    snapshot = versions.create_version(document, "before")
    documents.replace("compared", documents.read("compared").get_update())
    html = admin_client.get(url("compare", document.pk, snapshot.pk)).content.decode()
    assert "same as the current text" in html

    with documents.edit("compared") as doc:
        text = doc.get("content", type=Text)
        del text[:]
        text.insert(0, "one\n2\nthree <b>\nfour")
    html = admin_client.get(url("compare", document.pk, snapshot.pk)).content.decode()

    assert '<table class="diff"' in html
    assert '<span class="diff_sub">two</span>' in html
    assert '<span class="diff_add">2</span>' in html
    assert '<span class="diff_add">four</span>' in html
    assert "three &lt;b&gt;" in html
    assert "<b>" not in html.split('<table class="diff"')[1].split("</table>")[0]


def test_compare_escapes_the_version_name_and_lets_lines_wrap(admin_client: Client) -> None:
    document = write("named-badly", "a line with words")
    snapshot = versions.create_version(document, "<script>alert(1)</script>")
    write("named-badly", "new ")
    html = admin_client.get(url("compare", document.pk, snapshot.pk)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "a line with words" in html


def test_restore_version_is_a_forward_edit(admin_client: Client) -> None:
    document = write("restored", "original")
    snapshot = versions.create_version(document, "good")
    with documents.edit("restored") as doc:
        doc.get("content", type=Text).insert(0, "vandalised ")
    snapshots_before = set(document.snapshots.values_list("pk", flat=True))

    response = admin_client.post(url("restore", document.pk, snapshot.pk), follow=True)

    assert response.redirect_chain == [(url("versions", document.pk), 302)]
    assert messages_of(response) == [
        "Restored version “good” as a new edit; the earlier versions stay."
    ]
    assert documents.read_text("restored") == "original"
    snapshots = document.snapshots.all()
    assert snapshots_before < {snapshot.pk for snapshot in snapshots}
    texts = [content.text_of(content.load(bytes(snapshot.state))) for snapshot in snapshots]
    assert texts[:3] == ["original", "vandalised original", "original"]


def test_restore_needs_post(admin_client: Client, history: tuple[Document, User, User]) -> None:
    document, _, _ = history
    snapshot = document.snapshots.last()
    assert snapshot is not None
    assert admin_client.get(url("restore", document.pk, snapshot.pk)).status_code == 405
    assert documents.read_text("history") == "first second"


def test_restore_needs_csrf_token(history: tuple[Document, User, User]) -> None:
    document, _, _ = history
    snapshot = document.snapshots.last()
    assert snapshot is not None
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_superuser("root"))
    assert client.post(url("restore", document.pk, snapshot.pk)).status_code == 403
    assert documents.read_text("history") == "first second"


async def test_restore_reaches_connected_clients(rooms: RoomRegistry) -> None:
    """The admin's edit joins the room the client is in, in the same process."""
    admin = await User.objects.acreate_superuser("root")
    client = await connected("live", admin)
    await client.edit("draft")
    await until(lambda: room_text(rooms, "live") == "draft")
    document = await Document.objects.aget(key="live")
    snapshot = await database_sync_to_async(versions.create_version)(document, "v1")
    await client.edit(" and more")
    await until(lambda: room_text(rooms, "live") == "draft and more")
    browser = AsyncClient()
    await browser.aforce_login(admin)

    response = await browser.post(url("restore", document.pk, snapshot.pk))

    assert response.status_code == 302
    while str(client.text) != "draft":
        message = await client.receive()
        if isinstance(message, SyncUpdate):
            client.apply(message)


def room_text(rooms: RoomRegistry, key: str) -> str | None:
    room = rooms.get(key)
    return None if room is None else str(room.doc.get("content", type=Text))


async def until(check: Callable[[], bool], within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize(
    ("fmt", "content_type", "filename"),
    [
        ("yjs", "application/octet-stream", "exported.yjs"),
        ("text", "text/plain; charset=utf-8", "exported.txt"),
        ("json", "application/json", "exported.json"),
        ("html", "text/html; charset=utf-8", "exported.html"),
    ],
)
def test_export(admin_client: Client, fmt: str, content_type: str, filename: str) -> None:
    documents.replace("exported", RICH_UPDATE)
    document = Document.objects.get(key="exported")

    response = admin_client.get(url("export", document.pk, fmt))

    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    if fmt == "yjs":
        assert to_html(content.load(response.content)) == RICH_HTML
    elif fmt == "text":
        assert response.content.decode() == documents.read_text("exported")
    elif fmt == "json":
        roots = json.loads(response.content)
        assert list(roots) == ["prosemirror"]
        assert roots["prosemirror"].startswith('<heading level="2">Title <&></heading>')
    else:
        assert f"<body>\n{RICH_HTML}\n</body>" in response.content.decode()


def test_export_unknown_format(admin_client: Client) -> None:
    document = write("exported", "x")
    assert admin_client.get(url("export", document.pk, "pdf")).status_code == 404


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_import_creates_document_from_text(admin_client: Client) -> None:
    response = admin_client.post(
        url("import"),
        {"key": "imported", "title": "Imported", "file": upload("notes.txt", b"line\nline 2")},
        follow=True,
    )
    document = Document.objects.get(key="imported")
    assert response.redirect_chain == [(url("change", document.pk), 302)]
    assert messages_of(response) == ["Imported “Imported”."]
    assert document.title == "Imported"
    assert documents.read_json("imported") == {"content": "line\nline 2"}


def test_import_creates_document_from_yjs_update(admin_client: Client) -> None:
    response = admin_client.post(
        url("import"), {"key": "from-yjs", "file": upload("backup.yjs", RICH_UPDATE)}
    )
    assert response.status_code == 302
    assert to_html(documents.read("from-yjs")) == RICH_HTML


def test_import_replaces_existing_content(admin_client: Client) -> None:
    document = write("replaced", "old text")
    snapshot = versions.create_version(document, "before import")
    form = admin_client.get(url("import"), {"key": "replaced", "replace": "on"}).content.decode()
    assert 'value="replaced"' in form
    assert 'id="id_replace" checked' in form

    response = admin_client.post(
        url("import"),
        {"key": "replaced", "replace": "on", "format": "text", "file": upload("x.yjs", b"new")},
    )

    assert response.status_code == 302
    assert documents.read_text("replaced") == "new"
    assert DocumentSnapshot.objects.filter(pk=snapshot.pk).exists()
    assert Document.objects.get(key="replaced").title == ""


def test_import_over_existing_document_needs_replace(admin_client: Client) -> None:
    write("taken", "keep me")
    response = admin_client.post(url("import"), {"key": "taken", "file": upload("a.txt", b"x")})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "key": [
            "A document with the key 'taken' exists already. "
            "Tick “Replace existing content” to import over it."
        ]
    }
    assert documents.read_text("taken") == "keep me"


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        ("broken.yjs", b"this is not an update", "The file is not a Yjs update that collab"),
        ("empty.yjs", b"\x00\x00", "The update holds no text"),
        ("latin.txt", "Grüße".encode("latin-1"), "The file is not UTF-8 text."),
    ],
)
def test_import_rejects_bad_files(admin_client: Client, name: str, data: bytes, error: str) -> None:
    response = admin_client.post(url("import"), {"key": "bad", "file": upload(name, data)})
    assert response.status_code == 200
    assert response.context["form"].errors["file"][0].startswith(error)
    assert not Document.objects.filter(key="bad").exists()


def test_import_rejects_large_files(admin_client: Client) -> None:
    with override_settings(COLLAB={"MAX_FRAME_BYTES": 10}):
        response = admin_client.post(
            url("import"), {"key": "big", "file": upload("big.txt", b"x" * 11)}
        )
    assert response.context["form"].errors["file"] == [
        "The file is larger than 10\xa0bytes (MAX_FRAME_BYTES)."
    ]
    assert not Document.objects.filter(key="big").exists()


def test_import_rejects_bad_key(admin_client: Client) -> None:
    response = admin_client.post(url("import"), {"key": "../x", "file": upload("a.txt", b"x")})
    assert list(response.context["form"].errors) == ["key"]


def test_import_needs_add_or_change_permission(viewer_client: Client) -> None:
    assert viewer_client.get(url("import")).status_code == 403


def test_import_replace_needs_change_permission() -> None:
    write("guarded", "keep me")
    client = Client()
    client.force_login(staff("adder", "add_document", "view_document"))
    data = {"key": "guarded", "replace": "on", "file": upload("a.txt", b"x")}
    assert client.post(url("import"), data).status_code == 403
    assert documents.read_text("guarded") == "keep me"
    data = {"key": "allowed", "file": upload("a.txt", b"new")}
    assert client.post(url("import"), data).status_code == 302


async def test_delete_closes_live_sessions(rooms: RoomRegistry) -> None:
    admin = await User.objects.acreate_superuser("root")
    client = await connected("doomed", admin)
    document = await Document.objects.aget(key="doomed")
    browser = AsyncClient()
    await browser.aforce_login(admin)

    response = await browser.post(url("delete", document.pk), {"post": "yes"})

    assert response.status_code == 302
    assert await client.receive_close() == CloseCode.DOCUMENT_DELETED
    assert not await Document.objects.filter(key="doomed").aexists()

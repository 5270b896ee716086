"""A deleted document stays deleted: clients coming back get 4410, never a new document.

Creating the key again on purpose (the ORM, the admin's add form, ``collab.documents``,
an import) works and lifts the deletion.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as BrowserClient
from django.urls import reverse
from pycrdt import Text

from collab import documents
from collab.close_codes import CloseCode
from collab.models import DeletedKey, Document, DocumentUpdate
from collab.registry import RoomRegistry
from tests.ws import Client, connected

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_client_coming_back_to_a_deleted_document_is_refused(
    editor: User, rooms: RoomRegistry
) -> None:
    client = await connected("doomed", editor)
    await client.edit("the whole state a client would upload again")
    await Document.objects.filter(key="doomed").adelete()
    assert await client.receive_close() == CloseCode.DOCUMENT_DELETED

    for _ in range(3):  # stock y-websocket 1.x/2.x clients retry whatever the code
        assert await Client("doomed", editor).refused_with() == CloseCode.DOCUMENT_DELETED

    assert not await Document.objects.filter(key="doomed").aexists()
    assert not await DocumentUpdate.objects.filter(document__key="doomed").aexists()


async def test_a_key_never_deleted_is_still_created_on_connection(
    editor: User, rooms: RoomRegistry
) -> None:
    client = await connected("fresh", editor)
    assert await Document.objects.filter(key="fresh").aexists()
    await client.disconnect()


async def test_no_access_is_reported_before_the_deletion(
    outsider: User, rooms: RoomRegistry
) -> None:
    await DeletedKey.objects.acreate(key="secret")
    assert await Client("secret", outsider).refused_with() == CloseCode.FORBIDDEN


def test_deleting_remembers_the_key_in_the_deleting_transaction(editor: User) -> None:
    Document.objects.create(key="gone")
    Document.objects.filter(key="gone").delete()
    assert DeletedKey.objects.filter(key="gone").exists()


def test_the_orm_creates_a_deleted_key_again(editor: User) -> None:
    Document.objects.create(key="again").delete()
    Document.objects.create(key="again")
    assert not DeletedKey.objects.filter(key="again").exists()


async def test_a_recreated_key_accepts_clients_again(editor: User, rooms: RoomRegistry) -> None:
    document = await Document.objects.acreate(key="back")
    await document.adelete()
    await Document.objects.acreate(key="back")
    client = await connected("back", editor)
    await client.disconnect()


def test_the_document_api_creates_a_deleted_key_again(editor: User) -> None:
    Document.objects.create(key="api").delete()
    with documents.edit("api", user=editor) as doc:
        doc.get("content", type=Text).insert(0, "new life")
    assert documents.read_text("api") == "new life"
    assert not DeletedKey.objects.filter(key="api").exists()


def test_the_admin_add_form_and_import_create_a_deleted_key_again(editor: User) -> None:
    browser = BrowserClient()
    browser.force_login(User.objects.create_superuser("root"))
    Document.objects.create(key="added").delete()
    Document.objects.create(key="imported").delete()

    added = browser.post(reverse("admin:collab_document_add"), {"key": "added", "title": "A"})
    upload = SimpleUploadedFile("imported.txt", b"imported text")
    imported = browser.post(
        reverse("admin:collab_document_import"), {"key": "imported", "file": upload}
    )

    assert added.status_code == imported.status_code == 302
    assert documents.read_text("imported") == "imported text"
    assert not DeletedKey.objects.filter(key__in=["added", "imported"]).exists()

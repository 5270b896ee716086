"""A model field's document follows the model's permissions and starts from the column.

``demo.article.<pk>.body`` is the document of ``Article.body``, edited in the admin
with a rich-text ``CollaborativeEditor`` (``demo_project/demo/admin.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from django import forms
from django.contrib.auth.models import Permission, User
from django.db import connections
from django.test import Client as BrowserClient
from pycrdt import Text

from collab import documents, field_documents
from collab.close_codes import CloseCode
from collab.content import TEXT_ROOT, has_root
from collab.html import to_html
from collab.keys import split_field_key
from collab.models import DeletedKey, Document
from collab.protocol import PermissionDenied
from collab.registry import RoomRegistry
from collab.widgets import CollaborativeEditor, CollaborativeFormMixin
from demo_project.demo.models import Article
from tests.test_widgets import configs
from tests.ws import Client, connected

pytestmark = pytest.mark.django_db(transaction=True)

BODY = '<p>The column\u2019s <strong>original</strong> text, <a href="https://example.com">linked</a></p>'


def article_user(username: str, *codenames: str, staff: bool = False) -> User:
    """A user holding the given permissions (``app_label.codename``)."""
    user = User.objects.create_user(username, password="pw", is_staff=staff)
    for name in codenames:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return User.objects.get(pk=user.pk)


@pytest.fixture
def article() -> Article:
    return Article.objects.create(title="News", body=BODY)


@pytest.fixture
def collab_editor(transactional_db: None) -> User:
    """May edit every collab document, but has no permission on articles."""
    return article_user("collab_editor", "collab.change_document", "collab.view_document")


@pytest.fixture
def article_editor(transactional_db: None) -> User:
    """Staff who may change articles, without any collab permission."""
    return article_user("article_editor", "demo.change_article", "demo.view_article", staff=True)


@pytest.fixture
def article_viewer(transactional_db: None) -> User:
    return article_user("article_viewer", "demo.view_article", staff=True)


def key_of(article: Article) -> str:
    return f"demo.article.{article.pk}.body"


def test_split_field_key() -> None:
    assert split_field_key("demo.article.1.body") == ("demo", "article", "1", "body")
    assert split_field_key("demo.article.a.b.body") == ("demo", "article", "a.b", "body")
    assert split_field_key("meeting-notes") is None
    assert split_field_key("a.b.c") is None
    assert split_field_key("a..1.body") is None


def test_only_keys_naming_a_concrete_field_of_an_installed_model_are_field_documents() -> None:
    found = field_documents.field_document("demo.article.7.body")
    assert found is not None
    assert (found.model, found.pk, found.field.name) == (Article, "7", "body")
    assert field_documents.field_document("demo.article.7.nothing") is None
    assert field_documents.field_document("nosuchapp.article.7.body") is None
    assert field_documents.field_document("notes.v2.final.txt") is None
    assert field_documents.field_document("collab.documentupdate.1.document") is None


async def test_collab_permission_does_not_reach_into_the_model(
    article: Article, collab_editor: User, rooms: RoomRegistry
) -> None:
    assert await Client(key_of(article), collab_editor).refused_with() == CloseCode.FORBIDDEN
    assert not await Document.objects.filter(key=key_of(article)).aexists()


async def test_model_change_permission_edits_without_collab_permission(
    article: Article, article_editor: User, rooms: RoomRegistry
) -> None:
    client = await connected(key_of(article), article_editor)
    client.doc.get(TEXT_ROOT, type=Text)  # the client edits; the server keeps it
    await client.edit(" and more")
    await client.disconnect()
    await rooms.close_all()
    doc = await documents.aread(key_of(article))
    assert str(doc.get(TEXT_ROOT, type=Text)) == " and more"


async def test_model_view_permission_reads_only(
    article: Article, article_editor: User, article_viewer: User, rooms: RoomRegistry
) -> None:
    await Document.objects.acreate(key=key_of(article))
    viewer = Client(key_of(article), article_viewer)
    others = await viewer.connect()
    assert any(isinstance(message, PermissionDenied) for message in others)
    await viewer.disconnect()


async def test_a_missing_object_has_no_field_document(
    article_editor: User, rooms: RoomRegistry
) -> None:
    refused = await Client("demo.article.999.body", article_editor).refused_with()
    assert refused == CloseCode.FORBIDDEN


async def test_the_first_opener_over_the_websocket_sees_the_column(
    article: Article, article_editor: User, rooms: RoomRegistry
) -> None:
    first, second = await asyncio.gather(
        connected(key_of(article), article_editor), connected(key_of(article), article_editor)
    )
    for client in (first, second):
        assert str(to_html(client.doc)) == BODY
        await client.disconnect()


def test_the_documents_api_starts_from_the_column_too(article: Article) -> None:
    with documents.edit(key_of(article)):
        pass
    assert str(to_html(documents.read(key_of(article)))) == BODY


@pytest.fixture
def plain_notes() -> Iterator[None]:
    """Article.body registered as a plain-text field (as a form outside the admin would)."""
    field_documents.register(Article, "body", "plain")
    yield
    del field_documents._modes[("demo.article", "body")]


def test_a_registered_plain_field_starts_as_text(article: Article, plain_notes: None) -> None:
    with documents.edit(key_of(article)) as doc:
        pass
    assert str(doc.get(TEXT_ROOT, type=Text)) == BODY


def test_an_unregistered_field_is_not_filled(transactional_db: None) -> None:
    user = User.objects.create_user("someone", password="secret")
    key = f"auth.user.{user.pk}.password"
    Document.objects.create(key=key)
    assert not has_root(documents.read(key), TEXT_ROOT)


class ArticleForm(CollaborativeFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Article
        fields = ("body",)
        widgets = {"body": CollaborativeEditor(mode="rich")}


def test_an_editor_gets_the_live_editor_and_a_filled_document(
    article: Article, article_editor: User
) -> None:
    html = str(ArticleForm(instance=article, collab_user=article_editor)["body"])
    [config] = configs(html)
    assert config["key"] == key_of(article)
    assert config["readOnly"] is False
    assert str(to_html(documents.read(key_of(article)))) == BODY


def test_a_viewer_sees_the_content_read_only_with_a_sentence(
    article: Article, article_viewer: User
) -> None:
    article.body = '<p>Safe <a href="javascript:alert(1)">link</a></p><script>x</script>'
    article.save()
    html = str(ArticleForm(instance=article, collab_user=article_viewer)["body"])
    assert configs(html) == []
    assert "Read-only: you can read this text but not change it." in html
    assert '<div class="collab-read-only-content"><p>Safe link</p></div>' in html
    assert "<textarea" in html
    assert " hidden>" in html
    assert not Document.objects.filter(key=key_of(article)).exists()


def test_a_reader_sees_the_shared_document_rather_than_the_column(
    article: Article, article_editor: User, article_viewer: User
) -> None:
    with documents.edit(key_of(article)) as doc:
        doc.get(TEXT_ROOT, type=Text).insert(0, "ignored by the rich view")
    article.body = "<p>stale column</p>"
    article.save()
    html = str(ArticleForm(instance=article, collab_user=article_viewer)["body"])
    shown = html.split('<div class="collab-read-only-content">')[1].split("</div>")[0]
    assert "<strong>original</strong>" in shown
    assert "stale column" not in shown


def test_a_user_without_access_sees_the_content_and_why(
    article: Article, collab_editor: User
) -> None:
    html = str(ArticleForm(instance=article, collab_user=collab_editor)["body"])
    assert configs(html) == []
    assert "Read-only: you don&#x27;t have permission to change this text." in html
    assert "<strong>original</strong>" in html


def test_staff_with_the_model_permission_edit_in_the_admin(
    article: Article, article_editor: User
) -> None:
    browser = BrowserClient()
    browser.force_login(article_editor)
    page = browser.get(f"/admin/demo/article/{article.pk}/change/").content.decode()
    [config] = configs(page)
    assert config["key"] == key_of(article)
    assert config["readOnly"] is False


async def test_a_deleted_field_document_is_created_again_by_an_editor_opening_the_form(
    article: Article, article_editor: User, rooms: RoomRegistry
) -> None:
    document = await Document.objects.acreate(key=key_of(article))
    await document.adelete()
    assert await Client(key_of(article), article_editor).refused_with() == 4410

    form = ArticleForm(instance=article, collab_user=article_editor)

    def render() -> str:
        try:
            return str(form["body"])
        finally:
            connections.close_all()  # this thread's connection, before the thread ends

    await asyncio.to_thread(render)

    assert not await DeletedKey.objects.filter(key=key_of(article)).aexists()
    client = await connected(key_of(article), article_editor)
    assert str(to_html(client.doc)) == BODY
    await client.disconnect()


def test_staff_with_the_model_view_permission_see_the_content_in_the_admin(
    article: Article, article_viewer: User
) -> None:
    browser = BrowserClient()
    browser.force_login(article_viewer)
    page = browser.get(f"/admin/demo/article/{article.pk}/change/").content.decode()
    assert configs(page) == []
    assert "Read-only: you can read this text but not change it." in page
    assert f'<div class="collab-read-only-content">{BODY}</div>' in page
    assert '<div class="readonly">&lt;p&gt;' not in page

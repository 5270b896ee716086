"""The editor widget, its form and admin binding, and the {% collab_editor %} tag, as HTML."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django import forms
from django.contrib.auth.models import AnonymousUser, User
from django.template import engines
from django.test import Client, RequestFactory, override_settings

from collab.models import Document
from collab.user_info import user_info
from collab.widgets import (
    CollaborativeEditor,
    CollaborativeFormMixin,
    document_key,
)

CONFIG = re.compile(r'data-collab-editor="([^"]*)"')


def configs(html: str) -> list[dict[str, Any]]:
    """The ``data-collab-editor`` options of every editor in ``html``."""
    unescaped = (
        match.replace("&quot;", '"').replace("&amp;", "&") for match in CONFIG.findall(html)
    )
    return [json.loads(value) for value in unescaped]


class TitleForm(CollaborativeFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Document
        fields = ("title",)
        widgets = {"title": CollaborativeEditor(mode="plain")}


def test_widget_renders_hidden_field_and_options() -> None:
    widget = CollaborativeEditor(mode="plain", key="notes")
    html = widget.render("body", "Hello <world>", attrs={"id": "id_body"})
    assert '<textarea name="body" cols="40" rows="10" id="id_body" hidden>' in html
    assert "Hello &lt;world&gt;</textarea>" in html
    assert configs(html) == [
        {
            "key": "notes",
            "mode": "plain",
            "user": None,
            "readOnly": False,
            "label": "",
            "offline": None,
        }
    ]
    assert "required" not in html


def test_widget_disabled_is_read_only() -> None:
    html = CollaborativeEditor(key="notes").render("body", "", attrs={"disabled": True})
    assert configs(html)[0]["readOnly"] is True


def test_widget_media_is_the_bundle_as_a_module() -> None:
    media = str(CollaborativeEditor().media)
    assert '<link href="/static/collab/collab-editor.css" media="all" rel="stylesheet">' in media
    assert '<script src="/static/collab/collab-editor.mjs" type="module"></script>' in media


def test_widget_rejects_unknown_mode_and_missing_key() -> None:
    with pytest.raises(ValueError, match="unknown editor mode"):
        CollaborativeEditor(mode="markdown")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no document key"):
        CollaborativeEditor().render("body", "")


@pytest.mark.django_db
def test_document_key_from_instance_and_field() -> None:
    document = Document.objects.create(key="k")
    assert document_key(document, "title") == f"collab.document.{document.pk}.title"
    assert document_key(Document(), "title") is None
    document.pk = "a b"
    with pytest.raises(ValueError, match="not a valid document key"):
        document_key(document, "title")


@pytest.mark.django_db
def test_model_form_binds_instance_and_user(editor: User, reader: User) -> None:
    document = Document.objects.create(key="k", title="Seed text")
    [config] = configs(str(TitleForm(instance=document, collab_user=editor)["title"]))
    assert config == {
        "key": f"collab.document.{document.pk}.title",
        "mode": "plain",
        "user": user_info(editor),
        "readOnly": False,
        "label": "",
        "offline": None,
    }
    read_only = str(TitleForm(instance=document, collab_user=reader)["title"])
    assert configs(read_only) == []
    assert "Read-only: you can read this text but not change it." in read_only
    assert "<pre>Seed text</pre>" in read_only
    html = str(TitleForm(instance=document)["title"])
    assert configs(html)[0]["user"] is None
    assert ">\nSeed text</textarea>" in html


@pytest.mark.django_db
def test_offline_mode_is_scoped_per_logged_in_user(editor: User, reader: User) -> None:
    def offline(source: str, user: User | AnonymousUser) -> object:
        return configs(render_tag(source, user))[0]["offline"]

    tag = '{% collab_editor "notes" offline=True %}'
    assert re.fullmatch(r"[0-9a-f]{20}", str(offline(tag, editor)))
    assert offline(tag, editor) == offline(tag, editor)
    assert offline(tag, editor) != offline(tag, reader)
    assert offline(tag, editor) != str(editor.pk)  # derived with SECRET_KEY: it names nobody
    assert offline(tag, AnonymousUser()) is None
    assert offline('{% collab_editor "notes" %}', editor) is None
    widget = CollaborativeEditor(key="notes", offline=True)
    widget.bind("notes", editor)
    assert configs(widget.render("body", ""))[0]["offline"] == offline(tag, editor)
    widget.bind(None, editor)
    assert configs(widget.render("body", ""))[0]["offline"] is None


@pytest.mark.django_db
def test_unsaved_instance_edits_locally_and_saves_the_submitted_content() -> None:
    [config] = configs(str(TitleForm()["title"]))
    assert config["key"] is None
    form = TitleForm({"title": "Written before the first save"})
    assert form.is_valid()
    assert form.save().title == "Written before the first save"


def test_presence_user_info() -> None:
    alice, bob = (
        User(pk=1, username="alice"),
        User(pk=2, username="bob", first_name="Bob", last_name="B"),
    )
    assert user_info(alice)["name"] == "alice"
    assert user_info(bob)["name"] == "Bob B"
    assert user_info(alice) == user_info(User(pk=1, username="alice"))
    assert re.fullmatch(r"#[0-9a-f]{6}", user_info(alice)["color"])
    assert user_info(alice)["color"] != user_info(bob)["color"]
    assert user_info(AnonymousUser()) == {"name": "Anonymous", "color": "#6e7781"}


def render_tag(source: str, user: User | AnonymousUser, **context: Any) -> str:
    request = RequestFactory().get("/")
    request.user = user
    template = engines["django"].from_string("{% load collab %}" + source)
    return template.render(context, request)


@pytest.mark.django_db
def test_template_tag_for_document_or_key(editor: User, reader: User) -> None:
    document = Document.objects.create(key="minutes", title="Minutes")
    html = render_tag("{% collab_editor document %}", editor, document=document)
    assert configs(html) == [
        {
            "key": "minutes",
            "mode": "rich",
            "user": user_info(editor),
            "readOnly": False,
            "label": "Minutes",
            "offline": None,
        }
    ]
    assert 'src="/static/collab/collab-editor.mjs" type="module"' in html
    assert "collab-editor.css" in html
    [config] = configs(
        render_tag('{% collab_editor "minutes" mode="plain" label="Notes" %}', reader)
    )
    assert config["mode"] == "plain"
    assert config["label"] == "Notes"
    assert config["readOnly"] is True


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.browser.urls")
def test_admin_change_form_edits_the_field_live() -> None:
    editor = User.objects.create_superuser("admin", password="pw")
    document = Document.objects.create(key="k", title="Agenda")
    browser = Client()
    browser.force_login(editor)
    page = browser.get(f"/admin/collab/document/{document.pk}/change/").content.decode()
    [config] = configs(page)
    assert config["key"] == f"collab.document.{document.pk}.title"
    assert config["user"] == user_info(editor)
    assert ">\nAgenda</textarea>" in page
    assert "collab/collab-editor.mjs" in page
    add_page = browser.get("/admin/collab/document/add/").content.decode()
    assert configs(add_page)[0]["key"] is None
    browser.post(f"/admin/collab/document/{document.pk}/change/", {"title": "Agenda, edited"})
    document.refresh_from_db()
    assert document.title == "Agenda, edited"

"""Content nested 20,000 deep: every reader of content answers, none recurses.

Such content can be stored before ``MAX_DEPTH`` refused it at the door, be written
through the ORM, or become too deep when the setting is lowered. Calls that used to
overflow a stack run in a child process (:mod:`tests.isolated`), so a regression fails
its test instead of ending the run.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from pycrdt import Doc, Text, XmlElement, XmlFragment, XmlText

from collab import content, documents
from collab.conf import conf
from collab.exceptions import ImportRejected
from collab.exports import export, prepare_import
from collab.html import to_html
from tests.deep_content import (
    BOTTOM,
    DEPTH,
    OVERFLOW_DEPTH,
    deep_rich_update,
    deep_rich_xml,
    store_deep_document,
)
from tests.isolated import call_isolated


def flattened_html(depth: int, bound: int) -> str:
    """The HTML of :func:`deep_rich_update`: tags down to ``bound`` levels, then text only."""
    shown = min(depth, bound)
    paragraph = f"<p>{BOTTOM}</p>" if depth < bound else BOTTOM
    return "<blockquote>" * shown + paragraph + "</blockquote>" * shown


def json_of_deep(depth: int) -> dict[str, str]:
    return content.to_json(content.load(deep_rich_update(depth)))


def exports_of_deep(depth: int) -> dict[str, str]:
    doc = content.load(deep_rich_update(depth))
    return {fmt: export(doc, fmt).data.decode() for fmt in ("text", "json", "html")}


def replace_with_deep(depth: int) -> dict[str, str]:
    target: Doc[Any] = Doc()
    target.get(content.TEXT_ROOT, type=Text).insert(0, "old text")
    paragraph = XmlElement("paragraph", contents=[XmlText("old rich text")])
    target.get(content.RICH_TEXT_ROOT, type=XmlFragment).children.append(paragraph)
    content.replace(target, content.load(deep_rich_update(depth)))
    return content.to_json(target)


def import_deep(key: str, depth: int) -> str:
    try:
        prepare_import(key, deep_rich_update(depth), "yjs", replace=False)
    except ImportRejected as exc:
        return str(exc)
    return "imported"


def read_deep(key: str) -> list[Any]:
    return [documents.read_text(key), documents.read_json(key)]


def admin_get(user_id: int, path: str) -> list[Any]:
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(pk=user_id))
    response = client.get(path)
    return [response.status_code, response.content.decode()]


def test_text_of_deep_rich_text() -> None:
    assert content.text_of(content.load(deep_rich_update())) == BOTTOM


@pytest.mark.parametrize("depth", [DEPTH, OVERFLOW_DEPTH])
def test_json_of_deep_rich_text_is_its_xml(depth: int) -> None:
    assert call_isolated(json_of_deep, depth) == {"prosemirror": deep_rich_xml(depth)}


def test_html_of_deep_rich_text_is_flat_below_max_depth() -> None:
    assert to_html(content.load(deep_rich_update())) == flattened_html(DEPTH, conf.MAX_DEPTH)


@override_settings(COLLAB={"MAX_DEPTH": 3})
@pytest.mark.parametrize("depth", [1, 2, 3, 4, 10])
def test_html_keeps_tags_down_to_max_depth(depth: int) -> None:
    assert to_html(content.load(deep_rich_update(depth))) == flattened_html(depth, 3)


def test_replace_with_deep_rich_text() -> None:
    assert call_isolated(replace_with_deep, DEPTH) == {
        "content": "",
        "prosemirror": deep_rich_xml(),
    }


def test_exports_of_deep_rich_text() -> None:
    exported = call_isolated(exports_of_deep, DEPTH)
    assert exported["text"] == BOTTOM
    assert exported["json"] == f'{{\n  "prosemirror": "{deep_rich_xml()}"\n}}\n'
    assert f"<body>\n{flattened_html(DEPTH, conf.MAX_DEPTH)}\n</body>" in exported["html"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("depth", [DEPTH, OVERFLOW_DEPTH])
def test_import_of_deep_rich_text(depth: int) -> None:
    """Refused like a client's update: deeper than MAX_DEPTH, and without crashing."""
    assert "over 128 deep" in call_isolated(import_deep, "imported-deep", depth)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("depth", [DEPTH, OVERFLOW_DEPTH])
def test_documents_read_deep_rich_text(depth: int) -> None:
    store_deep_document("deep", depth)
    text, roots = call_isolated(read_deep, "deep")
    assert text == BOTTOM
    assert roots == {"prosemirror": deep_rich_xml(depth)}


def admin_import(user_id: int, depth: int) -> list[Any]:
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(pk=user_id))
    upload = SimpleUploadedFile("deep.yjs", deep_rich_update(depth))
    response = client.post(admin_url("import"), {"key": "imported-deep", "file": upload})
    text = documents.read_text("imported-deep") if response.status_code == 302 else ""
    return [response.status_code, response.content.decode(), text]


@pytest.mark.django_db(transaction=True)
def test_admin_import_of_deep_rich_text(admin_user: User) -> None:
    """Imported as an edit, or refused with a form error where depth is checked."""
    status, page, text = call_isolated(admin_import, admin_user.pk, DEPTH)
    assert (status, text) == (302, BOTTOM) or (status == 200 and "errorlist" in page)


def admin_url(view: str, *args: Any) -> str:
    return reverse(f"admin:collab_document_{view}", args=args)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("view", "depth", "expected"),
    [
        ("change", DEPTH, f'<pre class="collab-preview">{BOTTOM}</pre>'),
        ("version", DEPTH, f'<pre class="collab-version-text">{BOTTOM}</pre>'),
        ("version", DEPTH, f'<div class="collab-version-html">{flattened_html(DEPTH, 128)}'),
        ("compare", DEPTH, "same as the current text"),
        ("export/text", DEPTH, BOTTOM),
        ("export/json", DEPTH, deep_rich_xml()),
        ("export/json", OVERFLOW_DEPTH, deep_rich_xml(OVERFLOW_DEPTH)),
        ("export/html", DEPTH, flattened_html(DEPTH, 128)),
    ],
)
def test_admin_pages_of_deep_rich_text(
    admin_user: User, view: str, depth: int, expected: str
) -> None:
    document = store_deep_document("deep", depth)
    snapshot = document.snapshots.get()
    name, _, fmt = view.partition("/")
    args = (document.pk, snapshot.pk) if name in ("version", "compare") else (document.pk,)
    path = admin_url(name, *args, *([fmt] if fmt else []))
    status, page = call_isolated(admin_get, admin_user.pk, path)
    assert status == 200
    assert expected in page

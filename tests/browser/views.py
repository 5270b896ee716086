"""Pages for the browser tests: the template tag, and a form with the widget."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.template import engines

from collab.widgets import CollaborativeEditor, CollaborativeFormMixin
from tests.settings import ARTIFACTS

PAGE = """{% load collab %}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ key }}</title>
<link rel="icon" href="data:,"></head>
<body style="width: 46rem; margin: 1rem auto; font-family: sans-serif">
{% if form %}<form method="post">{% csrf_token %}{{ form.media }}{{ form.body }}
<button type="submit">Save</button></form>
{% else %}{% collab_editor key mode=mode label="Text" offline=offline %}
<form method="post" action="/logout/">{% csrf_token %}<button type="submit">Log out</button></form>
{% endif %}
</body></html>"""


def editor_page(request: HttpRequest, key: str, mode: str) -> HttpResponse:
    """``{% collab_editor key mode=mode %}`` on an otherwise empty page (``?offline=1``: with
    ``offline=True``)."""
    template = engines["django"].from_string(PAGE)
    context = {"key": key, "mode": mode, "offline": bool(request.GET.get("offline"))}
    return HttpResponse(template.render(context, request))


def form_page(request: HttpRequest, key: str, mode: str) -> HttpResponse:
    """A form whose ``body`` field is a collaborative editor of document ``key``.

    GET seeds it with ``?initial=``; POST answers with the submitted ``body`` as text.
    """
    widget = CollaborativeEditor(mode="plain" if mode == "plain" else "rich", key=key)
    body_form = type(
        "BodyForm", (CollaborativeFormMixin, forms.Form), {"body": forms.CharField(widget=widget)}
    )
    if request.method == "POST":
        form = body_form(request.POST, collab_user=request.user)
        form.is_valid()
        return HttpResponse(form.cleaned_data.get("body", ""), content_type="text/plain")
    form = body_form(initial={"body": request.GET.get("initial", "")}, collab_user=request.user)
    template = engines["django"].from_string(PAGE)
    return HttpResponse(template.render({"key": key, "form": form}, request))


TIPTAP_PAGE = """{% load collab %}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ key }} in Tiptap</title>
<link rel="icon" href="data:,">
<style>
.collaboration-carets__caret { border-left: 1px solid; border-right: 1px solid;
  margin: 0 -1px; position: relative; word-break: normal; pointer-events: none }
.collaboration-carets__label { position: absolute; top: -1.4em; left: -1px;
  font-size: 12px; white-space: nowrap; color: #fff; padding: 0 2px }
</style></head>
<body style="width: 46rem; margin: 2rem auto; font-family: sans-serif">
<p id="status">connecting</p>
<div id="editor" data-url="{{ url }}" data-key="{{ key }}" data-token="{% collab_token key %}"
  data-name="{{ request.user.get_username }}" data-color="{{ color }}"></div>
<script src="/tiptap.js"></script>
</body></html>"""

TIPTAP_BUNDLE = ARTIFACTS / "tiptap.js"
"""The Tiptap page's script, built by ``tests/browser/test_tiptap.py``."""


def tiptap_page(request: HttpRequest, key: str) -> HttpResponse:
    """A Tiptap editor of document ``key`` on a stock ``HocuspocusProvider``, with a token
    from ``{% collab_token %}``."""
    context = {
        "key": key,
        "url": f"ws://{request.get_host()}/ws/hocuspocus",
        "color": "#%06x" % (hash(request.user.get_username()) % 0xCCCCCC),
    }
    template = engines["django"].from_string(TIPTAP_PAGE)
    return HttpResponse(template.render(context, request))


def tiptap_script(request: HttpRequest) -> HttpResponse:
    """The Tiptap page's bundled script."""
    return HttpResponse(TIPTAP_BUNDLE.read_bytes(), content_type="text/javascript")


def logged_out_page(request: HttpRequest) -> HttpResponse:
    """Where logging out leads: a page without an editor."""
    return HttpResponse("Logged out.", content_type="text/plain")

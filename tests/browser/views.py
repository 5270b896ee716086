"""Pages for the browser tests: the template tag, and a form with the widget."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.template import engines

from collab.widgets import CollaborativeEditor, CollaborativeFormMixin

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


def logged_out_page(request: HttpRequest) -> HttpResponse:
    """Where logging out leads: a page without an editor."""
    return HttpResponse("Logged out.", content_type="text/plain")

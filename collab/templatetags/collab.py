"""``{% collab_editor %}``: a live collaborative editor for a document, in one tag."""

from __future__ import annotations

from typing import Any

from django import template

from collab.models import Document
from collab.tokens import DEFAULT_MAX_AGE, make_token
from collab.widgets import EDITOR_MEDIA, Mode, config_attribute, editor_config

register = template.Library()


@register.inclusion_tag("collab/editor_tag.html", takes_context=True)
def collab_editor(
    context: template.Context,
    document: Document | str,
    mode: Mode = "rich",
    label: str = "",
    offline: bool = False,
) -> dict[str, Any]:
    """Render the editor of ``document`` (a :class:`~collab.models.Document` or a key).

    The editor shows the logged-in user's name and colour to the others, and is
    read-only when the permission policy lets the user only read. The tag also emits
    the editor's stylesheet and script (loaded once however many editors a page has).

    Usage: ``{% load collab %}{% collab_editor document mode="plain" label="Notes" %}``
    (add ``offline=True`` to keep unsent edits across reloads).

    Args:
        context: The template context; its ``request`` (or ``user``) names the user.
        document: The document, or its key.
        mode: ``"rich"`` (ProseMirror) or ``"plain"`` (CodeMirror).
        label: The accessible name of the editable area; default: the document's title.
        offline: Keep the document in the browser's IndexedDB, per user, so edits made
            while the server is unreachable survive a reload (logged-in users only).
    """
    key = document.key if isinstance(document, Document) else document
    user = _user_of(context)
    config = editor_config(key, mode, user, label=label or str(document), offline=offline)
    return {"editor_config": config_attribute(config), "media": EDITOR_MEDIA}


@register.simple_tag(takes_context=True)
def collab_token(
    context: template.Context,
    document: Document | str | None = None,
    read_only: bool = False,
    max_age: int = DEFAULT_MAX_AGE,
) -> str:
    """A token for the page's user to connect with (:mod:`collab.tokens`); "" if anonymous.

    For a client of another origin, or one that cannot send the session cookie: give it
    to a y-websocket provider as ``params: {token}``.

    Usage: ``{% load collab %}{% collab_token document as token %}``.

    Args:
        context: The template context; its ``request`` (or ``user``) names the user.
        document: The one document the token opens (a document or a key); default: any
            the policy allows the user.
        read_only: Whether it only reads, even where the policy allows editing.
        max_age: Seconds until it expires.
    """
    user = _user_of(context)
    if user is None or not user.is_authenticated:
        return ""
    keys = None
    if document is not None:
        keys = [document.key if isinstance(document, Document) else document]
    return make_token(user, keys=keys, read_only=read_only, max_age=max_age)


def _user_of(context: template.Context) -> Any:
    """The page's user: the ``request``'s, else the context's ``user`` (may be None)."""
    request = context.get("request")
    return request.user if request is not None else context.get("user")

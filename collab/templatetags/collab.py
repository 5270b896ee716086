"""``{% collab_editor %}``: a live collaborative editor for a document, in one tag."""

from __future__ import annotations

from typing import Any

from django import template

from collab.models import Document
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
    request = context.get("request")
    user = request.user if request is not None else context.get("user")
    config = editor_config(key, mode, user, label=label or str(document), offline=offline)
    return {"editor_config": config_attribute(config), "media": EDITOR_MEDIA}

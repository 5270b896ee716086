"""Documents that hold a model field: who may open them, and what fills them first.

A :class:`~collab.widgets.CollaborativeEditor` edits the document
``<app_label>.<model_name>.<pk>.<field_name>`` (:func:`collab.widgets.document_key`).
Such a document belongs to the model instance: the model's permissions govern it
(:func:`collab.permissions.model_field_access`), and when it is created it is filled
with the column's current content, whoever opens it first and however they do.

To fill it, the server must know how the field is edited (rich text or plain text).
It knows the fields of a ``ModelAdmin`` with
:class:`~collab.widgets.CollaborativeAdminMixin`, and those of every form with
:class:`~collab.widgets.CollaborativeFormMixin` created in this process; declare the
others with :func:`register` (in ``AppConfig.ready``) so a process that never rendered
the form knows them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.contrib.admin.sites import all_sites
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from pycrdt import Doc, Text

from collab import content
from collab.from_html import rich_text_update
from collab.keys import split_field_key

if TYPE_CHECKING:
    from collab.widgets import Mode

__all__ = ["FieldDocument", "field_document", "register"]

_modes: dict[tuple[str, str], Mode] = {}
"""How each registered field is edited, by ``(model label, field name)``."""


@dataclass(frozen=True)
class FieldDocument:
    """A document key naming a field of a model instance (which may not exist)."""

    model: type[models.Model]
    pk: str
    field: models.Field[Any, Any]

    def instance(self) -> models.Model | None:
        """The model instance, or ``None`` if there is no such object."""
        try:
            return self.model._default_manager.filter(pk=self.pk).first()
        except (ValidationError, ValueError):
            return None

    def mode(self) -> Mode | None:
        """How the field is edited, if this process knows (see :func:`register`)."""
        known = _modes.get((self.model._meta.label_lower, self.field.name))
        if known is not None:
            return known
        for site in all_sites:
            model_admin = site._registry.get(self.model)
            find = getattr(model_admin, "collaborative_mode", None)
            if find is not None:
                mode: Mode | None = find(self.field)
                if mode is not None:
                    return mode
        return None


def register(model: type[models.Model], field_name: str, mode: Mode) -> None:
    """Declare that ``field_name`` of ``model`` is edited with a collaborative editor.

    Args:
        model: The model.
        field_name: Its text field.
        mode: ``"rich"`` (the column holds HTML) or ``"plain"`` (text).

    Raises:
        FieldDoesNotExist: The model has no such field.
    """
    model._meta.get_field(field_name)
    _modes[(model._meta.label_lower, field_name)] = mode


def field_document(key: str) -> FieldDocument | None:
    """The model field that document ``key`` holds, or ``None`` for other documents.

    Any key naming an installed model and one of its concrete fields counts, registered
    or not, so the model's permissions govern it in every process.
    """
    parts = split_field_key(key)
    if parts is None:
        return None
    app_label, model_name, pk, field_name = parts
    try:
        model = apps.get_model(app_label, model_name)
        field = model._meta.get_field(field_name)
    except (LookupError, FieldDoesNotExist):
        return None
    if not isinstance(field, models.Field) or field.is_relation or not field.concrete:
        return None
    return FieldDocument(model, pk, field)


def initial_content(value: str, mode: Mode) -> Doc[Any]:
    """A document holding a column's ``value`` as the editor of ``mode`` shows it."""
    if mode == "rich":
        return content.load(rich_text_update(value))
    doc: Doc[Any] = Doc()
    doc.get(content.TEXT_ROOT, type=Text).insert(0, value)
    return doc


def seed(key: str) -> bytes | None:
    """The column's current content as the first update of the new document ``key``.

    Returns:
        A Yjs update, or ``None``: ``key`` names no registered field of an existing
        object, or the column is empty.
    """
    found = field_document(key)
    if found is None:
        return None
    mode = found.mode()
    instance = found.instance() if mode is not None else None
    if mode is None or instance is None:
        return None
    value = found.field.value_from_object(instance)
    if not isinstance(value, str) or not value:
        return None
    return initial_content(value, mode).get_update()

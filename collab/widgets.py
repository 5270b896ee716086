"""The collaborative editor as a form widget, and what binds it to a model instance.

``CollaborativeEditor`` renders a live editor (rich text or plain text/code) next to
a hidden ``<textarea>`` that always holds the current content, so submitting the form
stores it like any text field. A widget never sees the form's instance or the request,
so :class:`CollaborativeFormMixin` (forms) and :class:`CollaborativeAdminMixin`
(``ModelAdmin``) tell it which document it edits and who is editing.
"""

from __future__ import annotations

import contextlib
import json
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.forms.renderers import get_default_renderer
from django.utils.crypto import salted_hmac
from django.utils.safestring import SafeString, mark_safe

from collab import documents, field_documents, middleware, store
from collab.html import to_html
from collab.keys import validate_key
from collab.permissions import Access, policy_access
from collab.user_info import UserInfo, user_info

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser
    from django.forms.renderers import BaseRenderer
    from django.http import HttpRequest

    from collab.permissions import User as PolicyUser

    User = AbstractBaseUser | AnonymousUser

__all__ = [
    "CollaborativeAdminMixin",
    "CollaborativeEditor",
    "CollaborativeFormMixin",
    "document_key",
    "editor_config",
    "offline_scope",
]

Mode = Literal["rich", "plain"]

MODES: tuple[Mode, ...] = ("rich", "plain")
"""``rich``: ProseMirror, the field stores HTML; ``plain``: CodeMirror, the field stores text."""

EDITOR_MEDIA = forms.Media(
    css={"all": ["collab/collab-editor.css"]},
    # django-stubs types Media's js as strings only; Django 5.2 also takes Script objects.
    js=[forms.Script("collab/collab-editor.mjs", type="module")],  # type: ignore[list-item]
)
"""The built editor bundle (an ES module: loaded once per page however often it is listed)."""

READ_ONLY_NOTES = {
    Access.READ: "Read-only: you can read this text but not change it.",
    Access.NONE: "Read-only: you don't have permission to change this text.",
}
"""What a widget says above the content it shows to a user who may not edit it."""


def check_mode(mode: str) -> Mode:
    """Return ``mode`` if it is one of :data:`MODES`.

    Raises:
        ValueError: It is not.
    """
    if mode not in MODES:
        raise ValueError(f"unknown editor mode {mode!r}; use one of {MODES}")
    return mode


def document_key(instance: models.Model, field_name: str) -> str | None:
    """The key of the document holding ``field_name`` of ``instance``.

    Returns:
        ``<app_label>.<model_name>.<pk>.<field_name>``, or ``None`` for an unsaved
        instance (it has no document until it is saved).

    Raises:
        ValueError: The primary key contains characters a document key may not.
    """
    if instance.pk is None:
        return None
    meta = instance._meta
    key = f"{meta.app_label}.{meta.model_name}.{instance.pk}.{field_name}"
    try:
        validate_key(key)
    except ValidationError as exc:
        raise ValueError(f"{key!r} is not a valid document key") from exc
    return key


def access_for(user: User, key: str) -> Access:
    """What the permission policy grants ``user`` on document ``key`` (nothing is created)."""
    return policy_access(cast("PolicyUser", user), key)


def editor_config(
    key: str | None,
    mode: Mode,
    user: User | None,
    *,
    read_only: bool = False,
    label: str = "",
    access: Access | None = None,
    offline: bool = False,
) -> dict[str, Any]:
    """The options the editor bundle reads from an editor's ``data-collab-editor``.

    Args:
        key: The document key, or ``None`` to edit locally (nothing is shared).
        mode: ``"rich"`` or ``"plain"``.
        user: Who is editing: shown to the others, and asked about to the permission
            policy; ``None`` when unknown (the server still enforces the policy).
        read_only: Force a read-only editor.
        label: The accessible name of the editable area.
        access: What the policy grants ``user`` on ``key``, if already known.
        offline: Keep the document in the browser's IndexedDB, apart for each user
            (:func:`offline_scope`), so unsent edits survive a reload; only for a
            logged-in ``user`` and a ``key``.

    Raises:
        ValueError: ``mode`` is not one of :data:`MODES`.
    """
    check_mode(mode)
    info: UserInfo | None = None
    scope: str | None = None
    if user is not None:
        info = user_info(user)
        if key is not None:
            access = access_for(user, key) if access is None else access
            read_only = read_only or access < Access.EDIT
            if offline and user.is_authenticated:
                scope = offline_scope(user)
                middleware.warn_if_missing()
    return {
        "key": key,
        "mode": mode,
        "user": info,
        "readOnly": read_only,
        "label": label,
        "offline": scope,
    }


def offline_scope(user: User) -> str:
    """The name under which the browser keeps ``user``'s offline copies of documents.

    Derived from the primary key with the project's ``SECRET_KEY``, so it names
    nobody, and differs between users: the editor deletes the copies of every other
    scope it finds in the browser.
    """
    return salted_hmac("collab.offline-scope", str(user.pk)).hexdigest()[:20]


def config_attribute(config: dict[str, Any]) -> str:
    """``config`` as the JSON value of a ``data-collab-editor`` attribute."""
    return json.dumps(config, cls=DjangoJSONEncoder, separators=(",", ":"))


class CollaborativeEditor(forms.Textarea):
    """A live collaborative editor for a text field.

    The field's value seeds a document that does not exist yet; afterwards the shared
    document is the source of truth, and the form submits its current content (HTML
    for ``mode="rich"``, text for ``mode="plain"``).
    """

    template_name = "collab/widgets/collaborative_editor.html"
    read_only_template_name = "collab/widgets/collaborative_editor_read_only.html"
    """Shown instead of the editor to a user the policy does not let edit the document."""

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        *,
        mode: Mode = "rich",
        key: str | None = None,
        offline: bool = False,
    ) -> None:
        """Configure the editor.

        Args:
            attrs: HTML attributes of the hidden ``<textarea>``.
            mode: ``"rich"`` (ProseMirror, HTML) or ``"plain"`` (CodeMirror, text).
            key: The document's key; leave it out in forms with
                :class:`CollaborativeFormMixin`, which derives it from the instance.
            offline: Keep the document in the browser's IndexedDB (see
                :func:`editor_config`).
        """
        super().__init__(attrs)
        self.mode = check_mode(mode)
        self.offline = offline
        self.key = key
        self.bound = key is not None
        self.user: User | None = None

    def bind(self, key: str | None, user: User | None) -> None:
        """Edit document ``key`` (``None``: an unsaved object, edited locally) as ``user``."""
        self.key = key
        self.user = user
        self.bound = True

    @property
    def read_only(self) -> bool:
        """Whether the bound user may not edit the document.

        The admin asks this of the widgets of fields it shows read-only (to a user with
        only the model's view permission) and then renders the widget instead of the
        raw column: the content as HTML, with a sentence saying it is read-only.
        """
        if self.user is None or self.key is None:
            return False
        return access_for(self.user, self.key) < Access.EDIT

    @property
    def media(self) -> forms.Media:
        """The editor bundle and its stylesheet."""
        return EDITOR_MEDIA

    def use_required_attribute(self, initial: object) -> bool:
        """Never: the browser cannot focus the hidden textarea to complain about it."""
        return False

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        """The live editor, or the read-only content for a user who may not edit."""
        context = self.get_context(name, value, attrs)
        template = self.read_only_template_name if "read_only" in context else self.template_name
        return mark_safe((renderer or get_default_renderer()).render(template, context))  # noqa: S308

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        """Hide the textarea, and add the editor's ``data-collab-editor`` options.

        A user the permission policy lets only read (or not at all) gets ``read_only``
        instead: the current content as HTML and a sentence saying why it is read-only.
        A model field's document that does not exist yet is created (and so filled
        with the column's content) for a user who may edit it.

        Raises:
            ValueError: No document key: the widget is neither given one nor bound by
                :class:`CollaborativeFormMixin`.
        """
        if not self.bound:
            raise ValueError(
                "CollaborativeEditor has no document key: pass key=..., or use it in a "
                "form with CollaborativeFormMixin (or a ModelAdmin with "
                "CollaborativeAdminMixin)."
            )
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        widget_attrs["hidden"] = True
        access = None
        if self.user is not None and self.key is not None:
            access = access_for(self.user, self.key)
            if access < Access.EDIT:
                html = current_html(self.key, self.mode, value or "", access)
                context["read_only"] = {"note": READ_ONLY_NOTES[access], "html": html}
                return context
            if field_documents.field_document(self.key) and store.get_document(self.key) is None:
                store.create_document(self.key)
        config = editor_config(
            self.key,
            self.mode,
            self.user,
            read_only=bool(widget_attrs.get("disabled") or widget_attrs.get("readonly")),
            label=str(widget_attrs.get("aria-label", "")),
            access=access,
            offline=self.offline,
        )
        context["editor_config"] = config_attribute(config)
        return context


def current_html(key: str, mode: Mode, value: str, access: Access) -> SafeString:
    """The content to show a user who may not edit document ``key``, as safe HTML.

    A reader sees the shared document if it exists; otherwise, and for a user without
    access to the document, the field's ``value`` as the editor would show it.
    """
    if access is Access.READ and store.get_document(key) is not None:
        return to_html(documents.read(key))
    return to_html(field_documents.initial_content(value, mode))


class CollaborativeFormMixin(forms.BaseForm):
    """Binds the form's :class:`CollaborativeEditor` widgets to a document each.

    In a ``ModelForm`` the key derives from the instance and the field
    (:func:`document_key`); an unsaved instance gets local editors whose content is
    submitted as usual, and becomes collaborative once saved. Pass
    ``collab_user=request.user`` so the editors show the user's name and colour and
    are read-only for users the permission policy lets only read.
    """

    collab_user: User | None = None

    def __init__(self, *args: Any, collab_user: User | None = None, **kwargs: Any) -> None:
        """Create the form, then bind its collaborative widgets."""
        super().__init__(*args, **kwargs)
        if collab_user is not None:
            self.collab_user = collab_user
        instance = getattr(self, "instance", None)
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, CollaborativeEditor):
                key = widget.key
                if key is None and instance is not None:
                    key = document_key(instance, name)
                    with contextlib.suppress(FieldDoesNotExist):
                        field_documents.register(type(instance), name, widget.mode)
                widget.bind(key, self.collab_user)


if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[models.Model]
else:
    _ModelAdmin = admin.ModelAdmin


class CollaborativeAdminMixin(_ModelAdmin):
    """Makes the ``CollaborativeEditor`` widgets of a ``ModelAdmin`` edit live.

    Choose the fields with ``formfield_overrides`` (or ``formfield_for_dbfield``); this
    mixin binds each change form's widgets to the object and the logged-in user.
    """

    def get_form(
        self,
        request: HttpRequest,
        obj: models.Model | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm[models.Model]]:
        """The admin's form class, with :class:`CollaborativeFormMixin` for this user.

        The admin leaves every field out of the form of a user who may only view the
        object; the collaborative fields are kept, so that the read-only page shows
        them as their widget does (the content as HTML, and why it is read-only)
        rather than as raw HTML source.
        """
        form = super().get_form(request, obj, change, **kwargs)
        if change and obj is not None and not self.has_change_permission(request, obj):
            fields = self.model._meta.concrete_fields
            form = forms.modelform_factory(
                self.model,
                form=form,
                fields=[field.name for field in fields if self.collaborative_mode(field)],
                exclude=[],
                formfield_callback=partial(self.formfield_for_dbfield, request=request),
            )
        attrs = {"collab_user": request.user, "__module__": form.__module__}
        return type(form.__name__, (CollaborativeFormMixin, form), attrs)

    def collaborative_mode(self, db_field: models.Field[Any, Any]) -> Mode | None:
        """The mode of the editor the change form gives ``db_field``, if it has one.

        Lets the server fill a field's document with the column's content before any
        change form was rendered (see :mod:`collab.field_documents`).
        """
        formfield = self.formfield_for_dbfield(db_field, request=None)  # type: ignore[arg-type]
        widget = getattr(formfield, "widget", None)
        return widget.mode if isinstance(widget, CollaborativeEditor) else None

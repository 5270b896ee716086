"""Who may read or edit a document.

The policy is a callable ``(user, key, document) -> Access`` named by
``COLLAB["PERMISSION_POLICY"]``; replace it for per-document rules. It runs in a
worker thread, so it may use the ORM.

The default policy gives a model field's document (:mod:`collab.field_documents`) the
model's permissions on that object, and every other document collab's own.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import TYPE_CHECKING, NamedTuple, Protocol

from django.contrib.auth import get_permission_codename
from django.utils.module_loading import import_string

from collab import recent, store, tombstones
from collab.conf import conf
from collab.exceptions import DocumentDeleted, DocumentNotFound, Forbidden, NotAuthenticated
from collab.field_documents import FieldDocument, field_document

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser, AnonymousUser

    from collab.models import Document

    User = AbstractUser | AnonymousUser

__all__ = ["Access", "PermissionPolicy", "default_policy", "model_field_access"]


class Access(IntEnum):
    """What a connection may do with a document, in increasing order."""

    NONE = 0
    READ = 1
    EDIT = 2


class PermissionPolicy(Protocol):
    """The signature every permission policy has."""

    def __call__(self, user: User, key: str, document: Document | None) -> Access:
        """Decide ``user``'s access to the document ``key`` (``document`` is None if new)."""
        ...


def default_policy(user: User, key: str, document: Document | None) -> Access:
    """Grant edit with ``collab.change_document``, read with ``collab.view_document``.

    Anonymous users get ``COLLAB["ANONYMOUS_ACCESS"]``. A key naming a model field
    (``<app_label>.<model_name>.<pk>.<field>``) gets :func:`model_field_access` instead.
    """
    found = field_document(key)
    if found is not None:
        return model_field_access(user, found)
    if not user.is_authenticated:
        return Access[conf.ANONYMOUS_ACCESS.upper()]
    if user.has_perm("collab.change_document"):
        return Access.EDIT
    if user.has_perm("collab.view_document"):
        return Access.READ
    return Access.NONE


def model_field_access(user: User, found: FieldDocument) -> Access:
    """What the model's permissions let ``user`` do with a field's document.

    Edit with the model's ``change`` permission, read with its ``view`` permission,
    granted for the whole model or (by an object-permission backend) for this object.
    Nothing if the object does not exist. ``ANONYMOUS_ACCESS`` does not apply.

    Args:
        user: Who connects.
        found: The field, from :func:`collab.field_documents.field_document`.

    Returns:
        ``EDIT``, ``READ`` or ``NONE``.
    """
    instance = found.instance()
    if instance is None:
        return Access.NONE
    opts = found.model._meta

    def allowed(action: str) -> bool:
        permission = f"{opts.app_label}.{get_permission_codename(action, opts)}"
        return user.has_perm(permission) or user.has_perm(permission, instance)

    if allowed("change"):
        return Access.EDIT
    if allowed("view"):
        return Access.READ
    return Access.NONE


def get_policy() -> PermissionPolicy:
    """Import the configured policy (live, so ``override_settings`` applies)."""
    policy: PermissionPolicy = import_string(conf.PERMISSION_POLICY)
    return policy


def policy_access(user: User, key: str) -> Access:
    """What the policy grants ``user`` on document ``key`` now (blocking; nothing is created)."""
    return Access(get_policy()(user, key, store.get_document(key)))


class Authorization(NamedTuple):
    """What :func:`authorize` decided."""

    access: Access
    """The granted access: READ or EDIT."""
    document: Document
    new_and_empty: bool
    """Whether this authorization created the document and nothing is stored for it."""


def authorize(
    user: User,
    key: str,
    before_creating: Callable[[], None] | None = None,
    most: Access = Access.EDIT,
) -> Authorization:
    """Decide what ``user`` may do with document ``key``, creating it if allowed.

    ``before_creating`` runs before a document is created; it may refuse by raising.
    ``most`` caps what the policy grants (a read-only token's connection reads only,
    and creates nothing).

    Returns:
        The granted access, the document, and whether it was created now, empty.

    Raises:
        NotAuthenticated: Anonymous user without access.
        Forbidden: Authenticated user without access.
        DocumentDeleted: No such document: it was deleted (and not created again on
            purpose), so it is not created for a client coming back to it.
        DocumentNotFound: No such document, and this user may not create it or
            ``COLLAB["AUTO_CREATE"]`` is off.
    """
    document = recent.documents.get(key)
    if document is None:
        document = store.get_document(key)
        if document is not None:
            recent.documents.put(key, document)  # once: reuse never extends the bound
    access = min(Access(get_policy()(user, key, document)), most)
    if access is Access.NONE:
        raise NotAuthenticated(key) if not user.is_authenticated else Forbidden(key)
    if document is not None:
        return Authorization(access, document, new_and_empty=False)
    if tombstones.is_deleted(key):
        raise DocumentDeleted(key)
    if access is not Access.EDIT or not conf.AUTO_CREATE:
        raise DocumentNotFound(key)
    if before_creating is not None:
        before_creating()
    document, new_and_empty = store.get_or_create_document(key)
    recent.documents.put(key, document)
    return Authorization(access, document, new_and_empty)

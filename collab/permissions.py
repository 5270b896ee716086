"""Who may read or edit a document.

The policy is a callable ``(user, key, document) -> Access`` named by
``COLLAB["PERMISSION_POLICY"]``; replace it for per-document rules. It runs in a
worker thread, so it may use the ORM.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Protocol

from django.utils.module_loading import import_string

from collab import store, tombstones
from collab.conf import conf
from collab.exceptions import DocumentDeleted, DocumentNotFound, Forbidden, NotAuthenticated

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser, AnonymousUser

    from collab.models import Document

    User = AbstractUser | AnonymousUser


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

    Anonymous users get ``COLLAB["ANONYMOUS_ACCESS"]``.
    """
    if not user.is_authenticated:
        return Access[conf.ANONYMOUS_ACCESS.upper()]
    if user.has_perm("collab.change_document"):
        return Access.EDIT
    if user.has_perm("collab.view_document"):
        return Access.READ
    return Access.NONE


def get_policy() -> PermissionPolicy:
    """Import the configured policy (live, so ``override_settings`` applies)."""
    policy: PermissionPolicy = import_string(conf.PERMISSION_POLICY)
    return policy


def authorize(user: User, key: str) -> tuple[Access, Document]:
    """Decide what ``user`` may do with document ``key``, creating it if allowed.

    Returns:
        The granted access (READ or EDIT) and the document.

    Raises:
        NotAuthenticated: Anonymous user without access.
        Forbidden: Authenticated user without access.
        DocumentDeleted: No such document: it was deleted (and not created again on
            purpose), so it is not created for a client coming back to it.
        DocumentNotFound: No such document, and this user may not create it or
            ``COLLAB["AUTO_CREATE"]`` is off.
    """
    document = store.get_document(key)
    access = Access(get_policy()(user, key, document))
    if access is Access.NONE:
        raise NotAuthenticated(key) if not user.is_authenticated else Forbidden(key)
    if document is None:
        if tombstones.is_deleted(key):
            raise DocumentDeleted(key)
        if access is not Access.EDIT or not conf.AUTO_CREATE:
            raise DocumentNotFound(key)
        document = store.create_document(key)
    return access, document

"""Exceptions raised by collab; each carries the close code a connection gets for it."""

from __future__ import annotations

from collab.close_codes import CloseCode

__all__ = [
    "CollabError",
    "ContentRefused",
    "DocumentDeleted",
    "DocumentExists",
    "DocumentLoadError",
    "DocumentNotFound",
    "Forbidden",
    "ImportRejected",
    "InvalidToken",
    "NotAuthenticated",
    "ProtocolError",
    "QuotaExceeded",
    "TokenNotForDocument",
    "UntrustedOrigin",
    "UpdateRejected",
]


class CollabError(Exception):
    """Base class of every exception collab raises on purpose."""

    close_code: CloseCode = CloseCode.SERVER_ERROR


class ProtocolError(CollabError):
    """A frame does not follow the y-websocket protocol (malformed, truncated, unknown type)."""

    close_code = CloseCode.MALFORMED_FRAME


class UpdateRejected(ProtocolError):
    """pycrdt refused to decode or apply a document update or state vector."""


class ContentRefused(CollabError):
    """An update is valid Yjs but beyond collab's limits (nested too deep, too much waiting)."""

    close_code = CloseCode.CONTENT_REFUSED


class ReplicaBroken(CollabError):
    """pycrdt panicked while changing a room's document; the room must be loaded anew."""


class DocumentLoadError(CollabError):
    """A document's stored state could not be loaded; the room stays closed rather than empty."""


class NotAuthenticated(CollabError):
    """The user is anonymous and the permission policy grants anonymous users nothing."""

    close_code = CloseCode.NOT_AUTHENTICATED


class Forbidden(CollabError):
    """The permission policy grants this user no access to the document."""

    close_code = CloseCode.FORBIDDEN


class InvalidToken(NotAuthenticated):
    """A token is not valid (any more) (:mod:`collab.tokens`).

    It is malformed, tampered with or expired, or its user is gone, inactive or changed
    the password.
    """


class TokenNotForDocument(Forbidden):
    """A token names other documents than the one the connection asks for."""


class UntrustedOrigin(CollabError):
    """A page of another origin opened the connection with the user's credentials."""

    close_code = CloseCode.UNTRUSTED_ORIGIN


class QuotaExceeded(CollabError):
    """The connection's owner is over one of collab's quotas (:mod:`collab.quotas`)."""

    close_code = CloseCode.QUOTA_EXCEEDED


class DocumentNotFound(CollabError):
    """No document has this key, and this connection may not create it."""

    close_code = CloseCode.NOT_FOUND


class DocumentDeleted(CollabError):
    """The document was deleted; a key stays deleted until a document is created on purpose."""

    close_code = CloseCode.DOCUMENT_DELETED


def is_pycrdt_panic(exc: BaseException) -> bool:
    """Whether ``exc`` is a Rust panic surfacing from pycrdt.

    pyo3 raises panics as ``PanicException``, a ``BaseException`` that ``except
    Exception`` lets through; its class is not importable, so it is known by name.
    """
    return type(exc).__name__ == "PanicException"


class ImportRejected(ValueError):
    """A file cannot be imported: pycrdt cannot read it, or it is not UTF-8 text."""


class DocumentExists(ImportRejected):
    """The import would create a document, but one with this key exists already."""

"""Documents as files: out as a Yjs update, text, JSON or HTML; in from a Yjs update or text.

An import never bypasses the room: the file becomes a Yjs update that
:func:`collab.documents.replace` applies as a forward edit, so connected clients see
it at once and the history keeps the content it replaced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Literal

from django.utils.html import format_html
from pycrdt import Doc, Text, XmlElement, XmlFragment, XmlText

from collab import content, documents, store
from collab.conf import conf
from collab.exceptions import CollabError, ContentRefused, DocumentExists, ImportRejected
from collab.html import to_html
from collab.replica import Replica

ExportFormat = Literal["yjs", "text", "json", "html"]
ImportFormat = Literal["yjs", "text"]

EXPORT_FORMATS: tuple[ExportFormat, ...] = ("yjs", "text", "json", "html")
IMPORT_FORMATS: tuple[ImportFormat, ...] = ("yjs", "text")

YJS_SUFFIX = ".yjs"
"""Files with this suffix are imported as Yjs updates when no format is given."""

HTML_PAGE = (
    '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>{}</title>\n</head>\n'
    "<body>\n{}\n</body>\n</html>\n"
)


@dataclass(frozen=True)
class Exported:
    """A document in one export format, ready to download or write to a file."""

    data: bytes
    content_type: str
    extension: str

    def filename(self, key: str) -> str:
        """The file name for document ``key`` in this format."""
        return f"{key}.{self.extension}"


def export(doc: Doc[Any], fmt: ExportFormat, *, title: str = "") -> Exported:
    """``doc`` in format ``fmt``.

    Args:
        doc: The document, for example from :func:`collab.documents.read`.
        fmt: ``"yjs"`` (the whole state as one Yjs update), ``"text"``
            (:func:`collab.content.text_of`), ``"json"`` (:func:`collab.content.to_json`)
            or ``"html"`` (a page with :func:`collab.html.to_html`).
        title: The title of an HTML page.
    """
    if fmt == "yjs":
        return Exported(doc.get_update(), "application/octet-stream", "yjs")
    if fmt == "text":
        return Exported(content.text_of(doc).encode(), "text/plain; charset=utf-8", "txt")
    if fmt == "json":
        roots = json.dumps(content.to_json(doc), ensure_ascii=False, indent=2) + "\n"
        return Exported(roots.encode(), "application/json", "json")
    page = format_html(HTML_PAGE, title, to_html(doc))
    return Exported(page.encode(), "text/html; charset=utf-8", "html")


def guess_format(filename: str) -> ImportFormat:
    """``"yjs"`` for a ``.yjs`` file, ``"text"`` for any other."""
    return "yjs" if PurePath(filename).suffix.lower() == YJS_SUFFIX else "text"


def prepare_import(key: str, data: bytes, fmt: ImportFormat, *, replace: bool) -> bytes:
    """Check a file to import into document ``key``; return it as a Yjs update.

    Pass the result to :func:`collab.documents.replace`, which creates the document
    or replaces its content. Text imported into a document holding rich text becomes
    one paragraph per line.

    Args:
        key: The document to create or replace.
        data: The file's content.
        fmt: ``"yjs"`` (a Yjs update, as exported) or ``"text"`` (UTF-8).
        replace: Whether an existing document's content may be replaced.

    Raises:
        DocumentExists: The document exists and ``replace`` is false.
        ImportRejected: pycrdt cannot read the update, it holds neither text nor rich
            text, or the text is not UTF-8.
    """
    if store.get_document(key) is not None:
        if not replace:
            raise DocumentExists(f"A document with the key {key!r} exists already.")
        rich = fmt == "text" and content.has_root(documents.read(key), content.RICH_TEXT_ROOT)
    else:
        rich = False
    if fmt == "yjs":
        return _check_update(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected("The file is not UTF-8 text.") from exc
    return text_update(text.replace("\r\n", "\n"), rich=rich)


def text_update(text: str, *, rich: bool = False) -> bytes:
    """A Yjs update holding ``text``: as plain text, or as rich text (a paragraph a line)."""
    doc: Doc[Any] = Doc()
    if rich:
        fragment = doc.get(content.RICH_TEXT_ROOT, type=XmlFragment)
        for line in text.split("\n"):
            paragraph = fragment.children.append(XmlElement("paragraph"))
            if line:
                paragraph.children.append(XmlText(line))
    elif text:
        doc.get(content.TEXT_ROOT, type=Text).insert(0, text)
    return doc.get_update()


def _check_update(data: bytes) -> bytes:
    """``data`` if it is a Yjs update holding text or rich text that a room would accept.

    It goes through the same checks as an update from a client (see
    :mod:`collab.replica`): nothing nested deeper than ``MAX_DEPTH``, nothing that
    depends on updates the file lacks. Nothing here walks the content.
    """
    replica = Replica(max_depth=conf.MAX_DEPTH, max_pending_bytes=0)
    try:
        replica.load([data] if data else [])
    except ContentRefused as exc:
        raise ImportRejected(f"The file cannot be imported: {exc}.") from exc
    except CollabError as exc:
        raise ImportRejected(f"The file is not a Yjs update that collab can read: {exc}.") from exc
    if replica.pending_bytes:
        raise ImportRejected("The file depends on updates it does not contain.")
    doc = replica.doc
    if not (
        content.has_root(doc, content.TEXT_ROOT) or content.has_root(doc, content.RICH_TEXT_ROOT)
    ):
        raise ImportRejected(
            f"The update holds no text ({content.TEXT_ROOT!r}) "
            f"and no rich text ({content.RICH_TEXT_ROOT!r})."
        )
    return data

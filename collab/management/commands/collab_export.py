"""``manage.py collab_export key [--format yjs|text|json|html] [-o file]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import BaseCommand, CommandError, CommandParser

from collab import documents, exports
from collab.management.lookup import documents_named


class Command(BaseCommand):
    """Write a document as a Yjs update, text, JSON or HTML."""

    help = "Write a document's current content to a file or to standard output."

    def add_arguments(self, parser: CommandParser) -> None:
        """The key, the format and the output file."""
        parser.add_argument("key", help="The document's key.")
        parser.add_argument(
            "--format",
            choices=exports.EXPORT_FORMATS,
            default="yjs",
            help="yjs: the whole state as one Yjs update (the default; collab_import reads "
            "it back); text; json: the known roots; html: rich text as an HTML page.",
        )
        parser.add_argument("-o", "--output", help="The file to write (default: standard output).")

    def handle(
        self, *args: Any, key: str, format: exports.ExportFormat, output: str | None, **options: Any
    ) -> None:
        """Export, refusing to write binary to a terminal."""
        (document,) = documents_named([key])
        exported = exports.export(documents.read(key), format, title=str(document))
        if output is not None:
            try:
                Path(output).write_bytes(exported.data)
            except OSError as exc:
                raise CommandError(f"Cannot write {output}: {exc}") from exc
            return
        if format != "yjs":
            self.stdout.write(exported.data.decode(), ending="")
            return
        binary = getattr(self.stdout, "buffer", None)
        if binary is None or self.stdout.isatty():
            raise CommandError("The yjs format is binary: write it to a file with -o FILE.")
        binary.write(exported.data)

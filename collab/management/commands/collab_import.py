"""``manage.py collab_import key file [--format yjs|text] [--replace]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management import BaseCommand, CommandError, CommandParser

from collab import documents, exports, store
from collab.exceptions import DocumentExists, ImportRejected
from collab.keys import validate_key


class Command(BaseCommand):
    """Create a document from a file, or replace an existing document's content."""

    help = (
        "Create a document from a Yjs update (as collab_export writes it) or a UTF-8 text "
        "file. With --replace, an existing document's content becomes the file's, as a new "
        "edit that connected editors see at once; its history keeps the old content."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """The key, the file, its format and ``--replace``."""
        parser.add_argument("key", help="The document's key.")
        parser.add_argument("file", help="The file to import.")
        parser.add_argument(
            "--format",
            choices=exports.IMPORT_FORMATS,
            help="Default: yjs for a .yjs file, text for any other.",
        )
        parser.add_argument(
            "--replace", action="store_true", help="Replace the content of an existing document."
        )

    def handle(
        self,
        *args: Any,
        key: str,
        file: str,
        format: exports.ImportFormat | None,
        replace: bool,
        **options: Any,
    ) -> None:
        """Check the key and the file, then create or replace through the room."""
        try:
            validate_key(key)
        except ValidationError as exc:
            raise CommandError(f"{key!r} is not a valid key: {' '.join(exc.messages)}") from exc
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        existed = store.get_document(key) is not None
        try:
            update = exports.prepare_import(
                key, data, format or exports.guess_format(file), replace=replace
            )
        except DocumentExists as exc:
            raise CommandError(f"{exc} Pass --replace to replace its content.") from exc
        except ImportRejected as exc:
            raise CommandError(f"{file}: {exc}") from exc
        documents.replace(key, update)
        self.stdout.write(f"{'Replaced the content of' if existed else 'Created'} {key}.")

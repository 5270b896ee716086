"""``manage.py collab_compact [key ...] [--all]``: compact update logs into snapshots now."""

from __future__ import annotations

from typing import Any

from django.core.management import BaseCommand, CommandError, CommandParser
from django.template.defaultfilters import filesizeformat

from collab import store
from collab.management.lookup import documents_named
from collab.models import Document


class Command(BaseCommand):
    """Merge documents' update logs into new snapshots (checkpoints)."""

    help = (
        "Merge the update log of the named documents (or of all, with --all) into a new "
        "snapshot. Safe while they are being edited."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Document keys, or ``--all``."""
        parser.add_argument("keys", nargs="*", metavar="key", help="A document's key.")
        parser.add_argument("--all", action="store_true", help="Compact every document.")

    def handle(self, *args: Any, keys: list[str], all: bool, **options: Any) -> None:
        """Compact each document in turn and say what it made."""
        if bool(keys) == all:
            raise CommandError("Name the documents to compact, or pass --all (not both).")
        targets = Document.objects.order_by("key") if all else documents_named(keys)
        for document in targets:
            snapshot = store.compact(document.pk)
            if snapshot is None:
                self.stdout.write(f"{document.key}: nothing to compact")
            else:
                self.stdout.write(f"{document.key}: snapshot of {filesizeformat(snapshot.size)}")

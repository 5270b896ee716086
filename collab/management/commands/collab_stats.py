"""``manage.py collab_stats``: documents, storage, and who is connected right now."""

from __future__ import annotations

from typing import Any

from django.core.management import BaseCommand

from collab import presence, usage
from collab.models import Document


class Command(BaseCommand):
    """Print how many documents there are, what they take, and which are open."""

    help = (
        "Print the number of documents, the bytes stored in snapshots and the update log, "
        "and the documents someone is connected to right now."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        """Print the totals, then each open document with who is in it."""
        totals = usage.totals()
        open_now = presence.open_documents()
        lines = [
            f"documents: {totals.documents}",
            f"stored bytes: {totals.stored_bytes}",
            f"snapshots: {totals.snapshots} ({totals.snapshot_bytes} bytes)",
            f"named versions: {totals.named_versions}",
            f"log rows: {totals.log_rows} ({totals.log_bytes} bytes)",
            f"open now: {len(open_now)}",
        ]
        keys = dict(Document.objects.filter(pk__in=open_now).values_list("pk", "key"))
        described = presence.describe_presence(open_now)
        lines += [f"  {keys[pk]}: {described[pk]}" for pk in sorted(keys, key=keys.__getitem__)]
        self.stdout.write("\n".join(lines))

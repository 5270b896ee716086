"""``manage.py setup_demo``: create or refresh the demo users and the welcome document."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from pycrdt import Doc, Text

from collab import store
from collab.models import Document
from demo_project.demo.models import Article

PASSWORD = "demo"  # noqa: S105  (public demo accounts)

USER_PERMISSIONS = {
    "alice": ("change_document", "view_document", "change_article", "view_article"),
    "bob": ("change_document", "view_document", "change_article", "view_article"),
    "reader": ("view_document",),
}
"""Permissions per demo user; those who may change articles are staff (they use the admin)."""

WELCOME_KEY = "welcome"
WELCOME_TITLE = "Welcome to collab"
WELCOME_TEXT = """\
Welcome! This text is a shared Yjs document.

Open this page as another user (a second browser or a private window,
log in as bob while you are alice) and type in both: every keystroke
shows up on the other page, and the list above shows who is here.

The user "reader" sees the changes live but cannot edit.
"""

ARTICLE_TITLE = "Release notes"
ARTICLE_BODY = (
    "<h2>Collaborative admin</h2><p>This article's <strong>body</strong> is an ordinary "
    "<code>TextField</code>. Open it in the admin as alice and as bob: you both edit it "
    "live, and <em>Save</em> stores the HTML in the column.</p>"
)


class Command(BaseCommand):
    """Create or refresh the demo data; safe to run any number of times."""

    help = (
        f"Create or reset the demo users (alice, bob: edit, also articles in the admin; "
        f"reader: read; admin: superuser; password {PASSWORD!r}), the {WELCOME_KEY!r} "
        f"document and an example article."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        """Bring users, permissions and the welcome document to their demo state."""
        with transaction.atomic():
            self._set_up_users()
            document, created = Document.objects.update_or_create(
                key=WELCOME_KEY, defaults={"title": WELCOME_TITLE}
            )
            # Only an empty document gets the welcome text: edits made in the
            # demo are kept, and running again never duplicates the text.
            if not store.load_updates(document.pk):
                store.append_updates(document.pk, [_text_update(WELCOME_TEXT)])
            Article.objects.get_or_create(title=ARTICLE_TITLE, defaults={"body": ARTICLE_BODY})
        action = "Created" if created else "Refreshed"
        self.stdout.write(
            self.style.SUCCESS(
                f"{action} the demo: users {', '.join([*USER_PERMISSIONS, 'admin'])} "
                f"(password {PASSWORD!r}), document {WELCOME_KEY!r}, article {ARTICLE_TITLE!r}."
            )
        )

    def _set_up_users(self) -> None:
        user_model = get_user_model()
        for username, codenames in USER_PERMISSIONS.items():
            user, _ = user_model.objects.get_or_create(username=username)
            user.is_active = True
            user.is_staff = "change_article" in codenames
            user.is_superuser = False
            user.set_password(PASSWORD)
            user.save()
            user.user_permissions.set(
                Permission.objects.filter(
                    content_type__app_label__in=("collab", "demo"), codename__in=codenames
                )
            )
        admin, _ = user_model.objects.get_or_create(username="admin")
        admin.is_active = True
        admin.is_staff = True
        admin.is_superuser = True
        admin.set_password(PASSWORD)
        admin.save()


def _text_update(text: str) -> bytes:
    """A Yjs update that sets the shared text "content" (what the editors bind to)."""
    doc: Doc[Text] = Doc()
    doc["content"] = Text(text)
    return doc.get_update()

"""``manage.py collab_token USERNAME [--key KEY ...] [--read-only] [--max-age SECONDS]``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, CommandError, CommandParser

from collab.tokens import DEFAULT_MAX_AGE, make_token


class Command(BaseCommand):
    """Print a token that lets a client connect as a user (:mod:`collab.tokens`)."""

    help = (
        "Print a signed, expiring token that lets a client connect as USERNAME, for a "
        "script, a test or a native client. The permission policy still decides; the "
        "token can only narrow it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """The username, and the token's limits."""
        parser.add_argument("username", help="The user the token acts for.")
        parser.add_argument(
            "--key",
            action="append",
            dest="keys",
            metavar="KEY",
            help="A document the token opens (repeat for several; default: any).",
        )
        parser.add_argument(
            "--read-only", action="store_true", help="Only read, even where editing is allowed."
        )
        parser.add_argument(
            "--max-age",
            type=int,
            default=DEFAULT_MAX_AGE,
            metavar="SECONDS",
            help=f"Seconds until the token expires (default: {DEFAULT_MAX_AGE}).",
        )

    def handle(
        self,
        *args: Any,
        username: str,
        keys: list[str] | None,
        read_only: bool,
        max_age: int,
        **options: Any,
    ) -> None:
        """Print the token."""
        if max_age <= 0:
            raise CommandError("--max-age must be a positive number of seconds.")
        model = get_user_model()
        user = model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()
        if user is None or not getattr(user, "is_active", True):
            raise CommandError(f"No active user {username!r}.")
        self.stdout.write(make_token(user, keys=keys, read_only=read_only, max_age=max_age))

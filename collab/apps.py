"""Django app configuration for collab."""

from __future__ import annotations

from django.apps import AppConfig


class CollabConfig(AppConfig):
    """Registers collab's system checks."""

    name = "collab"
    verbose_name = "Collaborative documents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register the system checks and signal receivers."""
        from collab import checks, receivers, revocation  # noqa: F401  (registers checks and receivers)

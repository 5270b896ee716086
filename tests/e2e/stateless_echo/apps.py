"""Connects the echo receiver when Django starts."""

from __future__ import annotations

from django.apps import AppConfig


async def _answer(key: str, payload: str) -> None:
    from collab.hocuspocus import send_stateless

    send_stateless(key, f"echo: {payload}")


def echo(sender: object, key: str, user_id: int | None, payload: str, **kwargs: object) -> None:
    """Answer a stateless message with ``echo: <payload>``."""
    from asgiref.sync import async_to_sync

    async_to_sync(_answer)(key, payload)


class StatelessEchoConfig(AppConfig):
    name = "tests.e2e.stateless_echo"

    def ready(self) -> None:
        from collab.signals import stateless_received

        stateless_received.connect(echo)

"""System checks that catch a misconfigured collab installation (ids in docs/checks.md)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.utils.module_loading import import_string

from collab.conf import DEFAULTS, conf

IN_MEMORY_LAYER = "channels.layers.InMemoryChannelLayer"

POSITIVE_NUMBERS = (
    "MAX_FRAME_BYTES",
    "RATE_LIMIT_MESSAGES",
    "RATE_LIMIT_PERIOD",
    "FLUSH_INTERVAL",
    "COMPACT_AFTER_UPDATES",
    "KEEPALIVE_INTERVAL",
    "SNAPSHOT_RETENTION",
)


@register()
def check_channels_installed(**kwargs: Any) -> list[CheckMessage]:
    """collab.E001: Channels must be an installed app."""
    if apps.is_installed("channels"):
        return []
    return [
        Error(
            "collab needs Django Channels, but 'channels' is not in INSTALLED_APPS.",
            hint="Add 'daphne' (first) and 'channels' to INSTALLED_APPS.",
            id="collab.E001",
        )
    ]


@register()
def check_asgi_application(**kwargs: Any) -> list[CheckMessage]:
    """collab.E002: websockets need ASGI_APPLICATION."""
    if getattr(settings, "ASGI_APPLICATION", None):
        return []
    return [
        Error(
            "ASGI_APPLICATION is not set, so no server will route websockets to collab.",
            hint="Set ASGI_APPLICATION = 'yourproject.asgi.application' and include "
            "collab.routing.websocket_urlpatterns there.",
            id="collab.E002",
        )
    ]


@register()
def check_collab_settings(**kwargs: Any) -> list[CheckMessage]:
    """collab.E003: every COLLAB key is known and has a usable value."""
    user_settings = getattr(settings, "COLLAB", {})
    if not isinstance(user_settings, dict):
        return [_setting_error("COLLAB must be a dict.")]
    errors: list[CheckMessage] = [
        _setting_error(f"Unknown setting COLLAB[{name!r}].")
        for name in user_settings
        if name not in DEFAULTS
    ]
    for name in POSITIVE_NUMBERS:
        if not _is_number(user_settings.get(name, DEFAULTS[name]), minimum_exclusive=True):
            errors.append(_setting_error(f"COLLAB[{name!r}] must be a positive number."))
    if not _is_number(user_settings.get("ROOM_GRACE_PERIOD", 0), minimum_exclusive=False):
        errors.append(_setting_error("COLLAB['ROOM_GRACE_PERIOD'] must be a number >= 0."))
    if conf.ANONYMOUS_ACCESS not in ("none", "read", "edit"):
        errors.append(
            _setting_error("COLLAB['ANONYMOUS_ACCESS'] must be 'none', 'read' or 'edit'.")
        )
    try:
        import_string(conf.PERMISSION_POLICY)
    except ImportError:
        errors.append(
            _setting_error(f"Cannot import PERMISSION_POLICY {conf.PERMISSION_POLICY!r}.")
        )
    return errors


def _is_number(value: object, *, minimum_exclusive: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return value > 0 if minimum_exclusive else value >= 0


def _setting_error(message: str) -> Error:
    return Error(message, hint="See the settings reference in collab's docs.", id="collab.E003")


@register()
def check_channel_layer(**kwargs: Any) -> list[CheckMessage]:
    """collab.W001: the in-memory channel layer only works within one process."""
    layers = getattr(settings, "CHANNEL_LAYERS", {})
    backend = layers.get("default", {}).get("BACKEND")
    if backend == IN_MEMORY_LAYER and not settings.DEBUG:
        return [
            Warning(
                "The in-memory channel layer does not connect server processes: with more "
                "than one worker, users of one document on different processes diverge.",
                hint="Use channels_redis.core.RedisChannelLayer in production.",
                id="collab.W001",
            )
        ]
    return []

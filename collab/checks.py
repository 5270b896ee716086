"""System checks that catch a misconfigured collab installation (ids in docs/checks.md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.checks import CheckMessage, Error, Warning, register
from django.core.handlers.asgi import ASGIHandler
from django.utils.module_loading import import_string

from collab.conf import DEFAULTS, conf

ROUTE_PREFIX = re.compile(r"([A-Za-z0-9_.~-]+/)*")
"""Path segments, each followed by a slash: what the websocket route may start with."""

ROUTE_PATH = re.compile(r"([A-Za-z0-9_.~-]+/)*[A-Za-z0-9_.~-]+")
"""Path segments separated by slashes: a whole route's path."""

IN_MEMORY_LAYER = "channels.layers.InMemoryChannelLayer"

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""Where collab's static files ship; the JS bundle is built into it from ``client/``."""

BUNDLE_FILES = (
    "collab/collab-client.js",
    "collab/collab-client.mjs",
    "collab/collab-editor.mjs",
    "collab/collab-editor.css",
)

WHOLE_NUMBERS = (
    "MAX_FRAME_BYTES",
    "MAX_OUTBOX_BYTES",
    "RATE_LIMIT_MESSAGES",
    "COMPACT_AFTER_UPDATES",
    "SNAPSHOT_RETENTION",
    "MAX_DEPTH",
    "MAX_PENDING_BYTES",
    "MAX_AWARENESS_STATE_BYTES",
    "MAX_AWARENESS_CLIENTS",
    "STATE_REQUEST_LIMIT",
    "MAX_CONNECTIONS_PER_USER",
    "MAX_DOCUMENTS_PER_USER",
    "CREATE_LIMIT",
)

NON_NEGATIVE_NUMBERS = (
    "ROOM_GRACE_PERIOD",
    "QUOTA_CLOSE_DELAY",
    "REFUSAL_DELAY",
    "AUTH_CACHE_SECONDS",
)

CLIENT_IDLE_TIMEOUT = 30
"""Seconds after which stock y-websocket clients drop a silent connection."""

POSITIVE_NUMBERS = (
    "MAX_FRAME_BYTES",
    "MAX_OUTBOX_BYTES",
    "RATE_LIMIT_MESSAGES",
    "RATE_LIMIT_PERIOD",
    "FLUSH_INTERVAL",
    "COMPACT_AFTER_UPDATES",
    "KEEPALIVE_INTERVAL",
    "SNAPSHOT_RETENTION",
    "REPAIR_INTERVAL",
    "CHANGE_SIGNAL_DELAY",
    "PRESENCE_REFRESH",
    "CHECKPOINT_INTERVAL",
    "MAX_DEPTH",
    "MAX_PENDING_BYTES",
    "MAX_AWARENESS_STATE_BYTES",
    "MAX_AWARENESS_CLIENTS",
    "STATE_REQUEST_LIMIT",
    "STATE_REQUEST_PERIOD",
    "MAX_CONNECTIONS_PER_USER",
    "MAX_DOCUMENTS_PER_USER",
    "CREATE_LIMIT",
    "CREATE_PERIOD",
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
    values = {**DEFAULTS, **user_settings}
    problems = [
        f"Unknown setting COLLAB[{name!r}]." for name in user_settings if name not in DEFAULTS
    ]
    problems += _number_problems(values) + _choice_problems(values)
    return [_setting_error(problem) for problem in problems]


def _number_problems(values: dict[str, Any]) -> list[str]:
    problems = [
        f"COLLAB[{name!r}] must be a positive number."
        for name in POSITIVE_NUMBERS
        if not _is_number(values[name]) or values[name] <= 0
    ]
    problems += [
        f"COLLAB[{name!r}] must be a whole number."
        for name in WHOLE_NUMBERS
        if _is_number(values[name]) and not isinstance(values[name], int)
    ]
    problems += [
        f"COLLAB[{name!r}] must be a number >= 0."
        for name in NON_NEGATIVE_NUMBERS
        if not _is_number(values[name]) or values[name] < 0
    ]
    keepalive = values["KEEPALIVE_INTERVAL"]
    if _is_number(keepalive) and keepalive >= CLIENT_IDLE_TIMEOUT:
        problems.append(
            f"COLLAB['KEEPALIVE_INTERVAL'] must be below {CLIENT_IDLE_TIMEOUT} s, "
            "or idle stock clients disconnect."
        )
    return problems


def _choice_problems(values: dict[str, Any]) -> list[str]:
    problems = []
    prefix = values["ROUTE_PREFIX"]
    if not isinstance(prefix, str) or not ROUTE_PREFIX.fullmatch(prefix):
        problems.append("COLLAB['ROUTE_PREFIX'] must look like 'ws/collab/' (no leading '/').")
    route = values["HOCUSPOCUS_ROUTE"]
    if not isinstance(route, str) or not ROUTE_PATH.fullmatch(route):
        problems.append(
            "COLLAB['HOCUSPOCUS_ROUTE'] must look like 'ws/hocuspocus' (no leading or "
            "trailing '/')."
        )
    if values["ANONYMOUS_ACCESS"] not in ("none", "read", "edit"):
        problems.append("COLLAB['ANONYMOUS_ACCESS'] must be 'none', 'read' or 'edit'.")
    layer = values["CHANNEL_LAYER"]
    layers = getattr(settings, "CHANNEL_LAYERS", {})
    if not isinstance(layer, str) or (layers and layer not in layers):
        problems.append(f"COLLAB['CHANNEL_LAYER'] {layer!r} is not a key of CHANNEL_LAYERS.")
    policy = values["PERMISSION_POLICY"]
    if not isinstance(policy, str):
        problems.append("COLLAB['PERMISSION_POLICY'] must be a dotted path (a string).")
    else:
        try:
            import_string(policy)
        except ImportError:
            problems.append(f"Cannot import COLLAB['PERMISSION_POLICY'] {policy!r}.")
    return problems


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _setting_error(message: str) -> Error:
    return Error(message, hint="See the settings reference in collab's docs.", id="collab.E003")


@register()
def check_channel_layer(**kwargs: Any) -> list[CheckMessage]:
    """collab.W001: the in-memory channel layer only works within one process."""
    layers = getattr(settings, "CHANNEL_LAYERS", {})
    alias = conf.CHANNEL_LAYER
    backend = layers.get(alias, {}).get("BACKEND") if isinstance(alias, str) else None
    if backend in (None, IN_MEMORY_LAYER) and not settings.DEBUG:
        return [
            Warning(
                f"The channel layer {alias!r} does not connect server processes: with more "
                "than one worker, users of one document on different processes diverge.",
                hint="Use channels_redis (pubsub.RedisPubSubChannelLayer or "
                "core.RedisChannelLayer) in production.",
                id="collab.W001",
            )
        ]
    return []


@register()
def check_bundle_built(**kwargs: Any) -> list[CheckMessage]:
    """collab.W002: the built JS client and editors are in collab's static files."""
    missing = [name for name in BUNDLE_FILES if not (STATIC_DIR / name).is_file()]
    if not missing:
        return []
    return [
        Warning(
            f"collab's built JavaScript is missing ({', '.join(missing)}), so the editor "
            "widget and {% collab_editor %} will not work.",
            hint="Install a released django-collab, or run 'npm ci --prefix client && "
            "npm run build --prefix client' in a checkout.",
            id="collab.W002",
        )
    ]


@register()
def check_websocket_routing(**kwargs: Any) -> list[CheckMessage]:
    """collab.E004 and collab.W003: ``ASGI_APPLICATION`` routes websockets to collab.

    Django's own ``asgi.py`` serves HTTP only: every editor then says "Offline". The
    application is imported as a server would; one that cannot be imported, or that
    is wrapped in something this check cannot see through, is left to the server.
    """
    path = getattr(settings, "ASGI_APPLICATION", None)
    application = _asgi_application(path)
    if application is None:
        return []  # not set (collab.E002), or left to the server to report
    websocket = (
        _NONE if isinstance(application, ASGIHandler) else _websocket_application(application)
    )
    if websocket is _NONE:
        return [
            Error(
                f"ASGI_APPLICATION {path!r} does not route websockets, so collab's clients "
                "never connect (editors say 'Offline').",
                hint="Route 'websocket' to collab.routing.websocket_urlpatterns with "
                "Channels' ProtocolTypeRouter and URLRouter, as the installation guide shows.",
                id="collab.E004",
            )
        ]
    if websocket is not None and _routes_to_collab(websocket) is False:
        return [
            Warning(
                f"ASGI_APPLICATION {path!r} routes websockets, but none of its routes "
                "leads to collab.",
                hint="Include collab.routing.websocket_urlpatterns in its URLRouter.",
                id="collab.W003",
            )
        ]
    return []


def _asgi_application(path: str | None) -> object | None:
    """The application ``ASGI_APPLICATION`` names, imported as a server would.

    None if unset, or if it cannot be imported: the server reports that itself.
    """
    if not path:
        return None
    try:
        application: object = import_string(path)
    except Exception:
        return None
    return application


_NONE = object()
"""A ``ProtocolTypeRouter`` without a websocket application."""


def _websocket_application(application: object) -> object:
    """The websocket application of a ``ProtocolTypeRouter``, :data:`_NONE`, or None if unknown."""
    mapping = getattr(application, "application_mapping", None)
    if not isinstance(mapping, dict):
        return None
    return mapping.get("websocket", _NONE)


def _routes_to_collab(application: object, depth: int = 0) -> bool | None:
    """Whether a route of ``application`` leads to a collab consumer; None if it cannot tell.

    Sees through Channels' middleware and validators (``inner``, ``application``) and
    nested ``URLRouter`` s.
    """
    from collab.consumers import SocketConsumer  # here: it loads the ORM and Channels

    if depth > 20:
        return None
    consumer = getattr(application, "consumer_class", None)
    if isinstance(consumer, type):
        return issubclass(consumer, SocketConsumer)
    routes = getattr(application, "routes", None)
    if isinstance(routes, list):
        found = [_routes_to_collab(getattr(route, "callback", None), depth + 1) for route in routes]
        return True if True in found else (None if None in found else False)
    for attribute in ("inner", "application"):
        inner = getattr(application, attribute, None)
        if inner is not None:
            return _routes_to_collab(inner, depth + 1)
    return None


@register()
def check_development_server(**kwargs: Any) -> list[CheckMessage]:
    """collab.W004: with ``DEBUG``, ``runserver`` serves websockets (daphne is listed first).

    Django's own ``runserver``, and the one of ``django.contrib.staticfiles`` when it is
    listed before daphne, serve HTTP only.
    """
    if not settings.DEBUG:
        return []
    installed = list(settings.INSTALLED_APPS)
    if "daphne" not in installed:
        problem = "'daphne' is not in INSTALLED_APPS, so runserver serves no websockets"
    elif "django.contrib.staticfiles" in installed[: installed.index("daphne")]:
        problem = (
            "'daphne' comes after 'django.contrib.staticfiles' in INSTALLED_APPS, so "
            "runserver is staticfiles' own and serves no websockets"
        )
    else:
        return []
    return [
        Warning(
            f"{problem}: collab's editors say 'Offline' under it.",
            hint="Put 'daphne' first in INSTALLED_APPS; or, if you run another ASGI server "
            "in development, silence collab.W004.",
            id="collab.W004",
        )
    ]


@register()
def check_static_files_without_runserver(**kwargs: Any) -> list[CheckMessage]:
    """collab.W005: with ``DEBUG`` and no daphne ``runserver``, the ASGI app serves static files.

    A project without daphne's ``runserver`` runs another ASGI server (uvicorn) in
    development; those serve no static files, so collab's editor script never loads.
    """
    path = getattr(settings, "ASGI_APPLICATION", None)
    if not settings.DEBUG or "daphne" in settings.INSTALLED_APPS:
        return []
    application = _asgi_application(path)
    if application is None:
        return []
    mapping = getattr(application, "application_mapping", None)
    http = mapping.get("http") if isinstance(mapping, dict) else application
    if isinstance(http, ASGIStaticFilesHandler) or not isinstance(http, ASGIHandler):
        return []
    return [
        Warning(
            f"ASGI_APPLICATION {path!r} serves no static files, and without daphne's "
            "runserver another ASGI server (uvicorn) serves none either: collab's editor "
            "script does not load.",
            hint="In development, wrap the HTTP application in "
            "django.contrib.staticfiles.handlers.ASGIStaticFilesHandler, or use daphne's "
            "runserver.",
            id="collab.W005",
        )
    ]

"""Every system check id, in its failing and its passing case."""

from __future__ import annotations

from pathlib import Path

import pytest
from channels.auth import AuthMiddlewareStack
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.conf import settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application
from django.test import override_settings
from django.urls import path

from collab import checks
from collab.checks import (
    check_asgi_application,
    check_bundle_built,
    check_channel_layer,
    check_channels_installed,
    check_collab_settings,
)
from collab.routing import websocket_urlpatterns

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
REDIS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer"}}


def ids(messages: list[object]) -> list[str]:
    return [message.id for message in messages]  # type: ignore[attr-defined]


def test_e001_channels_missing() -> None:
    assert check_channels_installed() == []
    without = [app for app in settings.INSTALLED_APPS if app != "channels"]
    with override_settings(INSTALLED_APPS=without):
        assert ids(check_channels_installed()) == ["collab.E001"]


def test_e002_asgi_application_missing() -> None:
    assert check_asgi_application() == []
    with override_settings(ASGI_APPLICATION=None):
        assert ids(check_asgi_application()) == ["collab.E002"]


def test_e003_valid_settings_pass() -> None:
    valid = {
        "FLUSH_INTERVAL": 0.5,
        "ANONYMOUS_ACCESS": "read",
        "ROUTE_PREFIX": "live/docs/",
        "HOCUSPOCUS_ROUTE": "live/tiptap",
    }
    with override_settings(COLLAB=valid):
        assert check_collab_settings() == []


@override_settings()
def test_e003_no_collab_setting_at_all() -> None:
    del settings.COLLAB
    assert check_collab_settings() == []


def test_e003_invalid_settings() -> None:
    cases = [
        ["not", "a", "dict"],
        {"FLUSH_INTERVALL": 1},
        {"MAX_FRAME_BYTES": 0},
        {"MAX_OUTBOX_BYTES": 1.5},
        {"RATE_LIMIT_MESSAGES": "many"},
        {"FLUSH_INTERVAL": True},
        {"ROOM_GRACE_PERIOD": -1},
        {"ROOM_GRACE_PERIOD": "soon"},
        {"QUOTA_CLOSE_DELAY": -0.5},
        {"MAX_CONNECTIONS_PER_USER": 0},
        {"CREATE_PERIOD": "hourly"},
        {"ANONYMOUS_ACCESS": "admin"},
        {"PERMISSION_POLICY": "nowhere.policy"},
        {"PERMISSION_POLICY": print},
        {"SNAPSHOT_RETENTION": 2.5},
        {"KEEPALIVE_INTERVAL": 30},
        {"ROUTE_PREFIX": "/ws/"},
        {"ROUTE_PREFIX": "ws/(.*)/"},
        {"HOCUSPOCUS_ROUTE": "/ws/hocuspocus"},
        {"HOCUSPOCUS_ROUTE": "ws/hocuspocus/"},
        {"HOCUSPOCUS_ROUTE": None},
        {"REPAIR_INTERVAL": 0},
        {"CHANNEL_LAYER": "elsewhere"},
        {"CHANNEL_LAYER": None},
        {"STATE_REQUEST_LIMIT": 2.5},
        {"STATE_REQUEST_PERIOD": 0},
    ]
    for collab in cases:
        with override_settings(COLLAB=collab):
            assert ids(check_collab_settings()) == ["collab.E003"], collab


def test_w001_in_memory_layer_in_production() -> None:
    with override_settings(CHANNEL_LAYERS=IN_MEMORY, DEBUG=False):
        assert ids(check_channel_layer()) == ["collab.W001"]
    with override_settings(CHANNEL_LAYERS=IN_MEMORY, DEBUG=True):
        assert check_channel_layer() == []
    with override_settings(CHANNEL_LAYERS=REDIS, DEBUG=False):
        assert check_channel_layer() == []
    with override_settings(CHANNEL_LAYERS={}, DEBUG=False):
        assert ids(check_channel_layer()) == ["collab.W001"]
    layers = {**IN_MEMORY, "shared": REDIS["default"]}
    with override_settings(CHANNEL_LAYERS=layers, COLLAB={"CHANNEL_LAYER": "shared"}, DEBUG=False):
        assert check_channel_layer() == []


def test_w002_bundle_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert check_bundle_built() == []
    monkeypatch.setattr(checks, "STATIC_DIR", tmp_path)
    assert ids(check_bundle_built()) == ["collab.W002"]
    for name in checks.BUNDLE_FILES[:-1]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("built")
    [warning] = check_bundle_built()
    assert "collab/collab-editor.css" in warning.msg
    assert "collab-client.js" not in warning.msg


DJANGO_DEFAULT_ASGI = get_asgi_application()
"""What Django's ``startproject`` puts in ``asgi.py``: HTTP only."""

HTTP_ONLY_ROUTER = ProtocolTypeRouter({"http": DJANGO_DEFAULT_ASGI})
OTHER_WEBSOCKETS = ProtocolTypeRouter(
    {
        "http": DJANGO_DEFAULT_ASGI,
        "websocket": URLRouter([path("chat/", AsyncWebsocketConsumer.as_asgi())]),
    }
)
COLLAB_BEHIND_MIDDLEWARE = ProtocolTypeRouter(
    {
        "http": ASGIStaticFilesHandler(DJANGO_DEFAULT_ASGI),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter([path("live/", URLRouter(websocket_urlpatterns))]))
        ),
    }
)


@pytest.mark.parametrize(
    ("application", "expected"),
    [
        ("tests.test_checks.DJANGO_DEFAULT_ASGI", ["collab.E004"]),
        ("tests.test_checks.HTTP_ONLY_ROUTER", ["collab.E004"]),
        ("tests.test_checks.OTHER_WEBSOCKETS", ["collab.W003"]),
        ("tests.test_checks.COLLAB_BEHIND_MIDDLEWARE", []),
        ("tests.asgi.application", []),
        ("tests.no_such_module.application", []),  # left to the server to report
    ],
)
def test_e004_w003_websockets_are_routed_to_collab(application: str, expected: list[str]) -> None:
    with override_settings(ASGI_APPLICATION=application):
        assert ids(checks.check_websocket_routing()) == expected


def test_w004_runserver_serves_websockets_in_development() -> None:
    installed = list(settings.INSTALLED_APPS)
    without = [app for app in installed if app != "daphne"]
    after_staticfiles = [*without, "daphne"]
    with override_settings(DEBUG=True):
        assert checks.check_development_server() == []
        with override_settings(INSTALLED_APPS=without):
            assert ids(checks.check_development_server()) == ["collab.W004"]
        with override_settings(INSTALLED_APPS=after_staticfiles):
            assert ids(checks.check_development_server()) == ["collab.W004"]
    with override_settings(DEBUG=False, INSTALLED_APPS=without):
        assert checks.check_development_server() == []


def test_w005_static_files_without_runserver_in_development() -> None:
    without = [app for app in settings.INSTALLED_APPS if app != "daphne"]
    with override_settings(DEBUG=True, INSTALLED_APPS=without):
        with override_settings(ASGI_APPLICATION="tests.asgi.application"):
            assert ids(checks.check_static_files_without_runserver()) == ["collab.W005"]
        with override_settings(ASGI_APPLICATION="tests.test_checks.COLLAB_BEHIND_MIDDLEWARE"):
            assert checks.check_static_files_without_runserver() == []
    with override_settings(DEBUG=True, ASGI_APPLICATION="tests.asgi.application"):
        assert checks.check_static_files_without_runserver() == []  # daphne's runserver

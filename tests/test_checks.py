"""Every system check id, in its failing and its passing case."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from collab import checks
from collab.checks import (
    check_asgi_application,
    check_bundle_built,
    check_channel_layer,
    check_channels_installed,
    check_collab_settings,
)

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

"""collab's settings: one ``COLLAB = {...}`` dict in Django settings, read live.

``settings.COLLAB`` is merged over the defaults once and read again whenever Django
says it changed (``override_settings`` and pytest-django's ``settings`` send
``setting_changed``): every frame reads several settings. Defaults are documented in
``docs/configuration.md``.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from django.conf import settings
from django.core.signals import setting_changed

AnonymousAccess = Literal["none", "read", "edit"]

DEFAULTS: dict[str, Any] = {
    "ROUTE_PREFIX": "ws/collab/",
    "HOCUSPOCUS_ROUTE": "ws/hocuspocus",
    "AUTO_CREATE": True,
    "ANONYMOUS_ACCESS": "none",
    "PERMISSION_POLICY": "collab.permissions.default_policy",
    "MAX_FRAME_BYTES": 1024 * 1024,
    "MAX_OUTBOX_BYTES": 8 * 1024 * 1024,
    "RATE_LIMIT_MESSAGES": 200,
    "RATE_LIMIT_PERIOD": 1.0,
    "FLUSH_INTERVAL": 0.25,
    "COMPACT_AFTER_UPDATES": 500,
    "ROOM_GRACE_PERIOD": 10.0,
    "KEEPALIVE_INTERVAL": 20.0,
    "SNAPSHOT_RETENTION": 50,
    "CHANNEL_LAYER": "default",
    "REPAIR_INTERVAL": 2.0,
    "CHANGE_SIGNAL_DELAY": 2.0,
    "PRESENCE_REFRESH": 30.0,
    "CHECKPOINT_INTERVAL": 600.0,
    "MAX_DEPTH": 128,
    "MAX_PENDING_BYTES": 4 * 1024 * 1024,
    "MAX_AWARENESS_STATE_BYTES": 32 * 1024,
    "MAX_AWARENESS_CLIENTS": 4,
    "STATE_REQUEST_LIMIT": 5,
    "STATE_REQUEST_PERIOD": 10.0,
    "MAX_CONNECTIONS_PER_USER": 200,
    "MAX_DOCUMENTS_PER_USER": 100,
    "CREATE_LIMIT": 200,
    "CREATE_PERIOD": 3600.0,
    "QUOTA_CLOSE_DELAY": 5.0,
    "REFUSAL_DELAY": 5.0,
    "AUTH_CACHE_SECONDS": 5.0,
}


class Settings:
    """Typed, live view of ``settings.COLLAB`` merged over :data:`DEFAULTS`."""

    def __init__(self) -> None:
        self._merged: dict[str, Any] | None = None

    def _get(self, name: str) -> Any:
        merged = self._merged
        if merged is None:
            merged = self._merged = {**DEFAULTS, **getattr(settings, "COLLAB", {})}
        return merged[name]

    def reload(self, **kwargs: Any) -> None:
        """Read ``settings.COLLAB`` again at the next access (a ``setting_changed`` receiver)."""
        if kwargs.get("setting") in (None, "COLLAB"):
            self._merged = None

    @property
    def ROUTE_PREFIX(self) -> str:
        """URL path before the document key in the websocket route."""
        return cast(str, self._get("ROUTE_PREFIX"))

    @property
    def HOCUSPOCUS_ROUTE(self) -> str:
        """URL path of the route for Hocuspocus clients (every document on one socket)."""
        return cast(str, self._get("HOCUSPOCUS_ROUTE"))

    @property
    def AUTO_CREATE(self) -> bool:
        """Create a document on first connection by a user allowed to edit it."""
        return cast(bool, self._get("AUTO_CREATE"))

    @property
    def ANONYMOUS_ACCESS(self) -> AnonymousAccess:
        """What the default policy grants anonymous users: "none", "read" or "edit"."""
        return cast(AnonymousAccess, self._get("ANONYMOUS_ACCESS"))

    @property
    def PERMISSION_POLICY(self) -> str:
        """Dotted path of the callable deciding a user's access to a document."""
        return cast(str, self._get("PERMISSION_POLICY"))

    @property
    def MAX_FRAME_BYTES(self) -> int:
        """Largest accepted websocket frame; larger frames close with 4413."""
        return cast(int, self._get("MAX_FRAME_BYTES"))

    @property
    def MAX_OUTBOX_BYTES(self) -> int:
        """Bytes that may wait for a client that is not reading; more closes it with 4504."""
        return cast(int, self._get("MAX_OUTBOX_BYTES"))

    @property
    def RATE_LIMIT_MESSAGES(self) -> int:
        """Changes one connection may send per :attr:`RATE_LIMIT_PERIOD`; more are read later."""
        return cast(int, self._get("RATE_LIMIT_MESSAGES"))

    @property
    def RATE_LIMIT_PERIOD(self) -> float:
        """Length in seconds of the rate-limit window."""
        return float(self._get("RATE_LIMIT_PERIOD"))

    @property
    def FLUSH_INTERVAL(self) -> float:
        """Seconds between an applied update and the batch write that stores it."""
        return float(self._get("FLUSH_INTERVAL"))

    @property
    def COMPACT_AFTER_UPDATES(self) -> int:
        """Update-log rows after which the log is compacted into a snapshot."""
        return cast(int, self._get("COMPACT_AFTER_UPDATES"))

    @property
    def ROOM_GRACE_PERIOD(self) -> float:
        """Seconds a room stays loaded after its last connection leaves."""
        return float(self._get("ROOM_GRACE_PERIOD"))

    @property
    def KEEPALIVE_INTERVAL(self) -> float:
        """Seconds of silence after which the server sends a connection a keepalive frame."""
        return float(self._get("KEEPALIVE_INTERVAL"))

    @property
    def SNAPSHOT_RETENTION(self) -> int:
        """Automatic snapshots kept per document; older ones are deleted on compaction."""
        return cast(int, self._get("SNAPSHOT_RETENTION"))

    @property
    def CHANNEL_LAYER(self) -> str:
        """Alias of the channel layer that links server processes (in ``CHANNEL_LAYERS``)."""
        return cast(str, self._get("CHANNEL_LAYER"))

    @property
    def REPAIR_INTERVAL(self) -> float:
        """Seconds between heartbeats that let processes detect and repair lost messages."""
        return float(self._get("REPAIR_INTERVAL"))

    @property
    def CHANGE_SIGNAL_DELAY(self) -> float:
        """Seconds a room collects changes before sending ``document_changed`` once."""
        return float(self._get("CHANGE_SIGNAL_DELAY"))

    @property
    def PRESENCE_REFRESH(self) -> float:
        """Seconds between refreshes of who is connected, as the admin shows it."""
        return float(self._get("PRESENCE_REFRESH"))

    @property
    def CHECKPOINT_INTERVAL(self) -> float:
        """Seconds of activity after which the log is compacted into a snapshot anyway."""
        return float(self._get("CHECKPOINT_INTERVAL"))

    @property
    def MAX_DEPTH(self) -> int:
        """Deepest nesting of shared types, or of JSON values, an update may create."""
        return cast(int, self._get("MAX_DEPTH"))

    @property
    def MAX_PENDING_BYTES(self) -> int:
        """Bytes of updates a room holds while they wait for updates they depend on."""
        return cast(int, self._get("MAX_PENDING_BYTES"))

    @property
    def MAX_AWARENESS_STATE_BYTES(self) -> int:
        """Largest encoded presence state of one client id."""
        return cast(int, self._get("MAX_AWARENESS_STATE_BYTES"))

    @property
    def MAX_AWARENESS_CLIENTS(self) -> int:
        """Presence client ids one connection may introduce."""
        return cast(int, self._get("MAX_AWARENESS_CLIENTS"))

    @property
    def STATE_REQUEST_LIMIT(self) -> int:
        """Sync step 1 and query-awareness requests answered per :attr:`STATE_REQUEST_PERIOD`."""
        return cast(int, self._get("STATE_REQUEST_LIMIT"))

    @property
    def STATE_REQUEST_PERIOD(self) -> float:
        """Seconds of the window in which :attr:`STATE_REQUEST_LIMIT` requests are answered."""
        return float(self._get("STATE_REQUEST_PERIOD"))

    @property
    def MAX_CONNECTIONS_PER_USER(self) -> int:
        """Connections one user (anonymous: one address) may have open in one process."""
        return int(self._get("MAX_CONNECTIONS_PER_USER"))

    @property
    def MAX_DOCUMENTS_PER_USER(self) -> int:
        """Documents one user (anonymous: one address) may have open in one process."""
        return int(self._get("MAX_DOCUMENTS_PER_USER"))

    @property
    def CREATE_LIMIT(self) -> int:
        """Documents one user (anonymous: one address) may create per :attr:`CREATE_PERIOD`."""
        return int(self._get("CREATE_LIMIT"))

    @property
    def CREATE_PERIOD(self) -> float:
        """Seconds of the window in which :attr:`CREATE_LIMIT` documents may be created."""
        return float(self._get("CREATE_PERIOD"))

    @property
    def QUOTA_CLOSE_DELAY(self) -> float:
        """Seconds a connection over a quota is held open before it is closed with 4409."""
        return float(self._get("QUOTA_CLOSE_DELAY"))

    @property
    def REFUSAL_DELAY(self) -> float:
        """Most seconds a client refused lately waits before its next handshake is checked."""
        return float(self._get("REFUSAL_DELAY"))

    @property
    def AUTH_CACHE_SECONDS(self) -> float:
        """Seconds a handshake may reuse the user another one found for the same session."""
        return float(self._get("AUTH_CACHE_SECONDS"))


conf = Settings()
setting_changed.connect(conf.reload, dispatch_uid="collab.conf.reload")

"""WebSocket close codes collab sends, as documented in ``docs/protocol.md``."""

from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    """Why the server closed a connection."""

    GOING_AWAY = 1001
    """The server is shutting down or the document went away; reconnect elsewhere."""
    UNSUPPORTED_DATA = 1003
    """A text frame arrived; the protocol is binary only."""
    MALFORMED_FRAME = 1007
    """A frame could not be decoded, has an unknown type, or carries an update pycrdt rejects."""
    POLICY_VIOLATION = 1008
    """The connection sent more messages than the rate limit allows."""
    FRAME_TOO_LARGE = 1009
    """A frame was larger than ``COLLAB["MAX_FRAME_BYTES"]``."""
    SERVER_ERROR = 1011
    """The server failed, for example while loading the document from the database."""
    NOT_AUTHENTICATED = 4401
    """The user is anonymous and anonymous access is off."""
    FORBIDDEN = 4403
    """The user may not read this document."""
    NOT_FOUND = 4404
    """No document has this key and the user may not create it (or auto-create is off)."""

"""WebSocket close codes collab sends, as documented in ``docs/protocol.md``.

All codes are in the private-use range 4000-4999: Daphne (through autobahn) refuses to
send any 1xxx code but 1000. y-websocket 3.x stops
reconnecting for good after any code in 4400-4499, so those codes mean "do not come
back" and are used for nothing else (refusals, malformed input). Whatever a client may
retry (a server error, a shutdown, a client too slow to read) is a 45xx code; a client
that sends too fast is slowed down, never closed.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["CloseCode"]


class CloseCode(IntEnum):
    """Why the server closed a connection."""

    MALFORMED_FRAME = 4400
    """A frame could not be decoded, has an unknown type, or carries an update pycrdt rejects."""
    NOT_AUTHENTICATED = 4401
    """The user is anonymous and anonymous access is off."""
    FORBIDDEN = 4403
    """The user may not read this document."""
    NOT_FOUND = 4404
    """No document has this key and the user may not create it (or auto-create is off)."""
    QUOTA_EXCEEDED = 4409
    """The user (anonymous: the client's address) is over a quota: too many connections
    or documents open in this process, or too many documents created in the period.
    Sent after ``QUOTA_CLOSE_DELAY`` seconds, so clients that retry regardless do not
    retry at once."""
    DOCUMENT_DELETED = 4410
    """The document was deleted while the connection was open."""
    UNTRUSTED_ORIGIN = 4412
    """The handshake carries the user's credentials but its ``Origin`` is not this site's
    (scheme, host and port) nor in ``CSRF_TRUSTED_ORIGINS``: a page of another origin."""
    FRAME_TOO_LARGE = 4413
    """A frame was larger than ``COLLAB["MAX_FRAME_BYTES"]``."""
    UNSUPPORTED_DATA = 4415
    """A text frame arrived; the protocol is binary only."""
    CONTENT_REFUSED = 4422
    """An update is valid Yjs but beyond collab's limits: nested deeper than
    ``COLLAB["MAX_DEPTH"]``, values put into a text, a character split in two, or more
    than ``COLLAB["MAX_PENDING_BYTES"]`` waiting for updates it depends on."""
    SERVER_ERROR = 4500
    """The server failed, for example while loading the document from the database."""
    GOING_AWAY = 4503
    """The server process is shutting down; reconnect (to another process)."""
    CLIENT_TOO_SLOW = 4504
    """The client did not read what it was sent: more than ``COLLAB["MAX_OUTBOX_BYTES"]`` waited."""

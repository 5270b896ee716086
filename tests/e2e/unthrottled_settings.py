"""Server settings with a 512 KiB send limit and whole-state requests not throttled.

So what bounds a client that asks for the document over and over and never reads is the
send limit alone, on every server.
"""

from tests.settings import *  # noqa: F403
from tests.settings import COLLAB

COLLAB = {**COLLAB, "MAX_OUTBOX_BYTES": 512 * 1024, "STATE_REQUEST_LIMIT": 1_000_000}

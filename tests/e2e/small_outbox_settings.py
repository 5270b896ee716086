"""Server settings under which a client that stops reading is closed after 512 KiB wait."""

from tests.settings import *  # noqa: F403
from tests.settings import COLLAB

COLLAB = {**COLLAB, "MAX_OUTBOX_BYTES": 512 * 1024}

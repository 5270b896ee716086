"""Server settings under which no update is written on a timer while a test runs.

Only a graceful shutdown can then store what the server applied, so a test that sends
SIGTERM right after an edit checks that shutdown path, never a lucky timer.
"""

from tests.settings import *  # noqa: F403
from tests.settings import COLLAB

COLLAB = {**COLLAB, "FLUSH_INTERVAL": 60.0}

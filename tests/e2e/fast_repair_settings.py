"""Server settings under which a silent process is forgotten within about 3 seconds.

``REPAIR_INTERVAL`` 0.3 s: a process is forgotten after 10 heartbeat intervals of
silence, well before stock clients drop a state nobody renewed (30 s), so a test sees
the server remove a killed process's presence, not the clients' own timeout.
"""

from tests.settings import *  # noqa: F403
from tests.settings import COLLAB

COLLAB = {**COLLAB, "REPAIR_INTERVAL": 0.3}

"""Test settings with collab's default delay for clients refused again."""

from tests.settings import *  # noqa: F403
from tests.settings import COLLAB

COLLAB = {**COLLAB, "REFUSAL_DELAY": 5.0}

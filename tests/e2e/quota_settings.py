"""Test settings with tiny quotas: one open document per user, held a second when refused."""

import os

from tests.settings import *  # noqa: F403
from tests.settings import COLLAB

COLLAB = {
    **COLLAB,
    "MAX_DOCUMENTS_PER_USER": 1,
    "QUOTA_CLOSE_DELAY": float(os.environ.get("COLLAB_TEST_QUOTA_CLOSE_DELAY", "1.0")),
}

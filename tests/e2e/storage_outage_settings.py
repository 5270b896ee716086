"""Server settings for the storage outage tests: anonymous editors, persistent
database connections (as the deployment guide recommends), and SQLite waiting at
most 1 s for a lock (Django's default is 5 s), so that a lock held for 10 s makes
writes fail."""

from tests.settings import *  # noqa: F403
from tests.settings import COLLAB, DATABASES

COLLAB = {**COLLAB, "ANONYMOUS_ACCESS": "edit"}

DATABASES["default"]["CONN_MAX_AGE"] = 60
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {**DATABASES["default"]["OPTIONS"], "timeout": 1}

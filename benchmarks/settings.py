"""Django settings for benchmark servers: the test project, anonymous editing, a fresh DB.

``COLLAB_BENCH_DB`` (a SQLite file) or ``DATABASE_URL`` picks the database; ``REDIS_URL``
switches the channel layer to Redis (several processes), as in :mod:`tests.settings`, with
the channels-redis layer class ``COLLAB_BENCH_LAYER`` names. Anonymous users may edit,
or what ``COLLAB_BENCH_ANONYMOUS`` says ("read" for the hostile-reader benchmark).
"""

from __future__ import annotations

import os

import dj_database_url

from tests.settings import *  # noqa: F403

_database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{os.environ['COLLAB_BENCH_DB']}"
# Connections kept open, as the deployment guide's sample settings do.
DATABASES = {
    "default": dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        # As docs/deployment.md recommends for SQLite: readers never wait for the writer,
        # and a commit does not wait for the disk (a power cut may lose the last ones).
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

if os.environ.get("REDIS_URL"):
    CHANNEL_LAYERS["default"]["BACKEND"] = os.environ["COLLAB_BENCH_LAYER"]  # noqa: F405

COLLAB = {
    "ANONYMOUS_ACCESS": os.environ.get("COLLAB_BENCH_ANONYMOUS", "edit"),  # type: ignore[dict-item]
    "ROOM_GRACE_PERIOD": float(os.environ.get("COLLAB_BENCH_GRACE", "1.0")),
    # Every benchmark client connects from 127.0.0.1, anonymous or as a few users.
    "MAX_CONNECTIONS_PER_USER": 1_000_000,
    "MAX_DOCUMENTS_PER_USER": 1_000_000,
    "CREATE_LIMIT": 1_000_000,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"collab": {"handlers": ["console"], "level": "WARNING"}},
}

"""Django settings for the test suite: real database and Redis when configured."""

from __future__ import annotations

import faulthandler
import os
import signal
from pathlib import Path

import dj_database_url

# A server process that hangs dumps every thread's stack to its log on SIGUSR1
# (tests.e2e.server sends it before killing a server that ignored SIGTERM).
faulthandler.register(signal.SIGUSR1, all_threads=True)

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "collab-tests"
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
USE_TZ = True

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "collab",
    "demo_project.demo",  # an ordinary model with a collaborative field (Article.body)
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "collab.middleware.clear_offline_data_on_logout",
]
ROOT_URLCONF = "tests.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "/static/"
ASGI_APPLICATION = "tests.asgi.application"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

ARTIFACTS = BASE_DIR / ".artifacts"
ARTIFACTS.mkdir(exist_ok=True)
_sqlite_file = os.environ.get("COLLAB_TEST_SQLITE", str(ARTIFACTS / "test.sqlite3"))
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{_sqlite_file}"), conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": _sqlite_file}
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}

REDIS_URL = os.environ.get("REDIS_URL")
CHANNEL_LAYERS = {
    "default": (
        {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
        if REDIS_URL
        else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    )
}

COLLAB = {
    "FLUSH_INTERVAL": 0.05,
    "ROOM_GRACE_PERIOD": 0.2,
    # Tests refuse the same client many times in a row; tests/test_refusals.py and
    # tests/e2e/test_refusals.py turn the delay on.
    "REFUSAL_DELAY": 0,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"collab": {"handlers": ["console"], "level": "INFO"}},
}

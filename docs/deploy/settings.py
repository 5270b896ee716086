"""Production settings of a project serving collab from several processes (excerpt).

Add these to mysite/settings.py; see docs/deployment.md. Secrets and addresses come
from the environment.
"""

import os

DEBUG = False
ALLOWED_HOSTS = ["collab.example.com"]

# nginx terminates TLS and says so in X-Forwarded-Proto (it overwrites any value a
# client sends), so Django may trust the header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

STATIC_ROOT = "/srv/mysite/static"

# Every process reads and writes the same documents: use PostgreSQL.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "mysite",
        "USER": "mysite",
        "PASSWORD": os.environ.get("DATABASE_PASSWORD", ""),
        "HOST": os.environ.get("DATABASE_HOST", "127.0.0.1"),
        "PORT": "5432",
        # Every websocket connection and every batch of stored edits uses the database:
        # keep connections open rather than connecting anew each time.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        # A database host that does not answer at all fails in seconds instead of the
        # system's TCP timeout (about two minutes), so rooms report the outage early.
        "OPTIONS": {"connect_timeout": 5},
    }
}

# The layer that links the processes: every process must use the same Redis.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")]},
    }
}

COLLAB = {
    "CHANNEL_LAYER": "default",
    "REPAIR_INTERVAL": 2.0,
}

"""Server settings behind a TLS-terminating proxy, as in ``docs/deploy/settings.py``.

The proxy says in ``X-Forwarded-Proto`` that the browser used TLS, so the origin of
the pages it serves is ``https://…`` even though the server itself speaks plain ``ws``.
"""

from tests.settings import *  # noqa: F403

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

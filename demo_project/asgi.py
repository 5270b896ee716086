"""ASGI entry point: Django serves HTTP, collab serves the websocket routes.

This is the integration a project copies to add collab.
"""

from __future__ import annotations

import gc
import os

from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_project.settings")
# Set Django up before importing code that imports models.
django_asgi_app = get_asgi_application()

import collab.routing  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            URLRouter([*collab.routing.websocket_urlpatterns, collab.routing.unmatched_path_route])
        ),
    }
)

# What startup loaded lives as long as the process: keep the cycle collector off it
# (see the deployment guide).
gc.freeze()

"""Websocket routes to include in your project's ASGI application.

``COLLAB["ROUTE_PREFIX"]`` is read when this module is first imported.
"""

from __future__ import annotations

from django.urls import URLPattern, re_path

from collab.conf import conf
from collab.consumers import DocumentConsumer
from collab.keys import KEY_PATTERN

websocket_urlpatterns: list[URLPattern] = [
    re_path(
        rf"^{conf.ROUTE_PREFIX}(?P<key>{KEY_PATTERN})$",
        DocumentConsumer.as_asgi(),
        name="collab-document",
    ),
]

"""Websocket routes to include in your project's ASGI application.

``COLLAB["ROUTE_PREFIX"]`` is read when this module is first imported.
"""

from __future__ import annotations

import re
from typing import Any

from django.urls import URLPattern, re_path

from collab.conf import conf
from collab.consumers import DocumentConsumer, refuse_unmatched_path
from collab.hocuspocus import HocuspocusConsumer
from collab.keys import KEY_PATTERN

__all__ = ["unmatched_path_route", "websocket_urlpatterns"]

_refuse: Any = refuse_unmatched_path
"""Channels' ``URLRouter`` routes to ASGI applications; django-stubs types ``re_path``
for views only."""
_hocuspocus: Any = HocuspocusConsumer.as_asgi()
_document: Any = DocumentConsumer.as_asgi()

websocket_urlpatterns: list[URLPattern] = [
    re_path(
        rf"^{re.escape(conf.HOCUSPOCUS_ROUTE)}$",
        _hocuspocus,
        name="collab-hocuspocus",
    ),
    re_path(
        rf"^{conf.ROUTE_PREFIX}(?P<key>{KEY_PATTERN})$",
        _document,
        name="collab-document",
    ),
    re_path(rf"^{conf.ROUTE_PREFIX}", _refuse, name="collab-no-document"),
]
"""The route for Hocuspocus clients (``HOCUSPOCUS_ROUTE``, every document on one
socket), the document route for y-websocket clients, then a route that refuses (with
4404) any other path under ``ROUTE_PREFIX``: one that is not a valid document key."""

unmatched_path_route: URLPattern = re_path(r"", _refuse, name="collab-unmatched")
"""Matches every path: put it last in your websocket ``URLRouter``, so that a path no
route matches is refused with 4404 instead of raising an error that the server logs
with a traceback and answers with HTTP 500."""

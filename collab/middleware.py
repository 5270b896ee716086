"""HTTP middleware: clearing the browser's offline copies of documents on logout."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware

__all__ = ["clear_offline_data_on_logout"]

logger = logging.getLogger(__name__)

MIDDLEWARE = "collab.middleware.clear_offline_data_on_logout"
"""The entry of ``settings.MIDDLEWARE`` that clears offline copies on logout."""

LOGGED_OUT = "_collab_logged_out"
"""Attribute set on a request during which its user logged out."""

CLEAR_SITE_DATA = '"storage"'
"""The ``Clear-Site-Data`` value sent on logout: the site's IndexedDB, local storage and caches."""

GetResponse = Callable[[HttpRequest], HttpResponseBase]
AsyncGetResponse = Callable[[HttpRequest], Awaitable[HttpResponseBase]]


@receiver(user_logged_out, dispatch_uid="collab.mark_logout")
def mark_logout(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    """Remember on ``request`` that its user logged out, for the middleware below."""
    if request is not None:
        setattr(request, LOGGED_OUT, True)


def _cleared(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    if getattr(request, LOGGED_OUT, False):
        response["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


@sync_and_async_middleware
def clear_offline_data_on_logout(
    get_response: GetResponse | AsyncGetResponse,
) -> GetResponse | AsyncGetResponse:
    """Answers a request that logged its user out with ``Clear-Site-Data: "storage"``.

    The browser then deletes the site's storage, and with it the offline copies of
    documents that editors with ``offline=True`` keep in IndexedDB, so what the user
    had open does not stay behind on a shared computer. Any view that logs the user
    out (``LogoutView``, the admin's, a project's own calling ``logout()``) is covered.
    Browsers honour the header on HTTPS and on ``localhost`` / ``127.0.0.1`` only.
    """
    if iscoroutinefunction(get_response):
        get_async = get_response

        async def async_middleware(request: HttpRequest) -> HttpResponseBase:
            return _cleared(request, await get_async(request))

        return async_middleware

    get_sync: GetResponse = get_response  # type: ignore[assignment]

    def sync_middleware(request: HttpRequest) -> HttpResponseBase:
        return _cleared(request, get_sync(request))

    return sync_middleware


@functools.cache
def warn_if_missing() -> None:
    """Log once per process if offline copies outlive a logout (the middleware is missing)."""
    if MIDDLEWARE not in settings.MIDDLEWARE:
        logger.warning(
            "collab: an editor keeps offline copies, but %s is not in MIDDLEWARE: "
            "logging out leaves them in the browser",
            MIDDLEWARE,
        )

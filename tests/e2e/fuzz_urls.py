"""HTTP routes of the fuzzer's server: the test routes, and the rooms it holds open.

The fuzzer asks a running server process, from outside, whether every room was left:
only that process knows its rooms.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path

from collab.registry import get_registry
from tests.urls import urlpatterns as test_urlpatterns

OPEN_ROOMS_PATH = "fuzz/open-rooms"


async def open_rooms(request: HttpRequest) -> JsonResponse:
    """Each room of this process (loaded, loading or unloading), with its connections.

    An async view runs on the server's event loop, whose registry holds the rooms.
    """
    rooms = get_registry().open_rooms()
    return JsonResponse({"rooms": [{"key": room.key, "peers": room.peer_count} for room in rooms]})


urlpatterns = [*test_urlpatterns, path(OPEN_ROOMS_PATH, open_rooms)]

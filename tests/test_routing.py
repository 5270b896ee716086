"""Paths no route matches are refused with 4404 and one short log line, no traceback."""

from __future__ import annotations

import logging

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from collab.close_codes import CloseCode
from collab.routing import unmatched_path_route, websocket_urlpatterns
from tests.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://testserver")]

UNMATCHED = [
    "/elsewhere",
    "/",
    "/ws/collab/",
    "/ws/collab/a/b",
    "/ws/collab/-a",
    "/ws/collab/" + "k" * 201,
]
"""Outside the route prefix, and under it without a valid document key."""


async def close_code(path: str) -> int:
    """Open a websocket on ``path`` of the test project and return how it was closed."""
    communicator = WebsocketCommunicator(application, path, ORIGIN)
    connected, _ = await communicator.connect()
    assert connected
    output = await communicator.receive_output(1)
    assert output["type"] == "websocket.close"
    await communicator.wait()
    return int(output["code"])


@pytest.mark.parametrize("path", UNMATCHED)
async def test_an_unmatched_path_is_refused_without_a_traceback(
    path: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="collab"):
        assert await close_code(path) == CloseCode.NOT_FOUND
    (record,) = caplog.records
    assert record.exc_info is None
    assert len(record.getMessage()) < 200


async def test_without_the_catch_all_route_channels_raises() -> None:
    """What the catch-all route prevents: an error the server logs with its traceback."""
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/elsewhere")
    with pytest.raises(ValueError, match="No route found"):
        await communicator.connect()


def test_the_catch_all_route_matches_every_path() -> None:
    for path in ("", "x", "ws/collab/doc", "a/b/c?d"):
        assert unmatched_path_route.pattern.match(path)

"""A client refused again waits longer before each check, and is logged less often."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Permission, User
from django.test import override_settings

from collab.close_codes import CloseCode
from collab.registry import RoomRegistry
from tests.ws import Client, connected

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def delays() -> Iterator[None]:
    with override_settings(COLLAB={"REFUSAL_DELAY": 1.5}):
        yield


async def refused_in(client: Client) -> float:
    """Seconds from the handshake to the refusal (4403)."""
    started = time.monotonic()
    assert await client.refused_with() == CloseCode.FORBIDDEN
    return time.monotonic() - started


async def test_each_refusal_in_a_row_waits_longer(
    outsider: User, delays: None, rooms: RoomRegistry
) -> None:
    waits = [await refused_in(Client("private", outsider)) for _ in range(4)]
    assert waits[0] < 0.3  # the first answer is immediate
    assert 0.5 <= waits[1] < 0.8
    assert 1.0 <= waits[2] < 1.3
    assert 1.5 <= waits[3] < 1.8  # REFUSAL_DELAY caps it
    assert await refused_in(Client("another", outsider)) < 0.3  # per document


async def test_a_client_let_in_starts_afresh(
    outsider: User, delays: None, rooms: RoomRegistry
) -> None:
    await refused_in(Client("granted", outsider))
    await User.user_permissions.through.objects.acreate(
        user=outsider,
        permission=await Permission.objects.aget(
            content_type__app_label="collab", codename="change_document"
        ),
    )
    outsider = await User.objects.aget(pk=outsider.pk)
    client = await connected("granted", outsider)  # after the delay of one refusal
    await client.disconnect()
    await User.user_permissions.through.objects.filter(user=outsider).adelete()
    assert await refused_in(Client("granted", await User.objects.aget(pk=outsider.pk))) < 0.3


async def test_repeated_refusals_are_logged_less_often(
    outsider: User, rooms: RoomRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="collab")
    for _ in range(9):
        assert await Client("logged", outsider).refused_with() == CloseCode.FORBIDDEN
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 4  # the 1st, 2nd, 4th and 8th
    assert warnings[-1].endswith("(refused 8 times in a row)")

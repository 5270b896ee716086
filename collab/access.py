"""Access follows the truth while connected: open connections are checked again on change.

A connection's access is decided at the handshake. When something it depends on
changes — the user's permissions or groups, their session, password, ``is_active``
flag or existence (:mod:`collab.revocation` notices those), or whatever a project's
own permission policy reads (the project calls :func:`recheck`) — every process
checks its open connections of that user or document again: one that may now only
read is downgraded in place (its later edits are dropped and it is told it is
read-only), one that may no longer read is closed with 4401 or 4403.

The other processes hear of a recheck through the channel layer: each process keeps
one layer channel in the group :data:`ACCESS_GROUP` while it has connections.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol
from weakref import WeakSet

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.db import transaction

from collab import recent
from collab.aio import PerLoop, background, cancelling
from collab.close_codes import CloseCode
from collab.conf import conf
from collab.permissions import Access
from collab.relay_hub import cross_process_layer

if TYPE_CHECKING:
    from channels.layers import BaseChannelLayer

    from collab.permissions import User

__all__ = ["arecheck", "recheck"]

logger = logging.getLogger(__name__)

ACCESS_GROUP = "collab.access"
"""The channel-layer group through which processes ask each other to recheck access."""

GROUP_RENEWAL = 60.0
"""Seconds between renewals of a process's membership in :data:`ACCESS_GROUP` (a Redis
that restarted empty forgets groups; the core layer expires them after a day)."""

_deciding = threading.local()
"""``active`` while this thread decides connections' access."""

STOP_TIMEOUT = 1.0
"""Seconds a stopped listener waits for leaving the group."""

RETRY_DELAY = 1.0
"""Seconds before listening again after the channel layer failed."""


class Checked(Protocol):
    """An open connection as rechecks see it."""

    key: str
    user_id: int | None

    def current_access(self) -> tuple[Access, bool]:
        """What the connection's user may do now, and whether that user is logged in.

        Blocking: reads the session, the user and the policy's data.
        """

    async def apply_access(self, access: Access, authenticated: bool) -> None:
        """Downgrade the connection to ``access``, or close it if that is ``NONE``."""


class _Process:
    """The open connections on one event loop, and its listener in :data:`ACCESS_GROUP`."""

    def __init__(self) -> None:
        self.connections: WeakSet[Checked] = WeakSet()
        self.channel = ""
        self._layer: BaseChannelLayer | None = None
        self._listening: asyncio.Task[None] | None = None

    def add(self, connection: Checked) -> None:
        self.connections.add(connection)
        if self._listening is None:
            self._layer = cross_process_layer()
            if self._layer is not None:
                self._listening = background(self._listen(self._layer))

    def remove(self, connection: Checked) -> None:
        self.connections.discard(connection)
        if not self.connections:
            recent.forget_users(None)  # without a listener, changes would go unheard
        if not self.connections and self._listening is not None:
            self._listening.cancel()
            self._listening = None
            if self.channel and self._layer is not None:
                background(_leave_group(self._layer, self.channel))
            self.channel = ""

    async def _listen(self, layer: BaseChannelLayer) -> None:
        """Listen until stopped; a layer may turn the cancellation into another error."""
        while self._listening is asyncio.current_task():
            try:
                if not self.channel:
                    self.channel = await layer.new_channel()
                async with asyncio.TaskGroup() as tasks:
                    tasks.create_task(self._stay_in_group(layer, self.channel))
                    tasks.create_task(self._receive(layer, self.channel))
            except Exception as exc:
                if cancelling():
                    return  # the layer turned the cancellation into another error
                logger.warning("collab: listening for access changes failed: %r", exc)
                await asyncio.sleep(RETRY_DELAY)

    @staticmethod
    async def _stay_in_group(layer: BaseChannelLayer, channel: str) -> None:
        while True:
            await layer.group_add(ACCESS_GROUP, channel)
            await asyncio.sleep(GROUP_RENEWAL)

    @staticmethod
    async def _receive(layer: BaseChannelLayer, channel: str) -> None:
        while True:
            message = await layer.receive(channel)
            if message.get("from") != channel:
                await _recheck_here(message.get("users"), message.get("key"))


async def _leave_group(layer: BaseChannelLayer, channel: str) -> None:
    try:
        await asyncio.wait_for(layer.group_discard(ACCESS_GROUP, channel), STOP_TIMEOUT)
    except Exception as exc:
        logger.warning("collab: leaving the access group failed: %r", exc)


_processes = PerLoop(_Process)


def watch(connection: Checked) -> None:
    """Check ``connection`` again whenever its user's or document's access may change."""
    _processes.get().add(connection)


def unwatch(connection: Checked) -> None:
    """Stop checking ``connection`` (it closed); the last one out stops the listener."""
    _processes.get().remove(connection)


def recheck(*, user: User | int | None = None, key: str | None = None) -> None:
    """Check the open connections of ``user`` to ``key`` again, in every process.

    Call it when your permission policy's answer may have changed for reasons collab
    cannot see (your own models). Without ``user``, every user's connections to
    ``key`` are checked; without ``key``, the user's connections to every document;
    without either, all connections. Inside a transaction it waits for the commit, so
    the check sees the change. For synchronous code; use :func:`arecheck` in async code.
    """
    user_ids = None if user is None else [_user_id(user)]
    transaction.on_commit(partial(_recheck_from_sync_code, user_ids, key))


async def arecheck(*, user: User | int | None = None, key: str | None = None) -> None:
    """:func:`recheck` for async code (it does not wait for a transaction)."""
    await _recheck_everywhere(None if user is None else [_user_id(user)], key)


def recheck_users(user_ids: Iterable[int] | None) -> None:
    """:func:`recheck` for several users at once (``None``: everyone), after the commit.

    Not while a recheck reads the users' sessions: Django deletes a session whose
    password hash no longer matches, and that recheck already covers its user.
    """
    ids = None if user_ids is None else sorted(set(user_ids))
    if ids != [] and not getattr(_deciding, "active", False):
        transaction.on_commit(partial(_recheck_from_sync_code, ids, None))


def _user_id(user: User | int) -> int:
    if isinstance(user, int):
        return user
    if user.pk is None:
        raise ValueError("an anonymous or unsaved user has no connections of its own")
    return int(user.pk)


def _recheck_from_sync_code(user_ids: list[int] | None, key: str | None) -> None:
    """Recheck and wait for it; in a thread that runs an event loop, start it there instead."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        async_to_sync(_recheck_everywhere)(user_ids, key)
    else:
        background(_recheck_everywhere(user_ids, key))


async def _recheck_everywhere(user_ids: list[int] | None, key: str | None) -> None:
    await _recheck_here(user_ids, key)
    layer = cross_process_layer()
    if layer is None:
        return
    message: dict[str, Any] = {"type": "collab.recheck", "users": user_ids, "key": key}
    process = _processes.existing()
    try:
        if process is not None and process.channel:
            await layer.group_send(ACCESS_GROUP, {**message, "from": process.channel})
        else:
            await _send_from_elsewhere(ACCESS_GROUP, {**message, "from": ""})
    except Exception as exc:
        logger.error("collab: telling other processes to recheck access failed: %r", exc)


async def _send_from_elsewhere(group: str, message: dict[str, Any]) -> None:
    """Send through a layer of its own, closed after: from a loop that only lives for this.

    A management command, the shell or a thread of its own runs the recheck in an event
    loop made for it; the shared layer would keep Redis connections bound to that loop
    after it closed.
    """
    layer = channel_layers.make_backend(conf.CHANNEL_LAYER)
    try:
        await layer.group_send(group, message)
    finally:
        if isinstance(layer, RedisChannelLayer):
            await layer.close_pools()
        elif isinstance(layer, RedisPubSubChannelLayer):
            await layer.flush()  # pub/sub keeps no data: this only closes its connections


async def _recheck_here(user_ids: list[int] | None, key: str | None) -> None:
    """Check this process's matching connections again and apply what they may do now.

    Handshakes stop reusing the users concerned (:mod:`collab.recent`) first.
    """
    recent.forget_users(None if user_ids is None or key is not None else set(user_ids))
    process = _processes.existing()
    if process is None:
        return
    users = None if user_ids is None else set(user_ids)
    connections = [
        connection
        for connection in list(process.connections)
        if (users is None or connection.user_id in users) and key in (None, connection.key)
    ]
    if not connections:
        return
    try:
        decisions = await database_sync_to_async(_decide, thread_sensitive=False)(connections)
    except Exception:
        logger.exception("collab: checking access again failed; connections keep their access")
        return
    for connection, (access, authenticated) in zip(connections, decisions, strict=True):
        await connection.apply_access(access, authenticated)


def _decide(connections: list[Checked]) -> list[tuple[Access, bool]]:
    """What each connection may do now.

    Runs in a worker thread of its own: a recheck may be asked for from any thread,
    collab's database thread included, and waits for this.
    """
    _deciding.active = True
    try:
        return [connection.current_access() for connection in connections]
    finally:
        _deciding.active = False


def closing_code(authenticated: bool) -> CloseCode:
    """The code that closes a connection whose user may no longer read the document."""
    return CloseCode.FORBIDDEN if authenticated else CloseCode.NOT_AUTHENTICATED

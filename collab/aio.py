"""asyncio helpers: background tasks, per-loop singletons, and hops to worker threads."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, ParamSpec, TypeVar, cast
from weakref import WeakKeyDictionary

from channels.db import database_sync_to_async

T = TypeVar("T")
P = ParamSpec("P")

_DATABASE_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collab-database")
"""The one thread where rooms use the database (one connection, kept per CONN_MAX_AGE)."""


class PerLoop(Generic[T]):
    """One ``T`` per event loop (one per server process), made by ``factory`` on first use."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._instances: WeakKeyDictionary[asyncio.AbstractEventLoop, T] = WeakKeyDictionary()

    def get(self) -> T:
        """The running loop's instance, made now if it has none."""
        loop = asyncio.get_running_loop()
        instance = self._instances.get(loop)
        if instance is None:
            instance = self._instances[loop] = self._factory()
        return instance

    def existing(self) -> T | None:
        """The running loop's instance, if one was made."""
        return self._instances.get(asyncio.get_running_loop())


def cancelling() -> bool:
    """Whether the running task was asked to stop.

    A library may turn the cancellation of a call into another error (redis-py raising
    a timeout, say). A loop that retries after errors must then end rather than retry:
    a server shutting down cancels every task and waits for all of them.
    """
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def background(coroutine: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """Run ``coroutine`` as a task that does not inherit the caller's context variables.

    A room's tasks may be started from ``async_to_sync`` (a server-side edit in a
    view); inheriting its context would make their later database calls use an
    executor that ends with that call.
    """
    return asyncio.get_running_loop().create_task(coroutine, context=contextvars.Context())


class OnDemand:
    """Runs ``work`` in a background task when asked, never twice at once.

    ``start()`` while a run is under way does nothing: each ``work`` goes on until
    nothing is left to do (a queue drained, a delay waited out), so what was asked for
    meanwhile is done by the run already started. The task is held here, since the event
    loop keeps only weak references to tasks.
    """

    __slots__ = ("_work", "task")

    def __init__(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._work = work
        self.task: asyncio.Task[None] | None = None
        """The run under way, if any."""

    def start(self) -> None:
        """Start a run unless one is under way."""
        if self.task is None:
            self.task = background(self._run())

    def cancel(self) -> None:
        """Cancel the run under way, if any."""
        if self.task is not None:
            self.task.cancel()

    async def _run(self) -> None:
        try:
            await self._work()
        finally:
            self.task = None


def in_worker_thread(func: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """Make ``func`` (blocking database work of a room) awaitable in collab's database thread.

    Not in Django's thread for thread-sensitive code: a sync view that waits for a room
    (an admin restore stores the room's pending edits first) holds that thread, so room
    writes queued behind it would never run and both would wait forever. Stale database
    connections are closed before and after, as Channels does.
    """
    return cast(
        Callable[P, Awaitable[T]],
        database_sync_to_async(func, thread_sensitive=False, executor=_DATABASE_THREAD),
    )


class SyncBatches:
    """Blocking calls made at about the same time, run in one hop to Django's thread.

    Each hop to the thread for thread-sensitive code (``database_sync_to_async``) costs
    the event loop about as much as a handshake's own work. In a reconnect storm,
    handshakes arrive faster than their authorizations run: the calls that arrived while
    one batch ran go together in the next, so a lone call waits for nothing and a storm
    pays a few hops instead of one per connection.
    """

    def __init__(self) -> None:
        self._waiting: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        self._runner = OnDemand(self._run_batches)

    async def run(self, func: Callable[[], T]) -> T:
        """Run ``func`` in Django's thread for thread-sensitive code; return its result.

        Raises:
            Exception: Whatever ``func`` raised.
        """
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((func, future))
        self._runner.start()
        return await future

    async def _run_batches(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                outcomes = await database_sync_to_async(_call_each)([f for f, _ in batch])
            except asyncio.CancelledError:
                for _, future in [*batch, *self._waiting]:
                    future.cancel()
                raise
            except Exception as exc:  # the hop itself failed
                outcomes = [(False, exc)] * len(batch)
            for (_, future), (succeeded, value) in zip(batch, outcomes, strict=True):
                if future.done():
                    continue  # its caller was cancelled meanwhile
                if succeeded:
                    future.set_result(value)
                else:
                    future.set_exception(value)


def _call_each(funcs: list[Callable[[], Any]]) -> list[tuple[bool, Any]]:
    """Call each of ``funcs``; pair whether it returned with its result or exception."""
    outcomes: list[tuple[bool, Any]] = []
    for func in funcs:
        try:
            outcomes.append((True, func()))
        except Exception as exc:
            outcomes.append((False, exc))
    return outcomes


sync_batches = PerLoop(SyncBatches)
"""The running loop's :class:`SyncBatches`."""

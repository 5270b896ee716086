"""Background tasks that outlive the code that started them."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def background(coroutine: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """Run ``coroutine`` as a task that does not inherit the caller's context variables.

    A room's tasks may be started from ``async_to_sync`` (a server-side edit in a
    view); inheriting its context would make their later database calls use an
    executor that ends with that call.
    """
    return asyncio.get_running_loop().create_task(coroutine, context=contextvars.Context())

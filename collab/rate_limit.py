"""Per-connection limits on how often something may happen per period."""

from __future__ import annotations

import time


class RateLimiter:
    """Fixed-window counter: at most ``limit`` events per ``period`` seconds.

    A window starts with the limiter, and a new one with the first event after the
    previous window ended.
    """

    __slots__ = ("_count", "_limit", "_period", "_window_start")

    def __init__(self, limit: int, period: float) -> None:
        self._limit = limit
        self._period = period
        self._window_start = time.monotonic()
        self._count = 0

    def allow(self) -> bool:
        """Count one event; return False once the current window is over its limit."""
        now = time.monotonic()
        if now - self._window_start >= self._period:
            self._window_start = now
            self._count = 0
        self._count += 1
        return self._count <= self._limit

    def take(self) -> float:
        """Count one event; return how long the next must wait (0: it need not wait).

        The event that spends the window's budget is told to wait until it renews, so
        at most ``limit`` events fall in a window when the caller waits as told.
        """
        self.allow()
        return self.renews_in() if self._count >= self._limit else 0.0

    def renews_in(self) -> float:
        """Seconds until the current window ends (0 if it already has)."""
        return max(0.0, self._window_start + self._period - time.monotonic())

"""Bounded polling: every wait in the e2e suite ends in a result or a clear failure."""

from __future__ import annotations

import time
from collections.abc import Callable

POLL_INTERVAL = 0.02
"""Seconds between two checks of a condition."""


def wait_until(condition: Callable[[], bool], timeout: float, describe: Callable[[], str]) -> None:
    """Poll ``condition`` until it holds; it is checked at least once.

    Raises:
        AssertionError: It still did not hold after ``timeout`` seconds; the message is
            ``describe()``, called then so it can show the last state seen.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"after {timeout:.2f} s: {describe()}")
        time.sleep(POLL_INTERVAL)

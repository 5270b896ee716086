"""Blocking calls of many handshakes share hops to Django's thread, each keeping its outcome."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from collab.aio import SyncBatches


async def test_calls_made_meanwhile_share_one_hop() -> None:
    batches = SyncBatches()
    threads: list[int] = []
    started = threading.Event()

    def first() -> str:
        started.set()
        time.sleep(0.2)
        return "first"

    def later(number: int) -> int:
        threads.append(threading.get_ident())
        return number

    running = asyncio.create_task(batches.run(first))
    await asyncio.to_thread(started.wait)
    results = await asyncio.gather(*(batches.run(lambda n=n: later(n)) for n in range(50)))
    assert await running == "first"
    assert results == list(range(50))
    assert len(set(threads)) == 1


async def test_each_caller_gets_its_own_exception() -> None:
    batches = SyncBatches()

    def fails() -> None:
        raise LookupError("only this one")

    outcomes = await asyncio.gather(
        batches.run(lambda: 1), batches.run(fails), batches.run(lambda: 3), return_exceptions=True
    )
    assert outcomes[::2] == [1, 3]
    assert isinstance(outcomes[1], LookupError)


async def test_a_cancelled_caller_does_not_disturb_the_others() -> None:
    batches = SyncBatches()
    started = threading.Event()

    def slow() -> str:
        started.set()
        time.sleep(0.2)
        return "slow"

    running = asyncio.create_task(batches.run(slow))
    await asyncio.to_thread(started.wait)
    cancelled = asyncio.create_task(batches.run(lambda: "never seen"))
    kept = asyncio.create_task(batches.run(lambda: "kept"))
    await asyncio.sleep(0)
    cancelled.cancel()
    assert await running == "slow"
    assert await kept == "kept"
    with pytest.raises(asyncio.CancelledError):
        await cancelled

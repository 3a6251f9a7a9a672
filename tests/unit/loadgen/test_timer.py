"""The open loop's precise sleep: on time to well under a millisecond, never early."""

from __future__ import annotations

import asyncio
import statistics

from tcobench.loadgen.timer import now_ns, sleep_until


def test_sleep_until_wakes_on_time_and_never_early() -> None:
    async def go() -> list[int]:
        late = []
        for k in range(40):
            target = now_ns() + 1_000_000 + 37_000 * k  # 1.0 .. 2.4 ms ahead, off the millisecond grid
            await sleep_until(target)
            late.append(now_ns() - target)
        return late

    late = asyncio.run(go())
    assert min(late) >= 0
    # the loop's own timer would be ~0.5 ms late on average (it rounds up to whole milliseconds)
    assert statistics.median(late) < 300_000, late


def test_a_cancelled_sleep_leaves_the_next_one_working() -> None:
    async def go() -> int:
        task = asyncio.create_task(sleep_until(now_ns() + 50_000_000))
        await asyncio.sleep(0.001)
        task.cancel()
        target = now_ns() + 2_000_000
        await sleep_until(target)
        return now_ns() - target

    assert 0 <= asyncio.run(go()) < 20_000_000

"""Wall time of one callable on a device: warm it up, then repeat it to a time budget; the fastest repetition."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from tcobench.local.device import Device, synchronize


@dataclass(frozen=True)
class Timing:
    """Seconds of one call. ``seconds`` is the fastest repetition: on a shared machine other work only ever slows a
    repetition down, so the fastest is the device's own speed (``timeit``'s advice); the median and the slowest
    are kept beside it to show the spread."""

    seconds: float  # fastest repetition
    median: float
    high: float  # slowest
    reps: int


def timed(fn: Callable[[], object], dev: Device, *, budget_s: float = 0.2, warm: int = 2, max_reps: int = 1000,
          min_reps: int = 3) -> Timing:
    """Seconds of ``fn()`` (``Timing``) over repetitions that fill about ``budget_s`` (at least ``min_reps``), each
    ended by a device synchronisation, after ``warm`` unmeasured calls. On a GPU, one call per repetition keeps
    the launch in each figure, as a decode step pays it."""
    for _ in range(warm):
        fn()
    synchronize(dev)
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max_reps and (len(times) < min_reps or time.perf_counter() - start < budget_s):
        t0 = time.perf_counter()
        fn()
        synchronize(dev)
        times.append(time.perf_counter() - t0)
    return Timing(min(times), statistics.median(times), max(times), len(times))


def timed_batch(fn: Callable[[], object], dev: Device, *, inner: int, budget_s: float = 0.2, warm: int = 2) -> Timing:
    """Seconds per call of ``fn`` when it is called ``inner`` times between synchronisations (kernels queued
    back to back): what one tiny kernel costs in a stream of them."""
    def many() -> None:
        for _ in range(inner):
            fn()

    t = timed(many, dev, budget_s=budget_s, warm=warm)
    return Timing(t.seconds / inner, t.median / inner, t.high / inner, t.reps)

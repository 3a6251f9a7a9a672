"""Drive one load level: a closed loop at fixed concurrency, or an open loop at a request rate.

Closed loop: ``concurrency`` workers, each sends its next request the moment its last one ends
(intended send time = that moment). Open loop: requests are sent on a schedule of arrival offsets,
whatever is in flight (intended send time = the schedule). In both, the actual send time is taken
inside the client, so client lag (actual - intended) shows an overloaded client instead of hiding it
in the latencies.

The first ``warmup`` requests of a level are sent as part of the load but flagged, and the metrics
leave them out of every latency distribution. ``stop`` (set on Ctrl-C, SIGTERM or SIGHUP) ends the
level at once: nothing new is sent, requests in flight are cancelled and recorded as cancelled, and
every request already finished is kept. A level's duration is a hard deadline in the same way: when
it ends, requests still in flight (a stalled stream among them) are cancelled, not waited for.

Spread over several client processes (``bench --workers``, ``spread.py``), each process runs ``run_level`` for its
``Part`` of the level from a common start: in an open loop, part i of n sends arrivals i, i+n, i+2n, ... of the one
seeded schedule (so the parts add up to the requested rate exactly, and to the same requests a single process
sends); in a closed loop, it runs its share of the concurrency and numbers its requests i, i+n, i+2n, ...
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field

from tcobench.errors import InputError
from tcobench.loadgen.arrivals import Arrival, offsets
from tcobench.loadgen.client import Client, now_ns
from tcobench.loadgen.prompts import PromptSource
from tcobench.loadgen.result import RequestResult
from tcobench.loadgen.timer import sleep_until

RETRY_AFTER_CAP_S = 60.0  # a closed-loop worker told to wait by 429/503 waits at most this long
STOPPED = "stopped by a signal (Ctrl-C, SIGTERM or SIGHUP)"  # why a request was cancelled: its detail
DEADLINE = "the level's duration ended"


@dataclass(frozen=True, slots=True)
class Load:
    """One load level: ``concurrency`` (closed loop) or ``rate`` in requests/s (open loop)."""

    concurrency: int | None = None
    rate: float | None = None
    arrival: Arrival = field(default_factory=lambda: Arrival("poisson"))

    def __post_init__(self) -> None:
        if (self.concurrency is None) == (self.rate is None):
            raise InputError("a load level needs exactly one of concurrency or rate")
        if self.concurrency is not None and self.concurrency < 1:
            raise InputError(f"concurrency must be >= 1, got {self.concurrency}")
        if self.rate is not None and not self.rate > 0:
            raise InputError(f"request rate must be > 0 requests/s, got {self.rate}")

    @property
    def label(self) -> str:
        return f"concurrency {self.concurrency}" if self.concurrency is not None else f"rate {self.rate:g}/s {self.arrival}"


@dataclass(frozen=True, slots=True)
class Plan:
    """How much to send at each level. At least one of ``num_requests`` and ``duration_s``; the
    level ends at whichever comes first. ``warmup`` requests come on top of ``num_requests``."""

    num_requests: int | None = None
    duration_s: float | None = None
    warmup: int = 0
    output_len: int | None = None  # max_tokens; None lets each prompt (ShareGPT) or the server decide

    def __post_init__(self) -> None:
        if self.num_requests is None and self.duration_s is None:
            raise InputError("give {num_requests} or {duration_s} (or both)", params=("num_requests", "duration_s"))
        if self.num_requests is not None and self.num_requests < 1:
            raise InputError(f"{{num_requests}} must be >= 1, got {self.num_requests}", params=("num_requests",))
        if self.duration_s is not None and not self.duration_s > 0:
            raise InputError(f"{{duration_s}} must be > 0 s, got {self.duration_s}", params=("duration_s",))
        if self.warmup < 0:
            raise InputError(f"{{warmup}} must be >= 0, got {self.warmup}", params=("warmup",))


LOOP_PROBE_S = 0.005  # how often the client's event loop is timed while a level runs


@dataclass(frozen=True, slots=True)
class ClientUse:
    """What one client process spent on a level: CPU seconds (``time.process_time``: every thread of the process)
    over wall seconds, and its event loop's turns (ns): how long a task that yields waited to run again, sampled
    every LOOP_PROBE_S. A chunk's arrival is timestamped when the loop comes round to it, so a turn is how late a
    timestamp may be."""

    cpu_s: float
    wall_s: float
    turns_ns: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Part:
    """Which part of a level one client process runs: ``index`` of ``of`` (0 of 1: the whole level)."""

    index: int = 0
    of: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.of:
            raise ValueError(f"part {self.index} of {self.of}")


WHOLE = Part()


@dataclass(frozen=True, slots=True)
class LostClient:
    """A client process that died during a level (``bench --workers``): its requests sent but never reported back
    (in flight when it died, or finished since its last report) are lost; everything it reported is kept."""

    worker: str
    requests_lost: int
    reason: str


@dataclass(frozen=True, slots=True)
class LevelRun:
    """Everything measured at one level, in send order, and what the client process(es) spent on it."""

    load: Load
    results: tuple[RequestResult, ...]
    start_ns: int
    end_ns: int
    interrupted: bool = False
    clients: tuple[ClientUse, ...] = ()
    lost: tuple[LostClient, ...] = ()
    client_requests: tuple[int, ...] = ()  # requests each client process reported (spread over several only)


class _LoopProbe:
    """Times the loop's turns while a level runs: sleep LOOP_PROBE_S, then yield once and time the wait."""

    def __init__(self) -> None:
        self.turns: list[int] = []
        self.cpu0, self.wall0 = time.process_time(), now_ns()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(LOOP_PROBE_S)
            t = now_ns()
            await asyncio.sleep(0)
            self.turns.append(now_ns() - t)

    def stop(self) -> ClientUse:
        self.task.cancel()
        return ClientUse(time.process_time() - self.cpu0, (now_ns() - self.wall0) / 1e9, tuple(self.turns))


Progress = Callable[[RequestResult], None]


async def run_level(client: Client, prompts: PromptSource, load: Load, plan: Plan, *, first_index: int = 0,
                    seed: int = 0, stop: asyncio.Event | None = None, progress: Progress | None = None,
                    part: Part = WHOLE, start_ns: int | None = None) -> LevelRun:
    """Run one level to completion (or until ``stop`` is set). ``first_index`` offsets the prompts so
    that levels of one sweep do not resend each other's prompts (prefix caches would flatter them).

    ``part``: this process's part of a level spread over several (module docstring); for a closed loop ``load`` and
    ``plan`` are already this part's, for an open loop they are the whole level's. ``start_ns``: the common start
    (``perf_counter_ns``), slept until; a part that wakes late starts its schedule (and its closed loop's first
    intended send times) there all the same, so its lateness shows as client lag."""
    stop = stop or asyncio.Event()
    results: list[RequestResult] = []
    inflight: set[asyncio.Task[RequestResult]] = set()
    total = None if plan.num_requests is None else plan.num_requests + plan.warmup
    if start_ns is not None:
        await sleep_until(start_ns)
    start = now_ns() if start_ns is None else start_ns
    deadline = None if plan.duration_s is None else start + int(plan.duration_s * 1e9)

    def more(i: int, at: int) -> bool:
        return not stop.is_set() and (total is None or i < total) and (deadline is None or at < deadline)

    async def one(k: int, intended: int, warmup: bool) -> RequestResult:  # k: the request's number in the level
        prompt = prompts[first_index + k]
        max_tokens = plan.output_len if plan.output_len is not None else prompt.output_len
        res = await client.send(first_index + k, prompt, max_tokens, intended_ns=intended, warmup=warmup)
        results.append(res)
        if progress is not None:
            progress(res)
        return res

    def launch(job: Coroutine[None, None, RequestResult]) -> asyncio.Task[RequestResult]:
        task = asyncio.create_task(job)
        inflight.add(task)
        task.add_done_callback(inflight.discard)
        return task

    counter = iter(range(1 << 62))

    async def worker() -> None:  # closed loop; this part's i-th request is the level's (part.index + part.of * i)-th
        intended = now_ns() if start_ns is None else start
        while more(i := next(counter), now_ns()):
            res = await launch(one(part.index + part.of * i, intended, i < plan.warmup))
            if res.error is not None and res.retry_after_s:  # honour 429/503 Retry-After, politely capped
                await asyncio.sleep(min(res.retry_after_s, RETRY_AFTER_CAP_S))
            intended = now_ns()

    async def schedule(rate: float) -> None:  # open loop
        # Each arrival is a task that sleeps until its time, lines up the next arrival, then sends: the
        # send happens in the loop iteration right after the timer fires (a scheduler task that launched
        # a new task per arrival took one iteration more, which showed as client lag under load).
        arrivals = itertools.islice(zip(counter, offsets(load.arrival, rate, seed), strict=False), part.index, None,
                                    part.of)  # this part's arrivals of the one schedule
        finished = asyncio.Event()

        def next_arrival() -> None:
            for i, offset in arrivals:
                target = start + int(offset * 1e9)
                if more(i, target):
                    launch(timed(i, target))
                    return
                break
            finished.set()

        async def timed(i: int, target: int) -> RequestResult:
            await sleep_until(target)
            next_arrival()
            return await one(i, target, i < plan.warmup)

        next_arrival()
        await finished.wait()
        while inflight:
            await asyncio.gather(*list(inflight), return_exceptions=True)

    drivers = ([asyncio.create_task(worker()) for _ in range(load.concurrency)] if load.concurrency is not None
               else [asyncio.create_task(schedule(load.rate or 0.0))])

    async def watch() -> None:  # the stop signal or the level's deadline, whichever comes first
        reason = STOPPED
        if deadline is None:
            await stop.wait()
        else:
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, (deadline - now_ns()) / 1e9))
            except TimeoutError:
                reason = DEADLINE
        for task in [*drivers, *inflight]:
            task.cancel(reason)

    watcher = asyncio.create_task(watch())
    probe = _LoopProbe()
    try:
        await asyncio.gather(*drivers, return_exceptions=True)
        await asyncio.gather(*list(inflight), return_exceptions=True)
    finally:
        watcher.cancel()
        use = probe.stop()
    return LevelRun(load, tuple(sorted(results, key=lambda r: r.index)), start, now_ns(), interrupted=stop.is_set(),
                    clients=(use,))


def levels(concurrency: list[int] | None, rates: list[float] | None, arrival: Arrival) -> Iterator[Load]:
    for c in concurrency or []:
        yield Load(concurrency=c)
    for r in rates or []:
        yield Load(rate=r, arrival=arrival)

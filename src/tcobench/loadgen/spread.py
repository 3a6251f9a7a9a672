"""One load level spread over several client processes (``bench --workers N`` / ``--scheduler``), merged into one.

Why: one Python client saturates its core at several thousand requests/s, and then the latencies it reports carry
its own delay (``metrics.client_bound``). Spreading the level over N processes (Dask workers, on this host or
others) keeps each client's loop idle enough to timestamp at the socket.

How: the level is cut into N ``Part``s (``runner``): in an open loop each part takes every N-th arrival of the one
seeded schedule, so the parts add up to the requested rate and to the very requests one process would send; in a
closed loop the concurrency (and the request and warm-up counts) are split as evenly as whole numbers allow. Every
part starts at one wall-clock instant (``LEAD_S`` after the level is handed out), streams its finished records back
every ``FLUSH_S`` and returns the rest; the client puts the records on its own clock, merges them, and the metrics
are computed once from the merged records (``metrics.compute``), exactly as from one process's records. A part whose
worker dies loses only the requests it had sent and not yet reported; the level says which worker and how many.

The work is handed out by an executor received as a parameter (``Spreader``: ``search.executor.DaskExecutor``),
so this package never imports ``search`` or Dask. The API key never travels: each part reads it from its own
process's environment variable (``api_key_env``); a URL's credentials travel inside a ``Hidden`` whose text is
redacted, so no log or repr of a task shows them.
"""

from __future__ import annotations

import asyncio
import math
import os
import pickle
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

from tcobench.credentials import redact_url
from tcobench.errors import InputError
from tcobench.loadgen.api import Api
from tcobench.loadgen.client import Client, now_ns
from tcobench.loadgen.prompts import Prompt, PromptSource
from tcobench.loadgen.result import RequestResult
from tcobench.loadgen.runner import ClientUse, LevelRun, Load, LostClient, Part, Plan, Progress, run_level

LEAD_S = 1.0  # the common start: this long after the parts are handed out (a task's start-up on a worker fits)
FLUSH_S = 0.05  # a part reports its finished records this often: a dead worker loses what finished since
STOP_POLL_S = 0.2  # how often a part asks whether the client was stopped (a signal)

C = TypeVar("C")
T = TypeVar("T")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class Channel(Protocol):
    """A part's way back to the client while it runs."""

    def send(self, data: bytes) -> None: ...

    def stopped(self) -> bool: ...

    @property
    def address(self) -> str: ...


class Outcome(Protocol[R_co]):
    """One part's outcome: the worker, its result or (``error``) why there is none."""

    @property
    def worker(self) -> str: ...

    @property
    def result(self) -> R_co | None: ...

    @property
    def error(self) -> str | None: ...


class Spreader(Protocol):
    """What spreading needs of an executor (``search.executor.DaskExecutor`` has it)."""

    def live_workers(self) -> int:
        """Worker processes there are now: one part goes to each."""
        ...

    def together(self, fn: Callable[[C, T, Channel], R], items: Sequence[T], context: C,
                 on_message: Callable[[int, bytes], None], stop: threading.Event) -> Sequence[Outcome[R]]: ...


class Hidden:
    """A value that travels to the workers but never shows: ``repr`` and ``str`` give the redacted URL."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Hidden({redact_url(self.value)!r})"

    __str__ = __repr__

    def __getstate__(self) -> str:
        return self.value

    def __setstate__(self, state: str) -> None:
        self.value = state


@dataclass(frozen=True, slots=True)
class Endpoint:
    """What every part needs to send, the same for every level (sent to each worker once per level)."""

    url: Hidden  # credentials included, for sending only
    model: str
    api: Api
    timeout_s: float
    max_connections: int
    ignore_eos: bool
    api_key_env: str
    needs_key: bool  # the client has the key: a part whose process lacks it refuses to send unauthenticated
    prompts: PromptSource


@dataclass(frozen=True, slots=True)
class PartSpec:
    """One part of one level: what it sends and when it starts."""

    load: Load  # the part's own concurrency (closed loop) or the whole level's rate (open loop)
    plan: Plan  # the part's own counts (closed loop) or the whole level's (open loop)
    part: Part
    first_index: int
    seed: int
    start_wall_ns: int  # the common start, wall clock (time.time_ns): the one clock hosts share (by NTP)
    client_start_ns: int  # the same instant on the client's perf_counter_ns clock


@dataclass(frozen=True, slots=True)
class PartDone:
    """What a part returns at its end: the records it did not stream yet, on the client's clock."""

    records: tuple[RequestResult, ...]
    end_ns: int
    use: ClientUse
    interrupted: bool


def split(load: Load, plan: Plan, n: int) -> list[tuple[Load, Plan, Part]]:
    """The parts of a level for ``n`` client processes. Open loop: n parts of the whole schedule. Closed loop: the
    concurrency split as evenly as whole numbers allow (no part of 0: fewer parts when it is below n), and the
    request and warm-up counts in proportion to each part's concurrency (largest remainder)."""
    if load.concurrency is None:
        return [(load, plan, Part(i, n)) for i in range(n)]
    c = load.concurrency
    m = min(n, c)
    conc = [c // m + (i < c % m) for i in range(m)]
    reqs = _apportion(plan.num_requests, conc)
    warm = _apportion(plan.warmup, conc)
    out = []
    for i in range(m):
        if reqs is not None and reqs[i] == 0:
            continue  # fewer requests than parts: this one would send nothing
        part_plan = Plan(None if reqs is None else reqs[i], plan.duration_s, warm[i] if warm else 0, plan.output_len)
        out.append((Load(concurrency=conc[i]), part_plan, Part(i, m)))
    return out


def _apportion(total: int | None, weights: list[int]) -> list[int] | None:
    """``total`` split in proportion to ``weights`` into whole numbers that add up to it (largest remainder)."""
    if total is None:
        return None
    w = sum(weights)
    base = [total * x // w for x in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % w), i))
    for i in order[:total - sum(base)]:
        base[i] += 1
    return base


def spread_level(spreader: Spreader, endpoint: Endpoint, load: Load, plan: Plan, *, first_index: int, seed: int,
                 stop: threading.Event, progress: Progress | None = None) -> LevelRun:
    """Run one level on the spreader's workers and merge it (module docstring). Blocks; ``stop`` ends it early."""
    parts = split(load, plan, spreader.live_workers())
    client_start = now_ns() + int(LEAD_S * 1e9)
    start_wall = time.time_ns() + int(LEAD_S * 1e9)
    specs = [PartSpec(ld, pl, pt, first_index, seed, start_wall, client_start) for ld, pl, pt in parts]
    received: list[list[RequestResult]] = [[] for _ in specs]
    reported_sent = [0] * len(specs)
    lock = threading.Lock()

    def on_message(i: int, data: bytes) -> None:
        sent, records = pickle.loads(data)  # noqa: S301 - from our own workers, over the cluster's connections
        with lock:
            received[i].extend(records)
            reported_sent[i] = max(reported_sent[i], sent)
        if progress is not None:
            for r in records:
                progress(r)

    outcomes = spreader.together(run_part, specs, endpoint, on_message, stop)
    results: list[RequestResult] = []
    uses: list[ClientUse] = []
    lost: list[LostClient] = []
    counts: list[int] = []
    end = 0
    interrupted = stop.is_set()
    with lock:
        for i, outcome in enumerate(outcomes):
            done = outcome.result
            records = received[i] + (list(done.records) if done is not None else [])
            results.extend(records)
            counts.append(len(records))
            if progress is not None and done is not None:
                for r in done.records:  # the part's last records came with its result, not as a message
                    progress(r)
            if done is None:
                lost.append(LostClient(outcome.worker, max(0, reported_sent[i] - len(records)),
                                       outcome.error or "the worker died"))
                continue
            uses.append(done.use)
            end = max(end, done.end_ns)
            interrupted = interrupted or done.interrupted
    return LevelRun(load, tuple(sorted(results, key=lambda r: r.index)), client_start, end or now_ns(),
                    interrupted=interrupted, clients=tuple(uses), lost=tuple(lost),
                    client_requests=tuple(counts))


class _Counted:
    """The prompts, counting the requests sent: each request reads its prompt once, just before it is sent."""

    def __init__(self, prompts: PromptSource) -> None:
        self.prompts, self.sent = prompts, 0

    def __getitem__(self, index: int) -> Prompt:
        self.sent += 1
        return self.prompts[index]

    def describe(self) -> dict[str, object]:
        return self.prompts.describe()


def run_part(endpoint: Endpoint, spec: PartSpec, channel: Channel) -> PartDone:
    """One part, on a worker (in the task's thread, with its own event loop)."""
    key = os.environ.get(endpoint.api_key_env) or None
    if endpoint.needs_key and key is None:
        raise InputError(f"{{api_key_env}}: the variable that holds the API key is not set on worker {channel.address}; "
                         "set it in every worker's environment (the key is never sent to the workers)",
                         params=("api_key_env",))
    return asyncio.run(_run_part(endpoint, spec, channel, key))


async def _run_part(endpoint: Endpoint, spec: PartSpec, channel: Channel, key: str | None) -> PartDone:
    local_start = now_ns() + (spec.start_wall_ns - time.time_ns())  # the common start on this process's clock
    shift = spec.client_start_ns - local_start  # this clock -> the client's
    prompts = _Counted(endpoint.prompts)
    pending: list[RequestResult] = []
    stop = asyncio.Event()

    def keep(r: RequestResult) -> None:
        pending.append(_shifted(r, shift))

    def flush() -> None:
        channel.send(pickle.dumps((prompts.sent, pending[:])))
        pending.clear()

    async def report() -> None:
        polled = now_ns()
        while True:
            await asyncio.sleep(FLUSH_S)
            if pending:
                flush()
            if now_ns() - polled > STOP_POLL_S * 1e9:
                polled = now_ns()
                if await asyncio.to_thread(channel.stopped):
                    stop.set()

    async with Client(endpoint.url.value, endpoint.model, endpoint.api, api_key=key, timeout_s=endpoint.timeout_s,
                      max_connections=endpoint.max_connections, ignore_eos=endpoint.ignore_eos) as client:
        load, plan = spec.load, spec.plan
        await client.prewarm(min(endpoint.max_connections,
                                 load.concurrency or min(256, math.ceil((load.rate or 1.0) / spec.part.of))))
        reporter = asyncio.create_task(report())
        try:
            run = await run_level(client, prompts, load, plan, first_index=spec.first_index, seed=spec.seed,
                                  stop=stop, progress=keep, part=spec.part, start_ns=max(1, local_start))
        finally:
            reporter.cancel()
    return PartDone(tuple(pending), run.end_ns + shift, run.clients[0], run.interrupted)


def _shifted(r: RequestResult, shift: int) -> RequestResult:
    return replace(r, intended_ns=r.intended_ns + shift, sent_ns=r.sent_ns + shift, done_ns=r.done_ns + shift,
                   chunk_ns=tuple(t + shift for t in r.chunk_ns))

"""A whole ``bench`` run: every load level in turn against one endpoint, with one pooled client, or spread over
several client processes (``spread.py``) when an executor is given."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from tcobench.loadgen.api import Api
from tcobench.loadgen.client import Client
from tcobench.loadgen.metrics import LevelMetrics, Slo, compute
from tcobench.loadgen.prompts import PromptSource
from tcobench.loadgen.runner import Load, Plan, Progress, run_level
from tcobench.loadgen.spread import Endpoint, Hidden, Spreader, spread_level

PROMPTS_PER_LEVEL = 1_000_000  # level k uses prompts k*1e6 ...: no prompt is sent at two levels


@dataclass(frozen=True, slots=True)
class BenchSettings:
    """Every setting of a run (saved with the results). Never holds the API key itself."""

    url: str
    model: str
    api: Api
    loads: tuple[Load, ...]
    plan: Plan
    warmup_auto: bool = True  # warm-up = the level's concurrency, or one second of arrivals
    slo: Slo = field(default_factory=Slo)
    timeout_s: float = 300.0
    ignore_eos: bool = True
    seed: int = 0
    api_key_env: str = "OPENAI_API_KEY"
    max_connections: int = 1024

    def warmup_for(self, load: Load) -> int:
        if not self.warmup_auto:
            return self.plan.warmup
        if load.concurrency is not None:
            return load.concurrency
        return min(100, max(1, math.ceil(load.rate or 1.0)))

    def plan_for(self, load: Load) -> Plan:
        """The run's plan with this level's warm-up (in one process or spread over workers alike)."""
        return Plan(self.plan.num_requests, self.plan.duration_s, self.warmup_for(load), self.plan.output_len)

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url, "model": self.model, "api": str(self.api),
            "levels": [{"concurrency": ld.concurrency, "rate": ld.rate,
                        "arrival": str(ld.arrival) if ld.rate is not None else None} for ld in self.loads],
            "num_requests": self.plan.num_requests, "duration_s": self.plan.duration_s,
            "warmup": "auto" if self.warmup_auto else self.plan.warmup, "output_len": self.plan.output_len,
            "slo": asdict(self.slo), "timeout_s": self.timeout_s, "ignore_eos": self.ignore_eos, "seed": self.seed,
            "key_env_var": self.api_key_env,  # the variable's name only
        }


@dataclass(frozen=True, slots=True)
class Measured:
    level: LevelMetrics
    extras: dict[str, Any]


LevelStart = Callable[[Load, int | None], Progress | None]  # (load, total requests or None) -> per-request hook


async def run_bench(settings: BenchSettings, prompts: PromptSource, *, api_key: str | None,
                    annotate: Callable[[LevelMetrics], dict[str, Any]], url: str | None = None,
                    stop: asyncio.Event | None = None, on_level: LevelStart | None = None,
                    on_done: Callable[[Measured], None] | None = None,
                    spreader: Spreader | None = None) -> list[Measured]:
    """Run the levels in order; stop early (keeping what was measured) when ``stop`` is set. ``url``: the
    endpoint as the user gave it, credentials included, for sending only (``settings.url`` is what is shown and
    saved); None sends to ``settings.url``. ``spreader``: run each level on its workers (``spread.py``)."""
    stop = stop or asyncio.Event()
    out: list[Measured] = []
    if spreader is not None:
        return await _run_spread(settings, prompts, spreader, needs_key=api_key is not None, annotate=annotate,
                                 url=url, stop=stop, on_level=on_level, on_done=on_done)
    async with Client(url or settings.url, settings.model, settings.api, api_key=api_key, timeout_s=settings.timeout_s,
                      max_connections=settings.max_connections, ignore_eos=settings.ignore_eos) as client:
        for k, load in enumerate(settings.loads):
            if stop.is_set():
                break
            plan = settings.plan_for(load)
            await client.prewarm(min(settings.max_connections, load.concurrency or min(256, math.ceil(load.rate or 1.0))))
            total = None if plan.num_requests is None else plan.num_requests + plan.warmup
            progress = on_level(load, total) if on_level else None
            run = await run_level(client, prompts, load, plan, first_index=k * PROMPTS_PER_LEVEL,
                                  seed=settings.seed + k, stop=stop, progress=progress)
            level = compute(run, settings.slo)
            measured = Measured(level, annotate(level))
            out.append(measured)
            if on_done:
                on_done(measured)
    return out


async def _run_spread(settings: BenchSettings, prompts: PromptSource, spreader: Spreader, *, needs_key: bool,
                      annotate: Callable[[LevelMetrics], dict[str, Any]], url: str | None, stop: asyncio.Event,
                      on_level: LevelStart | None, on_done: Callable[[Measured], None] | None) -> list[Measured]:
    """``run_bench`` with every level spread over the spreader's workers; ``stop`` reaches them through it."""
    endpoint = Endpoint(Hidden(url or settings.url), settings.model, settings.api, settings.timeout_s,
                        settings.max_connections, settings.ignore_eos, settings.api_key_env, needs_key, prompts)
    halt = threading.Event()
    relay = asyncio.create_task(_relay(stop, halt))
    out: list[Measured] = []
    try:
        for k, load in enumerate(settings.loads):
            if stop.is_set():
                break
            plan = settings.plan_for(load)
            total = None if plan.num_requests is None else plan.num_requests + plan.warmup
            progress = on_level(load, total) if on_level else None
            run = await asyncio.to_thread(spread_level, spreader, endpoint, load, plan, first_index=k * PROMPTS_PER_LEVEL,
                                          seed=settings.seed + k, stop=halt, progress=progress)
            level = compute(run, settings.slo)
            measured = Measured(level, annotate(level))
            out.append(measured)
            if on_done:
                on_done(measured)
    finally:
        relay.cancel()
    return out


async def _relay(stop: asyncio.Event, halt: threading.Event) -> None:
    await stop.wait()
    halt.set()

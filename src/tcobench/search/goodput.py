"""Goodput at an arrival rate: a compare row's deployment served over time, and what its good tokens cost.

A deployment chosen for its steady-state cost per token can still miss the latency targets once requests queue.
Given an offered rate (requests/s to one replica, Poisson) and SLOs, each row's replica is simulated
(``perf.serving``: continuous batching at the row's batch, chunked prefill, the KV cache's room) and keeps:

    goodput          output tokens/s of the requests that met every SLO (the steady-state window's)
    $/1M good tokens the replica's $/hour / (goodput x 3600) x 1e6: idle time and missed requests both paid for

so ``compare --rate R`` can rank by goodput, or by the cost of the tokens that met the SLOs (docs/serving.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from tcobench.catalog import Catalog, Hardware, Model
from tcobench.perf import precision as prec
from tcobench.perf.deployment import Formats, Layout
from tcobench.perf.efficiency import resolve
from tcobench.perf.precision import compute_precision
from tcobench.perf.predict import stack_chip, stack_engine
from tcobench.perf.serving import Scheduler, ServingResult, Slo, serve
from tcobench.perf.steps import ModelSteps, kv_capacity
from tcobench.perf.traffic import Traffic
from tcobench.perf.transformer import shape
from tcobench.search.compare import CompareRow, Deployment
from tcobench.search.executor import Executor, InProcess

SIM_REQUESTS = 2000  # requests simulated per deployment (plan --qps simulates as many per replica count)


@dataclass(frozen=True)
class Replica:
    """What the simulator needs of one replica of a deployment: its step costs and its scheduler limits."""

    steps: ModelSteps
    sched: Scheduler

    @classmethod
    def of(cls, d: Deployment, model: Model, hw: Hardware, catalog: Catalog, longest: int) -> Replica:
        """The replica of ``d`` (its batch as the running-sequence limit, a step budget of the efficiency data's
        prefill chunk or the batch if larger), tabulated to contexts of ``longest`` tokens."""
        stack = None if d.runtime == "default" else catalog.get_runtime(d.runtime, where="{runtime}")
        chip = stack_chip(hw, compute_precision(d.precision, d.precision), resolve(hw, catalog.efficiency), stack, strict=False)
        fmt = Formats(prec.BYTES[d.precision], prec.BYTES[d.precision], prec.activation_bytes(d.precision),
                      dispatch=prec.dispatch_bytes(d.precision))
        lay = Layout(float(d.tp), float(d.pp), float(d.ep), float(d.tp * d.pp * d.ep))
        s = shape(model)
        max_tokens = max(int(chip.prefill_chunk), d.batch)
        sched = Scheduler(max_tokens, d.batch, kv_capacity(s, chip, lay, fmt, max_tokens, d.batch))
        steps = ModelSteps.build(s, chip, lay, fmt, stack_engine(stack), max_tokens=max_tokens, max_seqs=d.batch, max_context=longest)
        return cls(steps, sched)


@dataclass(frozen=True)
class AtRate:
    """A row's replica at an offered rate: goodput, SLO attainment, p99 latencies, $/1M good output tokens."""

    rate: float  # requests/s offered to the replica
    goodput_tokens_per_s: float
    goodput_requests_per_s: float
    slo_met: float  # share of requests that met every SLO
    ttft_p99_s: float
    tpot_p99_s: float | None
    saturated: bool
    usd_per_1m_good_tokens_own: tuple[float, float, float] | None
    usd_per_1m_good_tokens_rent: tuple[float, float, float] | None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {k: v for k, v in vars(self).items() if not k.startswith("usd_")}
        for key in ("usd_per_1m_good_tokens_own", "usd_per_1m_good_tokens_rent"):
            span = getattr(self, key)
            doc[key], doc[key + "_low"], doc[key + "_high"] = (span[1], span[0], span[2]) if span else (None, None, None)
        return doc


def per_1m_good(usd_per_hour: tuple[float, float, float] | None, goodput: float) -> tuple[float, float, float] | None:
    """USD per 1M output tokens that met the SLOs: None without a price or without a good token."""
    if usd_per_hour is None or not goodput > 0:
        return None
    lo, mid, hi = (h / (goodput * 3600.0) * 1e6 for h in usd_per_hour)
    return lo, mid, hi


def at_rate(row: CompareRow, model: Model, hw: Hardware, catalog: Catalog, *, rate: float, slo: Slo, input_len: int,
            output_len: int, requests: int = SIM_REQUESTS) -> AtRate | None:
    """``row``'s replica fed ``rate`` Poisson requests/s of fixed lengths; None for a row with no deployment."""
    if row.deployment is None:
        return None
    r, good = _served(Replica.of(row.deployment, model, hw, catalog, input_len + output_len), rate, slo, input_len,
                      output_len, requests)
    return AtRate(rate, good, float(r.goodput_requests_per_s or 0.0) if slo.given else r.requests_per_s,
                  float(r.slo_met) if r.slo_met is not None else 1.0, r.ttft_s["p99"], r.tpot_s.get("p99"), r.saturated,
                  per_1m_good(row.usd_per_hour_own, good), per_1m_good(row.usd_per_hour_rent, good))


@dataclass(frozen=True)
class _RateJob:
    """What every row's simulation at a rate shares (sent to each Dask worker once)."""

    model: Model
    hardware: dict[str, Hardware]
    catalog: Catalog
    rate: float
    slo: Slo
    input_len: int
    output_len: int


def _row_at_rate(job: _RateJob, row: CompareRow) -> CompareRow:
    return replace(row, at_rate=at_rate(row, job.model, job.hardware[row.hardware], job.catalog, rate=job.rate,
                                        slo=job.slo, input_len=job.input_len, output_len=job.output_len))


def rows_at_rate(rows: Sequence[CompareRow], model: Model, hardware: Sequence[Hardware], catalog: Catalog, *,
                 rate: float, slo: Slo, input_len: int, output_len: int,
                 executor: Executor | None = None) -> list[CompareRow]:
    """``rows`` (in their order) each with its ``at_rate``; on ``executor`` one task per row. The simulation is
    seeded (``Traffic.open``'s seed 0), so a row's figures are the same wherever it runs."""
    job = _RateJob(model, {h.id: h for h in hardware}, catalog, rate, slo, input_len, output_len)
    return list((executor or InProcess()).map(_row_at_rate, rows, job))


def _served(rep: Replica, rate: float, slo: Slo, n_in: int, n_out: int, requests: int) -> tuple[ServingResult, float]:
    """The replica fed ``rate`` Poisson requests/s of fixed lengths, and its good output tokens/s (all of them when
    no SLO is given)."""
    r: ServingResult = serve(rep.steps, Traffic.open("poisson", rate, requests, n_in, n_out), rep.sched, slo)
    return r, (float(r.goodput_tokens_per_s or 0.0) if slo.given else r.output_tokens_per_s)


RANKS = ("cost", "goodput", "good-cost")


def rank_key(row: CompareRow, rank: str, basis: str) -> tuple[int, float]:
    """Sort key of a row under ``rank``: "cost" (steady-state $/1M output tokens, compare's default), "goodput"
    (most good tokens/s first) or "good-cost" ($/1M good tokens, cheapest first); rows without the figure last."""
    if rank == "cost" or row.at_rate is None:
        key = row.sort_key(basis)  # type: ignore[arg-type]
        return (key[0] + (0 if rank == "cost" else 3), key[1])
    a = row.at_rate
    if rank == "goodput":
        return (0 if a.goodput_tokens_per_s > 0 else 1, -a.goodput_tokens_per_s)
    own = a.usd_per_1m_good_tokens_own[1] if a.usd_per_1m_good_tokens_own else math.inf
    rent = a.usd_per_1m_good_tokens_rent[1] if a.usd_per_1m_good_tokens_rent else math.inf
    cost = {"own": own, "rent": rent}.get(basis, min(own, rent))
    return (0 if math.isfinite(cost) else 1, cost)


def sweep_row_at_rate(row: dict[str, Any], model: Model, hw: Hardware, catalog: Catalog, *, rate: float, slo: Slo,
                      requests: int = SIM_REQUESTS) -> dict[str, Any]:
    """A sweep's top row (its axes, chips, tok/s per chip, $/1M output tokens) served at ``rate``: the fields
    ``at_rate`` adds to it. Its $/1M good tokens is its steady-state $/1M output tokens times the steady-state
    output tokens/s over the goodput (the same $/hour, fewer tokens that count)."""
    d = Deployment(int(row["chips"]), int(row["tp"]), int(row["pp"]), int(row["ep"]), int(row["batch"]), str(row["precision"]),
                   str(row.get("runtime", "default")))
    n_in, n_out = int(row["input_len"]), int(row["output_len"])
    r, good = _served(Replica.of(d, model, hw, catalog, n_in + n_out), rate, slo, n_in, n_out, requests)
    steady = float(row["output_tokens_per_s_per_chip"]) * d.chips
    cost = float(row["usd_per_1m_output_tokens"])
    return {"rate": rate, "goodput_tokens_per_s": good, "slo_met": float(r.slo_met) if r.slo_met is not None else 1.0,
            "ttft_p99_s": r.ttft_s["p99"], "tpot_p99_s": r.tpot_s.get("p99"), "saturated": r.saturated,
            "usd_per_1m_good_tokens": cost * steady / good if good > 0 and math.isfinite(cost) else None}


def _sweep_row_at_rate(job: _RateJob, row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "at_rate": sweep_row_at_rate(row, job.model, job.hardware[str(row["hardware"])], job.catalog,
                                                rate=job.rate, slo=job.slo)}


def sweep_rows_at_rate(rows: Sequence[dict[str, Any]], model: Model, hardware: Sequence[Hardware], catalog: Catalog, *,
                       rate: float, slo: Slo, executor: Executor | None = None) -> list[dict[str, Any]]:
    """A sweep's top ``rows`` (in their order), each with its ``at_rate``; on ``executor`` one task per row (seeded:
    the same figures wherever a row runs)."""
    job = _RateJob(model, {h.id: h for h in hardware}, catalog, rate, slo, 0, 0)  # lengths: each row's own
    return list((executor or InProcess()).map(_sweep_row_at_rate, rows, job))


def rank_rows(rows: list[dict[str, Any]], rank: str) -> list[dict[str, Any]]:
    """Sweep rows with ``at_rate`` in ``rank`` order ("cost": as they came); rows without the figure last."""
    if rank == "goodput":
        return sorted(rows, key=lambda r: -float(r["at_rate"]["goodput_tokens_per_s"]))
    if rank == "good-cost":
        return sorted(rows, key=lambda r: (r["at_rate"]["usd_per_1m_good_tokens"] is None,
                                           r["at_rate"]["usd_per_1m_good_tokens"] or 0.0))
    return rows

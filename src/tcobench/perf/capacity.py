"""The highest arrival rate a deployment sustains while its latency percentiles hold: MLPerf's Server figure.

MLPerf Inference's Server scenario sends Poisson arrivals at a target rate and calls a run valid only if the 99th
percentiles of TTFT and TPOT stay within the benchmark's constraints; submitters raise the rate as far as that
allows, and publish the output tokens/s of the run. The model's counterpart is found the same way, on the serving
simulator (``serving.py``): the rate is bisected between one that meets the constraints with the queue keeping up
and one that does not. p99 latency grows with the rate (more sequences per step, longer queues), so the set of
rates that pass is an interval from 0 and bisection finds its end; the simulation is deterministic for a seed,
so the answer is too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tcobench.errors import InputError
from tcobench.perf.serving import ServingResult, Slo, p99_meets

REL_TOL = 0.01  # bisection stops when the bracket is this narrow, relative to the rate that passes
MAX_STEPS = 40  # doublings / halvings allowed to bracket the answer (a factor of 2^40 either way)


@dataclass(frozen=True)
class Capacity:
    """The highest rate found to pass (requests/s) with its simulated run, and the lowest found to fail."""

    rate: float
    result: ServingResult
    failing_rate: float
    tried: int  # simulations run


def highest_rate(serve_at: Callable[[float], ServingResult], slo: Slo, guess: float, *,
                 rel_tol: float = REL_TOL) -> Capacity | None:
    """The highest arrival rate (requests/s) at which ``serve_at(rate)`` meets ``slo`` at p99 with its queue keeping
    up, to ``rel_tol``, bracketed from ``guess`` by doubling or halving; None when even ``guess`` / 2^40 fails."""
    if not (slo.ttft or slo.tpot or slo.e2e):
        raise InputError("a capacity under latency constraints needs an SLO ({slo_ttft} or {slo_tpot})",
                         params=("slo_ttft", "slo_tpot"))
    runs: dict[float, ServingResult] = {}

    def passes(rate: float) -> bool:
        if rate not in runs:
            runs[rate] = serve_at(rate)
        r = runs[rate]
        return not r.saturated and p99_meets(r, slo)

    lo, hi = guess, guess
    if passes(guess):
        for _ in range(MAX_STEPS):
            hi *= 2.0
            if not passes(hi):
                break
            lo = hi
        else:
            return Capacity(lo, runs[lo], float("inf"), len(runs))
    else:
        for _ in range(MAX_STEPS):
            lo /= 2.0
            if passes(lo):
                break
            hi = lo
        else:
            return None
    while hi - lo > rel_tol * lo:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if passes(mid) else (lo, mid)
    return Capacity(lo, runs[lo], hi, len(runs))

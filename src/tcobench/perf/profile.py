"""A measured step profile: the step cost of a serving stack fitted to levels measured at fixed concurrency.

For a stack on a device the catalog has no chip for (vLLM's CPU build in the tests), the step cost is taken as
``steps.LinearSteps``: base + per_seq x decoding sequences + per_token x prompt tokens. It is fitted to measured
levels of a closed loop (``tcobench bench --concurrency C``), each with its mean TTFT and mean TPOT, by linear least
squares on the relative errors. The fit is exact in form: in a closed loop of fixed lengths the schedule (which
request runs in which step) does not depend on the step times, since every arrival follows a completion; so each
request's TTFT and TPOT are linear in the three coefficients. Simulating each level once per unit coefficient
gives the design matrix; ``numpy.linalg.lstsq`` gives the coefficients (clipped at zero and refitted without the
ones that would be negative).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tcobench.errors import InputError
from tcobench.perf.serving import Scheduler, simulate
from tcobench.perf.steps import LinearSteps
from tcobench.perf.traffic import Traffic


@dataclass(frozen=True)
class Level:
    """One measured closed-loop level: ``concurrency`` users, ``requests`` sent, fixed lengths (tokens), and the
    measured mean TTFT and TPOT (seconds)."""

    concurrency: int
    requests: int
    input_len: int
    output_len: int
    ttft_s: float
    tpot_s: float


_UNITS = (LinearSteps(1.0, 0.0, 0.0), LinearSteps(0.0, 1.0, 0.0), LinearSteps(0.0, 0.0, 1.0))


def fit_linear(levels: Sequence[Level], sched: Scheduler) -> LinearSteps:
    """The ``LinearSteps`` whose simulated mean TTFT and TPOT best match ``levels`` (least squares on relative errors)."""
    if len(levels) < 2:
        raise InputError(f"a step profile needs at least 2 measured levels, got {len(levels)}")
    rows, target = [], []
    for lv in levels:
        if not (lv.ttft_s > 0 and lv.tpot_s > 0):
            raise InputError(f"level at concurrency {lv.concurrency}: TTFT {lv.ttft_s!r} and TPOT {lv.tpot_s!r} must be > 0 s")
        traffic = Traffic.closed(lv.concurrency, lv.requests, lv.input_len, lv.output_len)
        ttft, tpot = [], []
        for unit in _UNITS:
            t = simulate(unit, traffic, sched)
            ttft.append(float(np.mean(t.first - t.arrival)))
            n = t.output_len.astype(float)
            many = n >= 2
            tpot.append(float(np.mean((t.done[many] - t.first[many]) / (n[many] - 1.0))) if many.any() else 0.0)
        rows += [np.array(ttft) / lv.ttft_s, np.array(tpot) / lv.tpot_s]
        target += [1.0, 1.0]
    a, b = np.array(rows), np.array(target)
    keep = [0, 1, 2]
    while True:
        coef = np.linalg.lstsq(a[:, keep], b, rcond=None)[0]
        if (coef >= 0).all() or len(keep) == 1:
            break
        keep.pop(int(np.argmin(coef)))
    full = np.zeros(3)
    full[keep] = np.maximum(coef, 0.0)
    return LinearSteps(float(full[0]), float(full[1]), float(full[2]))

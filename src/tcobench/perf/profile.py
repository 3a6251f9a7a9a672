"""A measured step profile: the step cost of a serving stack fitted to levels measured at fixed concurrency.

For a stack on a device the catalog has no chip for (vLLM's CPU build in the tests), the step cost is taken as
``steps.LinearSteps``: base + per_seq x decoding sequences + per_token x prompt tokens. It is fitted to measured
levels of a closed loop (``tcobench bench --concurrency C``), each with any of its mean TTFT, TPOT and E2E, by
linear least squares on the relative errors. The fit is exact in form: in a closed loop of fixed lengths the schedule (which
request runs in which step) does not depend on the step times, since every arrival follows a completion; so each
request's TTFT, TPOT and E2E are linear in the three coefficients. Simulating each level once per unit coefficient
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
    measured means (seconds) to fit: TTFT, TPOT, E2E, any of them (None: not used)."""

    concurrency: int
    requests: int
    input_len: int
    output_len: int
    ttft_s: float | None
    tpot_s: float | None
    e2e_s: float | None = None


_UNITS = (LinearSteps(1.0, 0.0, 0.0), LinearSteps(0.0, 1.0, 0.0), LinearSteps(0.0, 0.0, 1.0))


def fit_linear(levels: Sequence[Level], sched: Scheduler) -> LinearSteps:
    """The ``LinearSteps`` whose simulated mean TTFT, TPOT and E2E best match those given in ``levels`` (least
    squares on relative errors)."""
    if len(levels) < 2:
        raise InputError(f"a step profile needs at least 2 measured levels, got {len(levels)}")
    rows, target = [], []
    for lv in levels:
        given = {k: v for k, v in (("TTFT", lv.ttft_s), ("TPOT", lv.tpot_s), ("E2E", lv.e2e_s)) if v is not None}
        if not given or not all(v > 0 for v in given.values()):
            raise InputError(f"level at concurrency {lv.concurrency}: {given or 'no figure'}; expected TTFT, TPOT or E2E > 0 s")
        traffic = Traffic.closed(lv.concurrency, lv.requests, lv.input_len, lv.output_len)
        sims: dict[str, list[float]] = {"TTFT": [], "TPOT": [], "E2E": []}
        for unit in _UNITS:
            t = simulate(unit, traffic, sched)
            sims["TTFT"].append(float(np.mean(t.first - t.arrival)))
            sims["E2E"].append(float(np.mean(t.done - t.arrival)))
            n = t.output_len.astype(float)
            many = n >= 2
            sims["TPOT"].append(float(np.mean((t.done[many] - t.first[many]) / (n[many] - 1.0))) if many.any() else 0.0)
        for name, value in given.items():
            rows.append(np.array(sims[name]) / value)
            target.append(1.0)
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

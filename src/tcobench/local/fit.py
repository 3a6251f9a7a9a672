"""The efficiency factors perf uses, fitted to measured records by least squares on log(predicted / measured).

Every prediction comes from ``perf.evaluate`` with the probed chip and a candidate set of factors, the same
call ``perf.predict`` makes; many candidates are evaluated at once (one per row of a ``Chip`` of arrays), so a
Levenberg-Marquardt step with a finite-difference Jacobian costs one evaluation. The factors, as perf reads
them (perf/efficiency.py):

- ``compute``: fraction of the dense peak the model's matmuls and attention reach, at the run's format
  (``compute_at.<format>``): what compute-bound shapes (long prefills, large decode batches) show;
- ``weight_streaming``: fraction of the memory bandwidth those matmuls reach streaming their weights
  (``memory_at.<format>``): what small decode batches show;
- ``memory``: fraction reached by the other reads (the KV cache, norms and residual adds);
- ``overhead``: seconds per operator (launch, dispatch, and for one model whatever else a step costs: with a
  fixed number of operators per step, a per-step cost and a per-operator one are the same factor).

Factors stay within their ranges (fractions in (0, 1], an overhead from 1 ns to 0.1 s). One exception: where the
chip's peak at the format (its memory bandwidth) is itself a probe's measurement, not a datasheet's, ``compute``
(``weight_streaming`` and ``memory``) may pass 1, up to ``MEASURED_PEAK_HEADROOM``: the model ran faster than the
probe's best GEMM (copy) did, a probe spoiled by other work on the machine, shapes the probe did not try, or
weights that fit in a cache; the calibrated profile raises that peak (bandwidth) instead (profile.calibrated_toml). A factor that no record is sensitive to does not move, and the report says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tcobench.catalog.schema import Hardware, Model, Runtime
from tcobench.local.grid import Record
from tcobench.perf import Batch, Chip, Formats, chip_arrays, evaluate
from tcobench.perf.deployment import Engine
from tcobench.perf.efficiency import Efficiencies
from tcobench.perf.transformer import shape

NAMES = ("compute", "weight_streaming", "memory", "overhead")
LOW = np.log([1e-4, 1e-4, 1e-4, 1e-9])
HIGH = np.log([1.0, 1.0, 1.0, 0.1])
MEASURED_PEAK_HEADROOM = 10.0
MEASURED_SOURCES = ("tcobench-probe-", "tcobench-calibrate-")  # source ids profile.py gives measured figures


def get(eff: Efficiencies, fmt: str) -> NDArray[np.float64]:
    """The four factors of ``eff`` at format ``fmt``, in NAMES order."""
    return np.array([eff.compute_for(fmt), eff.memory_for(fmt), eff.memory, eff.overhead])


def put(eff: Efficiencies, fmt: str, x: Sequence[float]) -> Efficiencies:
    """``eff`` with the four factors at ``fmt`` replaced by ``x`` (NAMES order)."""
    c, w, m, o = (float(v) for v in x)
    return dataclasses.replace(eff, compute_at={**eff.compute_at, fmt: c}, memory_at={**eff.memory_at, fmt: w},
                               memory=m, overhead=o)


@dataclass(frozen=True)
class Problem:
    """What the fit predicts: one model on one chip at one format, for a set of measured records."""

    model: Model
    hardware: Hardware
    fmt: str
    runtime: Runtime
    base: Efficiencies

    def measured(self) -> tuple[bool, bool]:
        """Whether the chip's peak at the format, and its memory bandwidth, are a probe's measurements (which the
        fit may raise) rather than a datasheet's."""
        peak, bw = self.hardware.peak(self.fmt), self.hardware.memory.bandwidth
        return (peak is not None and peak.source.startswith(MEASURED_SOURCES),
                bw is not None and bw.source.startswith(MEASURED_SOURCES))

    def high(self) -> NDArray[np.float64]:
        """Upper bounds of the log factors."""
        peak, bw = self.measured()
        room = np.log(MEASURED_PEAK_HEADROOM)
        out: NDArray[np.float64] = HIGH + np.array([room if peak else 0.0, room if bw else 0.0, room if bw else 0.0, 0.0])
        return out

    def times(self, candidates: NDArray[np.float64], records: Sequence[Record]) -> NDArray[np.float64]:
        """Predicted seconds, shape (len(candidates), len(records)): prefill records' TTFT at batch 1, decode
        records' TPOT of a step at their batch with ``input_len + 1`` positions attended (perf's decode context
        is input_len + output_len / 2, so output_len = 2)."""
        chips = [Chip.of(self.hardware, self.fmt, put(self.base, self.fmt, c), kv=self.fmt,
                         attention_16bit=self.runtime.context_attention == "16-bit") for c in candidates]
        prefill = np.array([r.phase == "prefill" for r in records])
        batch = np.array([1.0 if p else float(r.batch) for p, r in zip(prefill, records, strict=True)])
        input_len = np.array([float(r.input_len) for r in records])
        output_len = np.where(prefill, 1.0, 2.0)
        engine = Engine(self.runtime.decode_attention == "per-query-head")
        res = evaluate(shape(self.model), chip_arrays(chips), Batch(batch, input_len, output_len),
                       formats=Formats.of(self.fmt, self.fmt, self.fmt), engine=engine)
        ttft = np.broadcast_to(np.asarray(res.ttft_s, dtype=float), (len(chips), len(records)))
        tpot = np.broadcast_to(np.asarray(res.tpot_s, dtype=float), (len(chips), len(records)))
        return np.where(prefill, ttft, tpot)


@dataclass(frozen=True)
class Fit:
    factors: NDArray[np.float64]  # NAMES order
    sensitive: tuple[bool, ...]  # whether any record's prediction depends on each factor
    iterations: int
    at_limit: tuple[bool, ...] = ()  # whether each factor ended on a bound of LOW..high: the records did not place it


def fit(problem: Problem, records: Sequence[Record], start: NDArray[np.float64], *, iterations: int = 60) -> Fit:
    """Levenberg-Marquardt on r = log(predicted / measured), in log-factor space, within LOW..HIGH."""
    measured = np.log(np.array([r.seconds for r in records]))
    high = problem.high()
    theta = np.clip(np.log(start), LOW, high)
    h = 1e-4
    n = len(NAMES)

    def residuals(thetas: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.log(problem.times(np.exp(thetas), records)) - measured  # type: ignore[no-any-return]

    r = residuals(theta[None, :])[0]
    lam, done = 1e-2, 0
    sensitive = np.zeros(n, dtype=bool)
    while done < iterations:
        done += 1
        probes = theta[None, :] + h * np.eye(n)
        J = ((residuals(probes) - r[None, :]) / h).T  # (records, factors)
        sensitive |= np.abs(J).max(axis=0) > 1e-6
        g = J.T @ r
        A = J.T @ J
        damp = np.diag(A).copy()
        damp[damp < 1e-12] = 1.0  # a factor nothing depends on: damped like the others, and it does not move
        improved = False
        for _ in range(12):
            step = np.linalg.solve(A + lam * np.diag(damp), -g)
            cand = np.clip(theta + step, LOW, high)
            r_new = residuals(cand[None, :])[0]
            if float(r_new @ r_new) < float(r @ r) - 1e-12:
                theta, r, lam, improved = cand, r_new, max(lam / 3.0, 1e-9), True
                break
            lam *= 4.0
        if not improved or float(np.abs(step).max()) < 1e-6:
            break
    limit = (np.abs(theta - LOW) < 1e-6) | (np.abs(theta - high) < 1e-6)
    return Fit(np.exp(theta), tuple(bool(s) for s in sensitive), done, tuple(bool(v) for v in limit & sensitive))


def folds(records: Sequence[Record], k: int, seed: int = 0) -> list[list[int]]:
    """Indices of ``k`` folds: each phase's records in a shuffled order (fixed by ``seed``) dealt in turn, one deal
    running over both phases, so that every fold holds prefills and decode steps (when there are k of each) and
    the shapes of a fold are spread over the grid, not one row or column of it."""
    rng = np.random.default_rng(seed)
    out: list[list[int]] = [[] for _ in range(k)]
    turn = 0
    for phase in sorted({r.phase for r in records}):
        idx = sorted((i for i, r in enumerate(records) if r.phase == phase),
                     key=lambda i: (records[i].batch, records[i].input_len))
        for p in rng.permutation(len(idx)):
            out[turn % k].append(idx[int(p)])
            turn += 1
    return [sorted(f) for f in out]


def errors(predicted: NDArray[np.float64], records: Sequence[Record]) -> NDArray[np.float64]:
    """predicted / measured - 1 per record."""
    return predicted / np.array([r.seconds for r in records]) - 1.0  # type: ignore[no-any-return]


def summary(err: NDArray[np.float64]) -> dict[str, Any]:
    a = np.abs(err)
    return {"records": int(a.size), "median_abs_error": float(np.median(a)) if a.size else None,
            "max_abs_error": float(a.max()) if a.size else None,
            "mean_error": float(np.mean(err)) if a.size else None}

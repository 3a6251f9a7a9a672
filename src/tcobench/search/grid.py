"""Deployment search, vectorised: build the axes, evaluate once, mask, reduce (argmin cost, Pareto front).

For one model and workload, every (hardware, precision) candidate is one row of a stacked ``Chip``
(shape (n, 1)); the layouts (tp, pp, ep) and batches are a flat grid (shape (1, m)); one call to
``perf.evaluate`` gives every configuration's latency, throughput and feasibility. A deployment here
is one replica (chips = tp x pp x ep): its cost per token does not depend on how many replicas run.
The cheapest deployment of a chip is the feasible one with the most output tokens/s per chip,
because a chip's rate ($/chip-second) is the same for all of its deployments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tcobench.catalog import Catalog, Hardware, Model
from tcobench.catalog.schema import Runtime
from tcobench.perf import chip_arrays, compute_precision
from tcobench.perf import precision as prec
from tcobench.perf.deployment import Batch, Engine, Formats, Layout, Limits
from tcobench.perf.efficiency import resolve
from tcobench.perf.inference import Result, evaluate
from tcobench.perf.reasons import Reason, text
from tcobench.perf.predict import AUTO_BATCHES, engine_cap, stack_chip, stacks_padding
from tcobench.perf.transformer import shape

DEFAULT_PRECISIONS = ("bf16", "fp8", "fp4")  # tried when a chip has a dense peak at them, unless pinned
POWERS_OF_TWO = (1, 2, 4, 8, 16, 32, 64)


@dataclass(frozen=True)
class Candidate:
    """One (hardware, precision) row of the search, run by ``runtime`` (None: the catalog's default stack)."""

    hardware: Hardware
    precision: str
    runtime: Runtime | None = None

    @property
    def runtime_id(self) -> str:
        return "default" if self.runtime is None else self.runtime.id


@dataclass(frozen=True)
class Layouts:
    """The flat grid of deployments tried for every candidate; arrays of one length m."""

    tp: np.ndarray
    pp: np.ndarray
    ep: np.ndarray
    batch: np.ndarray

    @property
    def chips(self) -> np.ndarray:
        return self.tp * self.pp * self.ep  # type: ignore[no-any-return]

    @classmethod
    def grid(cls, model: Model, *, max_chips: int = 64, batches: Sequence[int] | np.ndarray = AUTO_BATCHES) -> Layouts:
        """Every power-of-two tp, pp (and ep for MoE models) with tp x pp x ep <= max_chips, times every batch.

        Pipelines stop at 8 stages while tp x pp can reach ``max_chips`` (up to 64 x 8 = 512 chips, the grid every
        GPU-class chip is searched on); past that, as SRAM-only chips need (a 70B model on 230 MB chips takes
        hundreds), the stages go on doubling up to the model's layers, and one layer per stage is tried too (GPT-3's
        96 layers: 96 stages, where the doubling stops at 64), so a larger ``max_chips`` is reachable."""
        eps = POWERS_OF_TWO if model.moe else (1,)
        deep = max_chips > POWERS_OF_TWO[-1] * 8
        doubling = [p for p in (1, 2, 4, 8, *(2 ** k for k in range(4, 21))) if p <= 8 or (
            deep and p <= min(model.layers, max_chips))]
        stages = doubling + ([model.layers] if deep and model.layers not in doubling and model.layers <= max_chips else [])
        tp, pp, ep, b = np.meshgrid(POWERS_OF_TWO, stages, eps, np.asarray(batches), indexing="ij")
        keep = (tp * pp * ep) <= max_chips
        return cls(*(a[keep].astype(float) for a in (tp, pp, ep, b)))

    def __len__(self) -> int:
        return int(self.tp.size)


@dataclass(frozen=True)
class Grid:
    """The figures the search reads, each an array of shape (len(candidates), len(layouts))."""

    ok: NDArray[np.bool_]
    code: NDArray[np.int32]
    ttft_s: NDArray[np.float64]
    tpot_s: NDArray[np.float64]
    output_tokens_per_s: NDArray[np.float64]  # one replica
    output_tokens_per_s_per_chip: NDArray[np.float64]
    prefill_tokens_per_s: NDArray[np.float64]

    @classmethod
    def of(cls, r: Result, shape: tuple[int, int]) -> Grid:
        def full(x: object) -> NDArray[Any]:
            return np.broadcast_to(np.asarray(x), shape)

        return cls(full(r.ok), full(r.code), full(r.ttft_s), full(r.tpot_s), full(r.output_tokens_per_s),
                   full(r.output_tokens_per_s_per_chip), full(r.prefill_tokens_per_s))


@dataclass(frozen=True)
class Outcome:
    """The evaluated grid: candidates x layouts, plus what each candidate's best deployment is."""

    candidates: tuple[Candidate, ...]
    layouts: Layouts
    result: Grid

    @property
    def evaluated(self) -> int:
        return len(self.candidates) * len(self.layouts)

    def best(self, rows: Sequence[int]) -> tuple[int, int] | None:
        """(candidate row, layout column) of the feasible deployment with most output tokens/s per chip."""
        score = np.where(self.result.ok[list(rows)], self.result.output_tokens_per_s_per_chip[list(rows)], -np.inf)
        if not np.isfinite(score).any():
            return None
        r, c = np.unravel_index(int(np.argmax(score)), score.shape)
        return list(rows)[int(r)], int(c)

    def why_not(self, rows: Sequence[int]) -> str:
        """Why none of these rows can serve: the first hurdle every layout fails, with the closest miss."""
        code = self.result.code[list(rows)]
        layout_ok = (code & Reason.INVALID) == 0
        if not layout_ok.any():
            common = int(np.bitwise_and.reduce(code.ravel()))
            return text(common & Reason.INVALID) or "no valid layout (tp, pp, ep) for this model"
        fits = layout_ok & ((code & Reason.MEMORY) == 0)
        if not fits.any():
            return self._no_fit(code, layout_ok)
        tpot = self.result.tpot_s[list(rows)]
        ttft = self.result.ttft_s[list(rows)]
        meets_ttft = fits & ((code & Reason.TTFT_SLO) == 0)
        if not meets_ttft.any():
            return f"misses the TTFT SLO (best {np.min(np.where(fits, ttft, np.inf)) * 1e3:.0f} ms)"
        return f"misses the TPOT SLO (best {np.min(np.where(meets_ttft, tpot, np.inf)) * 1e3:.1f} ms)"

    def _no_fit(self, code: NDArray[np.int32], layout_ok: NDArray[np.bool_]) -> str:
        """"Does not fit" on the largest layout that could run at all, and why larger ones could not: a chip
        without links (a design that gives none, say) runs on one chip only, and saying "up to 512 chips" of it
        would blame its memory for what its missing interconnect does."""
        chips = np.broadcast_to(self.layouts.chips, code.shape)
        biggest = int(chips[layout_ok].max())
        said = f"does not fit in memory on up to {biggest} chip{'s' if biggest > 1 else ''} at any batch"
        larger = chips > biggest
        if not larger.any():
            return said
        common = int(np.bitwise_and.reduce(code[larger].ravel())) & Reason.INVALID
        why = text(common) if common else None
        return f"{said}; more chips: {why}" if why else said

    def pareto(self, rows: Sequence[int]) -> list[tuple[int, int]]:
        """The feasible deployments not beaten on both tokens/s per chip and interactivity (1 / TPOT)."""
        r = self.result
        ok = r.ok[list(rows)]
        per_chip = r.output_tokens_per_s_per_chip[list(rows)][ok]
        inter = 1.0 / r.tpot_s[list(rows)][ok]
        where = np.argwhere(ok)
        order = np.lexsort((-per_chip, -inter))  # by interactivity, then throughput, both descending
        running = np.maximum.accumulate(per_chip[order])
        front = np.concatenate(([True], per_chip[order][1:] > running[:-1])) if order.size else np.zeros(0, bool)
        return [(list(rows)[int(where[i][0])], int(where[i][1])) for i in order[front]]


def candidates(hardware: Sequence[Hardware], precisions: Sequence[str] | None = None,
               runtimes: Mapping[str, Runtime] | None = None) -> list[Candidate]:
    """(hardware, precision) pairs: pinned precisions as given, else the defaults the chip has a peak at; each run by
    ``runtimes[hardware id]`` where given (else the default stack)."""
    out: list[Candidate] = []
    for hw in hardware:
        wanted = [prec.check(p, "precision") for p in precisions] if precisions else list(DEFAULT_PRECISIONS)
        have = [p for p in wanted if hw.peak(compute_precision(p, p)) is not None] if not precisions else wanted
        stack = (runtimes or {}).get(hw.id)
        out.extend(Candidate(hw, p, stack) for p in (have or wanted[:1]))  # keep one row so the chip gets a reason
    return out


def search(model: Model, cands: Sequence[Candidate], layouts: Layouts, *, input_len: float, output_len: float,
           catalog: Catalog, slo_ttft: float | None = None, slo_tpot: float | None = None) -> Outcome:
    """Evaluate every candidate at every layout in one vectorised call, each as its serving stack runs it (its
    kernels' traits, and no batch above the stack's default cap on running sequences: ``Reason.ENGINE_CAP``)."""
    chips = [stack_chip(c.hardware, compute_precision(c.precision, c.precision), resolve(c.hardware, catalog.efficiency),
                        c.runtime, strict=False) for c in cands]
    stacked = chip_arrays(chips)
    wb = np.array([prec.BYTES[c.precision] for c in cands])[:, None]  # (n, 1)
    ab = np.array([prec.activation_bytes(c.precision) for c in cands])[:, None]
    db = np.array([prec.dispatch_bytes(c.precision) for c in cands])[:, None]  # tokens sent to their experts
    def row(a: np.ndarray) -> np.ndarray:  # (m,) -> (1, m)
        return a[None, :]

    result = evaluate(shape(model), stacked, Batch(row(layouts.batch), input_len, output_len),
                      Layout(row(layouts.tp), row(layouts.pp), row(layouts.ep), row(layouts.chips)), Formats(wb, wb, ab, dispatch=db),
                      limits=Limits(model.max_context, np.inf if slo_ttft is None else slo_ttft,
                                    np.inf if slo_tpot is None else slo_tpot),
                      engine=Engine(np.array([c.runtime is not None and c.runtime.decode_attention == "per-query-head"
                                              for c in cands])[:, None],
                                    padding=stacks_padding([c.runtime for c in cands])
                                    if any(c.runtime is not None and c.runtime.static_shapes() for c in cands) else None))
    grid = Grid.of(result, (len(cands), len(layouts)))
    caps = np.array([engine_cap(c.runtime) or np.inf for c in cands], dtype=float)[:, None]
    if np.isfinite(caps).any():
        over = row(layouts.batch) > caps
        grid = replace(grid, ok=grid.ok & ~over, code=np.where(over, grid.code | int(Reason.ENGINE_CAP), grid.code))
    return Outcome(tuple(cands), layouts, grid)

"""``sweep --train``: a grid of training jobs (hardware x precision x chips x layout x micro-batch x recomputation),
priced per run, reduced to the top-k by time, dollars or energy to train and the Pareto front of time vs dollars.

The grid is the inference sweep's engine (``search.sweep.run_grid``: memory-bounded chunks, in one process or as
tasks on an executor, merged in grid order) over another kind of point: each chunk's coordinates go through one
``perf.training.step`` call. Per candidate (hardware, precision) the axes are ``AXES``; data parallelism is what is
left, ``dp = chips / (tp x pp x cp)``, and a point whose chips that does not divide is invalid
(``Reason.CHIPS_LAYOUT``), as is every point ``step`` finds invalid or out of memory. A run is

    steps = ceil(tokens / (global batch x seq_len)),  time = steps x step time,
    $ = USD per chip-second (the basis's likely figure) x chips x time,  kWh = chips x watts x utilisation x time,

the likely figures of ``api.training.run_cost``'s ranges (a sweep ranks points; ``tcobench train`` on a row gives
its low-high range).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tcobench import checks
from tcobench.catalog import Catalog, Hardware, Model
from tcobench.errors import InputError, close_matches, quote
from tcobench.perf import precision as prec
from tcobench.perf.chip import Chip
from tcobench.perf.deployment import Formats
from tcobench.perf.efficiency import resolve
from tcobench.perf.reasons import Reason
from tcobench.perf.train import DEFAULT_TOKENS_PER_STEP
from tcobench.perf.training import RECOMPUTE, Parallel, TrainBatch, step
from tcobench.perf.stacks import Framework, attention_rates
from tcobench.perf.transformer import shape
from tcobench.search.sweep import MAX_CHUNK, MAX_POINTS, Reduction

AXES = ("chips", "tp", "pp", "cp", "ep", "vpp", "zero", "micro_batch", "recompute")
COLUMNS = ("hardware", "precision", *AXES, "dp", "global_batch", "step_time_s", "tokens_per_s", "mfu",
           "time_to_train_s", "usd_to_train", "energy_kwh", "memory_per_chip_bytes", "ok")
OBJECTIVES = ("cost", "time", "energy")
PRECISIONS = ("bf16", "fp16", "fp8")  # the formats the training model trains in (tcobench train --precision)
J_PER_KWH = 3.6e6
_CHIPS_LAYOUT = int(Reason.CHIPS_LAYOUT)
_RECOMPUTE = np.asarray(RECOMPUTE, dtype=object)  # the recompute column holds names


def parse_choices(text: str, param: str, allowed: Sequence[str]) -> np.ndarray:
    """'none,full' (names) or '0,1,3' (ZeRO stages) -> the sorted indices into ``allowed``, as floats; an unknown
    value is an InputError naming ``param`` with a close match."""
    picked: set[int] = set()
    for part in str(text).split(","):
        word = part.strip().lower()
        if word not in allowed:
            hint = close_matches(word, allowed)
            raise InputError(f"{{{param}}} {quote(part.strip())}: expected a comma-separated list of {', '.join(allowed)}"
                             + (f"; did you mean {hint[0]!r}?" if hint else ""), params=(param,))
        picked.add(list(allowed).index(word))
    return np.asarray(sorted(picked), dtype=float)


ZERO_NAMES = ("0", "1", "2", "3")


@dataclass(frozen=True)
class TrainPlane:
    """One candidate's fixed inputs: ids, chip, formats, USD per chip-second (NaN: no price) and the watts that
    turn chip-seconds into energy (rated power x utilisation, likely; NaN: unknown)."""

    hardware: str
    precision: str
    chip: Chip
    formats: Formats
    usd_per_chip_s: float
    watts: float


class TrainReduction(Reduction):
    """Top-k by time, dollars or energy to train (smaller is better) and the front of time vs dollars to train
    (points without a price are not on it)."""

    def score(self, rows: dict[str, np.ndarray]) -> np.ndarray:
        key = {"cost": "usd_to_train", "time": "time_to_train_s", "energy": "energy_kwh"}[self.objective]
        return rows[key].astype(float)

    def pareto(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if not rows or not rows["ok"].size:
            return rows
        usd = rows["usd_to_train"].astype(float)
        priced = np.isfinite(usd)
        rows = {c: v[priced] for c, v in rows.items()}
        if not rows["ok"].size:
            return rows
        t, usd = rows["time_to_train_s"].astype(float), usd[priced]
        order = np.lexsort((usd, t))  # fastest first, then cheapest; stable, so equal points keep grid order
        cheapest_before = np.minimum.accumulate(usd[order])
        keep = order[np.concatenate(([True], usd[order][1:] < cheapest_before[:-1]))]
        return {c: v[keep] for c, v in rows.items()}


class TrainGrid:
    """What every chunk of a training sweep shares (small and picklable, sent to each Dask worker once): the model's
    shape, the framework, the axes and the run's budget."""

    def __init__(self, model: Model, axes: dict[str, np.ndarray], *, fw: Framework, seq_len: int,
                 global_batch: int | None, tokens: float, deadline_s: float | None) -> None:
        self.shape, self.axes, self.fw = shape(model), axes, fw
        self.dims = tuple(len(axes[a]) for a in AXES)
        self.per_cand = math.prod(self.dims)
        self.columns: tuple[str, ...] = COLUMNS
        self.seq, self.global_batch, self.tokens = float(seq_len), global_batch, float(tokens)
        self.deadline = math.inf if deadline_s is None else float(deadline_s)

    @staticmethod
    def reduction(k: int, objective: str) -> Reduction:
        return TrainReduction(k, objective)

    @staticmethod
    def plane(hw: Hardware, precision: str, catalog: Catalog, usd_per_chip_s: float, watts: float) -> TrainPlane:
        # as ``perf.train.train``: sustained matmul rates, attention in 16 bits whatever the matmuls' format; a
        # missing peak is a reason
        chip = Chip.of(hw, precision, resolve(hw, catalog.efficiency).sustained(), kv="bf16", attention_16bit=True,
                       strict=False)
        return TrainPlane(hw.id, precision, chip, Formats(prec.BYTES[precision], 2.0, 2.0), usd_per_chip_s, watts)

    def rows(self, plane: TrainPlane, flat: np.ndarray) -> dict[str, np.ndarray]:
        """The rows of one candidate at flat grid indices ``flat``."""
        idx = np.unravel_index(flat, self.dims)
        c = {a: self.axes[a][i] for a, i in zip(AXES, idx, strict=True)}
        n = flat.size
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            dp = c["chips"] / (c["tp"] * c["pp"] * c["cp"])
            whole = (dp >= 1.0) & (dp == np.floor(dp))
            dp = np.where(whole, dp, 1.0)  # evaluated as dp 1 and marked invalid: no NaN reaches the model
            unit = c["micro_batch"] * dp
            gb = (np.maximum(np.round(DEFAULT_TOKENS_PER_STEP / self.seq / unit), 1.0) * unit
                  if self.global_batch is None else np.full(n, float(self.global_batch)))
            r = step(self.shape, plane.chip, Parallel(c["tp"], c["pp"], dp, c["cp"], c["ep"], c["vpp"], c["zero"]),
                     TrainBatch(c["micro_batch"], gb, self.seq), plane.formats, self.fw, recompute=c["recompute"],
                     attention=attention_rates(self.fw, plane.hardware, float(self.seq), self.shape.head_dim))
            code = np.broadcast_to(np.asarray(r.code), (n,)) | np.where(whole, 0, _CHIPS_LAYOUT)
            step_s = np.broadcast_to(np.asarray(r.step_time_s, dtype=float), (n,))
            steps = np.maximum(np.ceil(self.tokens / (gb * self.seq)), 1.0)
            seconds = steps * step_s
            chip_s = c["chips"] * seconds
            memory = np.asarray(r.weights_bytes + r.grads_bytes + r.optimizer_bytes + r.activation_bytes, dtype=float)
            rows = {"hardware": np.full(n, plane.hardware, dtype=object), "precision": np.full(n, plane.precision, dtype=object),
                    **{a: c[a] for a in AXES}, "recompute": _RECOMPUTE[c["recompute"].astype(int)], "dp": dp, "global_batch": gb, "step_time_s": step_s,
                    "tokens_per_s": r.tokens_per_s, "mfu": r.mfu, "time_to_train_s": seconds,
                    "usd_to_train": plane.usd_per_chip_s * chip_s, "energy_kwh": plane.watts * chip_s / J_PER_KWH,
                    "memory_per_chip_bytes": memory, "ok": (code == 0) & (seconds <= self.deadline)}
        return {k: np.broadcast_to(v, (n,)) for k, v in rows.items()}


def grid_size(planes: int, axes: dict[str, np.ndarray]) -> int:
    return planes * math.prod(len(axes[a]) for a in AXES)


def check_size(planes: int, axes: dict[str, np.ndarray], chunk: int) -> int:
    """The grid's size, after checking ``chunk`` and that the grid is at most MAX_POINTS."""
    checks.count(chunk, "{chunk}", at_most=MAX_CHUNK)
    total = grid_size(planes, axes)
    if total > MAX_POINTS:
        raise InputError(f"the training grid has {total:,} points, more than the {MAX_POINTS:,} a sweep may evaluate; narrow "
                         "the axes ({chips}, {tp}, {pp}, {micro_batch}, ...) or the hardware and precisions",
                         params=("chips", "tp", "pp", "micro_batch"))
    return total


def row_dict(rows: dict[str, np.ndarray], i: int) -> dict[str, object]:
    """One row as JSON-ready values: counts as ints, NaN (no price, no power figure) as None."""
    out: dict[str, object] = {}
    for col in COLUMNS:
        v = rows[col][i]
        v = v.item() if hasattr(v, "item") else v
        if col in _COUNTS:
            v = int(v)
        elif isinstance(v, float) and not math.isfinite(v):
            v = None
        out[col] = v
    return out


_COUNTS = frozenset(a for a in (*AXES, "dp", "global_batch") if a != "recompute")


def listed(rows: dict[str, np.ndarray]) -> list[dict[str, object]]:
    n = len(next(iter(rows.values()))) if rows else 0
    return [row_dict(rows, i) for i in range(n)]

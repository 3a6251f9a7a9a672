"""``tcobench.sweep(..., train=True)`` / ``tcobench sweep --train``: every training job of a grid (hardware x
precision x chips x tp x pp x cp x ep x vpp x ZeRO x micro-batch x recomputation) evaluated in vectorised chunks
(``search.train_sweep``), in this process or on Dask workers, reduced to the top-k by dollars, time or energy to
train and the Pareto front of time vs dollars to train."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tcobench.api.inputs import (
    HardwareRef, Ref, catalog_or_default, hardware_list, model_of, names, one_of, own_parameters, positive_seconds, usd,
    whole,
)
from tcobench.api.training import _tokens
from tcobench.catalog import Catalog
from tcobench.cost import price_hardware
from tcobench.errors import DeploymentError, InputError, MissingInputError, close_matches
from tcobench.perf.train import DEFAULT_SEQ_LEN
from tcobench.perf.training import UNIFORM_RECOMPUTE
from tcobench.perf.stacks import framework as framework_of, frameworks
from tcobench.records import Tabular
from tcobench.search.executor import check_target, connect, scheduler_from_env
from tcobench.search.sweep import CONFIRM_POINTS, DEFAULT_CHUNK, Estimate, open_parts, open_sink, parse_axis, run_grid, time_grid
from tcobench.search.train_sweep import (
    AXES, COLUMNS, OBJECTIVES, PRECISIONS, ZERO_NAMES, TrainGrid, check_size, listed, parse_choices,
)

# The axes' defaults: the layouts ``tcobench train --layout auto`` searches, less context parallelism and the
# interleaved schedule (give --cp and --vpp to add them).
DEFAULTS = {"tp": "1,2,4,8", "pp": "1,2,4,8,16", "cp": "1", "ep": "1", "vpp": "1", "zero": "1,3",
            "micro_batch": "1,2,4,8", "recompute": ",".join(UNIFORM_RECOMPUTE)}


@dataclass(frozen=True)
class TrainSweepResult(Tabular):
    """The best ``top`` training runs by ``objective`` of ``evaluated`` grid points (``feasible`` valid, fitting and,
    with a deadline, meeting it), and the front of time vs dollars to train when asked."""

    model: str
    tokens: float
    seq_len: int
    global_batch: int | None  # None: about 4M tokens per step, per point
    deadline_s: float | None
    framework: str
    evaluated: int
    feasible: int
    wall_s: float
    objective: str
    basis: str
    output: str | None
    top: list[dict[str, Any]] = field(repr=False)
    pareto: list[dict[str, Any]] | None = field(default=None, repr=False)
    price_notes: dict[str, str] = field(default_factory=dict, repr=False)  # hardware -> what its price rests on
    workers: int | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"model": self.model, "workload": "training", "tokens": self.tokens, "seq_len": self.seq_len,
                               "global_batch": self.global_batch, "deadline_s": self.deadline_s,
                               "framework": self.framework, "evaluated": self.evaluated, "feasible": self.feasible,
                               "wall_s": self.wall_s, "workers": self.workers,
                               "configurations_per_s": self.evaluated / self.wall_s if self.wall_s > 0 else None,
                               "objective": self.objective, "basis": self.basis, "output": self.output,
                               "price_notes": self.price_notes, "top": self.top}
        if self.pareto is not None:
            doc["pareto"] = self.pareto
        return doc

    def to_rows(self) -> list[dict[str, Any]]:
        return list(self.top)


def sweep_training(model: Ref, hardware: str | Sequence[HardwareRef] | None = None, *, chips: str | int | None = None,
                   tp: str | None = None, pp: str | None = None, cp: str | None = None, ep: str | None = None,
                   vpp: str | None = None, zero: str | None = None, micro_batch: str | None = None,
                   recompute: str | None = None, seq_len: int | None = None, global_batch: int | None = None,
                   tokens: float | str = 1e12, deadline: float | str | None = None, precision: str | Sequence[str] = "bf16",
                   framework: str = "megatron", basis: Literal["own", "rent"] = "own", objective: str = "cost",
                   top: int = 10, pareto: bool = False, output: str | Path | None = None, chunk: int = DEFAULT_CHUNK,
                   price_hour: float | str | None = None, price_chip: float | str | None = None, yes: bool = False,
                   on_estimate: Callable[[Estimate], None] | None = None,
                   progress: Callable[[int, int], None] | None = None, catalog: Catalog | None = None,
                   workers: int | None = None, scheduler: str | None = None, **cost: Any) -> TrainSweepResult:
    """Every training job of the grid: ``chips`` (required) and the layout axes each '1,2,4', '1:64' or '8:4096:x2'
    (``zero``: stages '0,1,2,3'; ``recompute``: 'none,selective,full'), ``hardware`` x ``precision`` (bf16, fp16,
    fp8). Each point trains ``tokens`` tokens of ``seq_len`` (default 4096 or the model's context) in global batches
    of ``global_batch`` sequences (default: the multiple of micro-batch x dp nearest 4M tokens). Ranked by
    ``objective``: "cost" ($ to train under ``basis``, the likely figure), "time" or "energy" (kWh); with
    ``deadline`` (seconds or '14 days') a run that takes longer is not feasible. ``pareto``: the front of time vs
    dollars to train. ``output``, ``chunk``, ``yes``, ``on_estimate``, ``progress``, ``workers`` and ``scheduler``
    as ``tcobench.sweep``: on Dask the result is the single-process one, row for row."""
    cat = catalog_or_default(catalog)
    target = scheduler_from_env(scheduler) if workers is None else scheduler
    check_target(workers, target)
    m = model_of(cat, model)
    if chips is None:
        raise MissingInputError("a training sweep needs {chips}: the chip counts to try, e.g. '64:4096:x2'",
                                params=("chips",))
    given = {"tp": tp, "pp": pp, "cp": cp, "ep": ep, "vpp": vpp, "micro_batch": micro_batch}
    axes = {"chips": parse_axis(str(chips), "chips")}
    axes.update({a: parse_axis(str(v if v is not None else DEFAULTS[a]), a) for a, v in given.items()})
    axes["zero"] = parse_choices(str(zero if zero is not None else DEFAULTS["zero"]), "zero", ZERO_NAMES)
    axes["recompute"] = parse_choices(str(recompute if recompute is not None else DEFAULTS["recompute"]), "recompute",
                                      UNIFORM_RECOMPUTE)
    axes = {a: axes[a] for a in AXES}
    objective = one_of(objective, OBJECTIVES, "objective")
    whole(top, "top", 1, 10_000)
    one_of(basis, ["own", "rent"], "basis")
    one_of(framework, list(frameworks()), "framework")
    fw = framework_of(framework)
    n_tokens = _tokens(tokens)
    limit = positive_seconds(deadline, "deadline")
    seq = whole(seq_len, "seq_len", 1) if seq_len is not None else min(DEFAULT_SEQ_LEN, m.max_context)
    if seq > m.max_context:
        raise DeploymentError(f"{{seq_len}} {seq} exceeds {m.id}'s maximum context of {m.max_context} tokens",
                              params=("seq_len",))
    gb = whole(global_batch, "global_batch", 1) if global_batch is not None else None
    precisions = [_precision(p) for p in names(precision, "precision") or ["bf16"]]
    hws = hardware_list(cat, hardware)
    total = check_size(len(hws) * len(precisions), axes, chunk)
    params = own_parameters(cat, **cost)
    hour, chip_price = usd(price_hour, "USD/h", "price_hour"), usd(price_chip, "USD", "price_chip")
    grid = TrainGrid(m, axes, fw=fw, seq_len=seq, global_batch=gb, tokens=n_tokens, deadline_s=limit)
    planes, notes = [], {}
    for hw in hws:
        price = price_hardware(hw, cat, params, basis, price_hour=hour, price_chip=chip_price)
        span, notes[hw.id] = price.span(basis)
        watts = float(price.watts.likely * params.utilisation.likely) if price.watts is not None else float("nan")
        for p in precisions:
            planes.append(TrainGrid.plane(hw, p, cat, float(span.likely) if span is not None else float("nan"), watts))
    est = time_grid(grid, planes[0], total, chunk) if planes and grid.per_cand else Estimate(total, float("inf"), 0)
    if on_estimate is not None:
        on_estimate(est)
    if est.points > CONFIRM_POINTS and not yes:
        raise InputError(f"the training sweep has {est.text()}; more than {CONFIRM_POINTS:,} points run only when asked: "
                         "pass {yes} to run it, or narrow the axes ({chips} {tp} {pp} {micro_batch} ...) or {hardware}",
                         params=("yes", "chips", "tp", "pp", "micro_batch", "hardware"))
    distributed = workers is not None or target is not None
    parts = open_parts(Path(output)) if output and distributed else None
    sink = open_sink(Path(output), COLUMNS) if output and not distributed else None
    executor = connect(workers, target) if distributed else None
    start = time.perf_counter()
    try:
        res = run_grid(grid, planes, objective=objective, top_k=top, chunk=chunk, sink=sink,
                       progress=None if progress is None else lambda n: progress(n, total), executor=executor, parts=parts)
    finally:
        if sink is not None:
            sink.close()
        if executor is not None:
            executor.close()
    wall = time.perf_counter() - start
    return TrainSweepResult(m.id, n_tokens, seq, gb, limit, fw.id, res.evaluated, res.feasible, wall, objective, basis,
                            str(output) if output else None, listed(res.top), listed(res.front) if pareto else None,
                            notes, executor.workers if executor is not None else None)


def _precision(p: str) -> str:
    word = p.strip().lower()
    if word not in PRECISIONS:
        hint = close_matches(word, PRECISIONS)
        raise InputError(f"{{precision}} {p!r}: a training sweep trains in one of {', '.join(PRECISIONS)}"
                         + (f"; did you mean {hint[0]!r}?" if hint else ""), params=("precision",))
    return word


__all__ = ["DEFAULTS", "TrainSweepResult", "sweep_training"]

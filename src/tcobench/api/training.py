"""``tcobench.train``: the time, dollars and energy to train a model on a token budget, from the training model's
step (``perf.train``) and the one pricing path (``cost.price_hardware``).

    time to train  = tokens / tokens per second (steps = tokens / (global batch x sequence length), rounded up)
    $ to train     = USD per chip-second (own or rent, low / likely / high) x chips x time to train
    energy         = chips x rated watts x utilisation x time to train (IT energy at the accelerators, no PUE,
                     as for inference: docs/metrics.md); tokens per kWh = tokens / energy

With ``layout="auto"`` (the default when no layout dimension is given) the search also tries half, a quarter, ...
of the chips: the fastest layout uses every chip, the cheapest may leave some out when scaling costs more than
it saves (``TrainingResult.cheapest``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tcobench import checks
from tcobench.api.inputs import (
    HardwareRef, Ref, catalog_or_default, hardware_of, model_of, number, one_of, own_parameters, usd, whole,
)
from tcobench.catalog import Catalog, Hardware, Model
from tcobench.cost import ChipPrice, OwnParameters, Span, price_hardware
from tcobench.cost.tokens import J_PER_KWH
from tcobench.errors import InputError
from tcobench.perf import remat as remat_policy
from tcobench.perf.remat import Remat
from tcobench.perf.train import LAYOUT_KEYS, Training
from tcobench.perf.train import train as _train
from tcobench.perf.training import RECOMPUTE
from tcobench.perf.stacks import frameworks
from tcobench.records import Tabular
from tcobench.search.executor import InProcess, cluster, cluster_address

Basis = Literal["own", "rent", "both"]
MAX_TOKENS = 1e18  # a token budget past this is a typo (the largest published runs are ~1e14)


@dataclass(frozen=True)
class TrainCost:
    """What one training run costs: time, dollars by basis (low, likely, high), energy."""

    tokens: float
    steps: int
    time_to_train_s: float
    usd_to_train: dict[str, tuple[float, float, float] | None]  # basis -> (low, likely, high); None: no price
    usd_notes: dict[str, str]  # basis -> what the price rests on, or why there is none
    energy_kwh: tuple[float, float, float] | None
    tokens_per_kwh: tuple[float, float, float] | None

    def to_dict(self) -> dict[str, Any]:
        return {"tokens": self.tokens, "steps": self.steps, "time_to_train_s": self.time_to_train_s,
                "usd_to_train": {k: None if v is None else list(v) for k, v in self.usd_to_train.items()},
                "usd_notes": self.usd_notes, "energy_kwh": None if self.energy_kwh is None else list(self.energy_kwh),
                "tokens_per_kwh": None if self.tokens_per_kwh is None else list(self.tokens_per_kwh)}


@dataclass(frozen=True)
class TrainingResult(Tabular):
    """The chosen layout (``training``), what the run costs (``cost``), and with a search the cheapest layout on at
    most as many chips (``cheapest``, with its cost) when it is not the same."""

    training: Training
    cost: TrainCost
    basis: str
    auto: bool
    cheapest: tuple[Training, TrainCost] | None = field(default=None, repr=False)
    why_cheapest: str | None = None

    def to_rows(self) -> list[dict[str, Any]]:
        return self.training.to_rows()

    def to_dict(self) -> dict[str, Any]:
        doc = self.training.to_dict()
        doc.update(self.cost.to_dict())
        doc["basis"] = self.basis
        doc["layout_search"] = "auto" if self.auto else "fixed"
        if self.cheapest is not None:
            t, c = self.cheapest
            doc["cheapest"] = {"chips": t.chips, "layout": t.layout, "step_time_s": t.step_time_s, "mfu": t.mfu,
                               **c.to_dict(), "why": self.why_cheapest}
        return doc


def train(model: Ref, hardware: HardwareRef, *, chips: int, tokens: float | str = 1e12, seq_len: int | None = None,
          global_batch: int | None = None, micro_batch: int | None = None, tp: int | None = None, pp: int | None = None,
          dp: int | None = None, cp: int | None = None, ep: int | None = None, vpp: int | None = None,
          zero: int | None = None, zero_group: int | None = None, recompute: str | None = None,
          remat: str | Mapping[str, str] | None = None, precision: str = "bf16", framework: str = "megatron",
          layout: Literal["auto", "fixed"] | None = None, basis: Basis = "both", price_hour: float | str | None = None,
          price_chip: float | str | None = None, explain: bool = False, catalog: Catalog | None = None,
          **cost: Any) -> TrainingResult:
    """``tcobench train``: step time, tokens/s, MFU/HFU and memory per chip of training ``model`` on ``chips`` chips
    of ``hardware``, and the time, dollars (own and/or rent, low / likely / high) and energy to train on ``tokens``
    tokens. Layout dimensions given (tp, pp, dp, cp, ep, vpp, zero, micro_batch, recompute) are kept; the others
    are searched for the fastest layout that fits. ``zero_group``: hybrid sharding, the ZeRO stage sharding over
    that many data-parallel ranks, replicated across the ``dp / zero_group`` groups (default: over all of dp).
    ``remat``: with ``recompute="custom"``, where each named tensor of a layer lives between the passes, as
    'decoder_layer_input=offload,query_proj=device,...' or a mapping (``perf.remat``: remat, device or offload; MaxText's
    remat_policy custom). ``layout="fixed"`` takes the dimensions not given at 1 (ZeRO-1,
    selective recomputation, micro-batch 1); ``"auto"`` (the default when none is given) also reports the
    cheapest layout on at most ``chips`` chips. ``cost``: cost-basis overrides, as ``compare``."""
    cat = catalog_or_default(catalog)
    m = model_of(cat, model)
    hw = hardware_of(cat, hardware)
    whole(chips, "chips", 1)
    n_tokens = _tokens(tokens)
    given = {"tp": tp, "pp": pp, "dp": dp, "cp": cp, "ep": ep, "vpp": vpp, "zero": zero, "micro_batch": micro_batch}
    fixed: dict[str, Any] = {}
    for k, v in given.items():
        if v is not None:
            fixed[k] = whole(v, k, 0 if k == "zero" else 1, 3 if k == "zero" else checks.MAX_COUNT)
    if recompute is not None:
        fixed["recompute"] = one_of(recompute, RECOMPUTE, "recompute")
    if zero_group is not None:
        zero_group = whole(zero_group, "zero_group", 1, checks.MAX_COUNT)
    policy = remat_policy.parse(remat) if remat is not None else None
    one_of(framework, list(frameworks()), "framework")
    if layout is None:
        layout = "fixed" if fixed else "auto"
    one_of(layout, ["auto", "fixed"], "layout")
    if layout == "fixed":
        defaults = {"tp": 1, "pp": 1, "cp": 1, "ep": 1, "vpp": 1, "zero": 1, "micro_batch": 1, "recompute": "selective"}
        fixed = {**defaults, **fixed}
    if seq_len is not None:
        whole(seq_len, "seq_len", 1)
    if global_batch is not None:
        whole(global_batch, "global_batch", 1)
    one_of(basis, ["own", "rent", "both"], "basis")
    params = own_parameters(cat, **cost)
    price = price_hardware(hw, cat, params, basis, price_hour=usd(price_hour, "USD/h", "price_hour"),
                           price_chip=usd(price_chip, "USD", "price_chip"))
    t = _train(m, hw, chips=chips, seq_len=seq_len, global_batch=global_batch, precision=precision, framework_id=framework,
               fixed=fixed, catalog=cat, explain=explain, zero_group=zero_group, remat=policy)
    c = run_cost(t, n_tokens, price, basis, params.utilisation)
    cheapest = why = None
    if layout == "auto" and t.fits:
        cheapest, why = _cheapest(m, hw, t, c, n_tokens, price, basis, params.utilisation, seq_len, global_batch,
                                  precision, framework, fixed, cat, zero_group, policy)
    return TrainingResult(t, c, basis, layout == "auto", cheapest, why)


def _tokens(value: float | str) -> float:
    if isinstance(value, str):
        n = checks.parse_number(value.replace("_", ""), "{tokens}", low=0.0, low_open=True)
    else:
        n = float(number(value, "tokens", low=0.0, low_open=True) or 0.0)
    if n > MAX_TOKENS or n < 1:
        raise InputError(f"{{tokens}} {n:g}: expected a token budget from 1 to {MAX_TOKENS:g}, e.g. 1e12", params=("tokens",))
    return n


def run_cost(t: Training, tokens: float, price: ChipPrice, basis: str, utilisation: Span) -> TrainCost:
    """The time, dollars and energy of training ``t`` on ``tokens`` tokens (whole steps)."""
    per_step = t.global_batch * t.seq_len
    steps = max(int(math.ceil(tokens / per_step)), 1)
    seconds = steps * t.step_time_s
    usd: dict[str, tuple[float, float, float] | None] = {}
    notes: dict[str, str] = {}
    chosen: tuple[Literal["own", "rent"], ...] = ("own", "rent") if basis == "both" else ("own",) if basis == "own" else ("rent",)
    for b in chosen:
        span, note = price.span(b)
        usd[b] = None if span is None or not t.fits else span.scale(t.chips * seconds).as_tuple()
        notes[b] = note
    energy = per_kwh = None
    if price.watts is not None and t.fits:
        w = price.watts
        joules = Span(w.low * utilisation.low, w.likely * utilisation.likely, w.high * utilisation.high).scale(t.chips * seconds)
        energy = joules.scale(1.0 / J_PER_KWH).as_tuple()
        per_kwh = (steps * per_step / energy[2], steps * per_step / energy[1], steps * per_step / energy[0])
    return TrainCost(float(tokens), steps, seconds, usd, notes, energy, per_kwh)


def _cheapest(m: Any, hw: Hardware, best: Training, best_cost: TrainCost, tokens: float, price: ChipPrice, basis: str,
              utilisation: Span, seq_len: int | None, global_batch: int | None, precision: str, framework: str,
              fixed: dict[str, Any], cat: Catalog, zero_group: int | None = None,
              policy: Remat | None = None) -> tuple[tuple[Training, TrainCost] | None, str | None]:
    """The layout on chips, chips/2, chips/4, ... that costs least (the basis's likely figure; rent first when both),
    if cheaper than the fastest; with why."""
    key = "rent" if basis in ("rent", "both") and best_cost.usd_to_train.get("rent") else "own"
    if best_cost.usd_to_train.get(key) is None:
        return None, None
    top: tuple[Training, TrainCost] = (best, best_cost)
    n = best.chips // 2
    while n >= 1 and best.chips % n == 0:
        try:
            t = _train(m, hw, chips=n, seq_len=seq_len, global_batch=global_batch, precision=precision, framework_id=framework,
                       fixed={k: v for k, v in fixed.items() if k != "dp"}, catalog=cat, zero_group=zero_group,
                       remat=policy)
        except InputError:
            break
        if not t.fits:
            break
        c = run_cost(t, tokens, price, basis, utilisation)
        spend, top_spend = c.usd_to_train.get(key), top[1].usd_to_train.get(key)
        if spend is not None and top_spend is not None and spend[1] < top_spend[1]:
            top = (t, c)
        n //= 2
    if top[0] is best:
        return None, None
    t, c = top
    saved = 1.0 - (c.usd_to_train[key] or (0, 1, 0))[1] / (best_cost.usd_to_train[key] or (0, 1, 0))[1]
    why = (f"{t.chips} chips instead of {best.chips}: MFU {t.mfu:.1%} against {best.mfu:.1%} "
           f"({_lost(best)} of the faster run's step goes to {_lost_parts(best)}), so {saved:.1%} less {key} cost "
           f"for {c.time_to_train_s / best_cost.time_to_train_s:.2f}x the time")
    return top, why


def _lost_parts(t: Training) -> str:
    waste = {k: v for k, v in t.parts.items() if k not in ("forward", "backward")}
    top = sorted(waste, key=lambda k: -waste[k])[:2]
    return " and ".join(k for k in top if waste[k] > 0) or "overheads"


def _lost(t: Training) -> str:
    waste = sum(v for k, v in t.parts.items() if k not in ("forward", "backward"))
    return f"{waste / t.step_time_s:.0%}"




@dataclass(frozen=True)
class TrainRow:
    """One hardware's best training run for a budget: the cheapest layout meeting the deadline (or, when none
    does, the fastest, marked), with what it costs."""

    hardware: str
    training: Training | None
    cost: TrainCost | None
    meets_deadline: bool
    note: str = ""
    tried: int = 0  # chip counts evaluated
    scaling: tuple[dict[str, Any], ...] = ()  # every chip count that fits, its fastest layout (``scaling_points``)

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"hardware": self.hardware, "meets_deadline": self.meets_deadline, "note": self.note,
                               "chip_counts_tried": self.tried, "scaling": [dict(p) for p in self.scaling]}
        if self.training is not None and self.cost is not None:
            t = self.training
            doc.update({"chips": t.chips, "layout": t.layout, "precision": t.precision, "step_time_s": t.step_time_s,
                        "tokens_per_s": t.tokens_per_s, "mfu": t.mfu, **self.cost.to_dict()})
        return doc


@dataclass(frozen=True)
class TrainCompareResult(Tabular):
    """Per hardware, the cheapest run (``objective="cost"``, compare) or the fewest chips (``"chips"``, plan) that
    trains ``tokens`` tokens within ``deadline_s``; rows that meet it first, cheapest first."""

    model: str
    tokens: float
    deadline_s: float | None
    basis: str
    objective: str
    rows: list[TrainRow] = field(repr=False)
    workers: int | None = None  # Dask worker threads that ran the hardware; None: this process alone

    def to_rows(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "workload": "training", "tokens": self.tokens, "deadline_s": self.deadline_s,
                "basis": self.basis, "objective": self.objective, "workers": self.workers, "rows": self.to_rows()}


def scaling_points(runs: list[tuple[Training, TrainCost]], key: str) -> tuple[dict[str, Any], ...]:
    """Per chip count (fewest first): tokens/s, MFU, time and the ``key`` basis's likely $ to train, and the scaling
    efficiency, tokens/s per chip over that of the fewest chips that fit (1.0 there; each count with its own fastest
    layout and global batch)."""
    runs = sorted(runs, key=lambda r: r[0].chips)
    if not runs:
        return ()
    base = runs[0][0].tokens_per_s_per_chip
    out = []
    for t, c in runs:
        spend = c.usd_to_train.get(key)
        out.append({"chips": t.chips, "tokens_per_s": t.tokens_per_s, "mfu": t.mfu, "time_to_train_s": c.time_to_train_s,
                    "usd_to_train": None if spend is None else spend[1],
                    "scaling_efficiency": t.tokens_per_s_per_chip / base if base > 0 else None})
    return tuple(out)


def compare_training(model: Ref, hardware: str | list[HardwareRef] | None = None, *, tokens: float | str = 1e12,
                     deadline: float | str | None = None, max_chips: int = 16384, seq_len: int | None = None,
                     global_batch: int | None = None, precision: str = "bf16", framework: str = "megatron",
                     basis: Basis = "rent", objective: Literal["cost", "chips"] = "cost",
                     price_hour: float | str | None = None, price_chip: float | str | None = None,
                     catalog: Catalog | None = None, progress: Any = None, workers: int | None = None,
                     scheduler: str | None = None, **cost: Any) -> TrainCompareResult:
    """``tcobench compare --train`` (objective "cost") and ``plan --train`` (objective "chips"): per hardware (default:
    every catalog chip with a peak at ``precision``), the training runs on 1, 2, 4, ... up to ``max_chips`` chips, each
    with its fastest layout (``perf.train``), and the cheapest (or the fewest chips) that finishes ``tokens`` tokens
    within ``deadline`` (seconds or text: "14 days"). ``basis`` picks the price ranked by ("own" or "rent"; "both"
    ranks by rent).

    ``workers`` / ``scheduler``: on a Dask cluster (a local one of that many processes, or a running one at
    'tcp://host:8786'; default ``TCOBENCH_SCHEDULER``), one task per hardware; the rows are the single process's.
    ``progress(i, n, hardware_id)`` is called as hardware ``i`` of ``n`` is started (on a cluster: handed out)."""
    from tcobench.api.inputs import hardware_list, positive_seconds

    address = cluster_address(workers, scheduler)
    cat = catalog_or_default(catalog)
    m = model_of(cat, model)
    n_tokens = _tokens(tokens)
    limit = positive_seconds(deadline, "deadline")
    whole(max_chips, "max_chips", 1)
    one_of(basis, ["own", "rent", "both"], "basis")
    one_of(objective, ["cost", "chips"], "objective")
    params = own_parameters(cat, **cost)
    hws = hardware_list(cat, hardware)
    if hardware is None:
        hws = [h for h in hws if h.peak(precision) is not None]
    key: Literal["own", "rent"] = "own" if basis == "own" else "rent"
    job = _TrainJob(m, cat, params, n_tokens, limit, max_chips, seq_len, global_batch, precision, framework, basis,
                    objective, usd(price_hour, "USD/h", "price_hour"), usd(price_chip, "USD", "price_chip"))

    def started() -> Iterator[Hardware]:
        for i, hw in enumerate(hws):
            if progress is not None:
                progress(i, len(hws), hw.id)
            yield hw

    with cluster(workers, address) as executor:
        rows = list((executor or InProcess()).map(_train_row, started(), job))
        used = None if executor is None else executor.workers

    def order(r: TrainRow) -> tuple[int, float]:
        spend = r.cost.usd_to_train.get(key) if r.cost else None
        return (0 if r.meets_deadline else 1 if r.training else 2, spend[1] if spend else float("inf"))

    rows.sort(key=order)
    return TrainCompareResult(m.id, n_tokens, limit, basis, objective, rows, used)


@dataclass(frozen=True)
class _TrainJob:
    """What every hardware's training row shares (sent to each Dask worker once)."""

    model: Model
    catalog: Catalog
    params: OwnParameters
    tokens: float
    deadline_s: float | None
    max_chips: int
    seq_len: int | None
    global_batch: int | None
    precision: str
    framework: str
    basis: Basis
    objective: Literal["cost", "chips"]
    price_hour: float | None
    price_chip: float | None


def _train_row(job: _TrainJob, hw: Hardware) -> TrainRow:
    """One hardware's row: its runs on 1, 2, 4, ... chips, and the cheapest (or fewest chips) meeting the deadline."""
    key: Literal["own", "rent"] = "own" if job.basis == "own" else "rent"
    price = price_hardware(hw, job.catalog, job.params, job.basis, price_hour=job.price_hour, price_chip=job.price_chip)
    runs: list[tuple[Training, TrainCost]] = []
    note, n, tried, last_error = "", 1, 0, ""
    while n <= job.max_chips:
        tried += 1
        try:
            t = _train(job.model, hw, chips=n, seq_len=job.seq_len, global_batch=job.global_batch,
                       precision=job.precision, framework_id=job.framework, catalog=job.catalog)
        except InputError as err:
            last_error = f"{n} chips: {err.render({})}"
            n *= 2
            continue
        if t.fits:
            runs.append((t, run_cost(t, job.tokens, price, job.basis, job.params.utilisation)))
        n *= 2
    if not runs:
        return TrainRow(hw.id, None, None, False, last_error or f"does not fit on up to {job.max_chips} chips", tried)
    biggest = max(r[0].chips for r in runs)
    if biggest < job.max_chips and last_error:  # larger jobs failed: say why (a missing link figure, say)
        why = "no scale-out bandwidth in the catalog" if hw.scale_out.bandwidth is None else last_error
        note = f"at most {biggest} chips: {why}"
    meeting = [r for r in runs if job.deadline_s is None or r[1].time_to_train_s <= job.deadline_s]
    if not meeting:
        fastest = min(runs, key=lambda r: r[1].time_to_train_s)
        return TrainRow(hw.id, fastest[0], fastest[1], False,
                        note or f"misses the deadline on up to {job.max_chips} chips (fastest shown)", tried,
                        scaling_points(runs, key))
    if job.objective == "chips":
        best = min(meeting, key=lambda r: r[0].chips)
    else:
        priced = [r for r in meeting if r[1].usd_to_train.get(key)]
        best = min(priced, key=lambda r: (r[1].usd_to_train[key] or (0, 0, 0))[1]) if priced else \
            min(meeting, key=lambda r: r[0].chips)
    gap = "" if best[1].usd_to_train.get(key) else f"no {key} price in the catalog"
    return TrainRow(hw.id, best[0], best[1], True, "; ".join(x for x in (gap, note) if x), tried,
                    scaling_points(runs, key))


__all__ = ["LAYOUT_KEYS", "TrainCompareResult", "TrainCost", "TrainRow", "TrainingResult", "compare_training", "train"]

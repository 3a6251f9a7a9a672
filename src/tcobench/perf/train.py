"""One training configuration in, one ``Training`` out: the scalar face of ``training.step``, with the layout
search behind ``--layout auto`` and the per-operator detail behind ``--explain``.

A layout is tp x pp x cp x dp chips (experts over ep of the dp x cp chips), a pipeline schedule (vpp virtual
stages per chip), a ZeRO stage, a micro-batch and a recomputation mode. Every dimension the caller fixes is
kept; the others are searched, all at once, by one vectorised ``step`` call over their grid, and the fastest
layout that is valid and fits wins (``Training.searched`` says how many were tried).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from tcobench.catalog import Catalog, Hardware, Model
from tcobench.errors import DeploymentError, InputError, close_matches, params_in
from tcobench.perf import precision as prec
from tcobench.perf import reasons
from tcobench.perf.chip import Chip
from tcobench.perf.deployment import Formats
from tcobench.perf.efficiency import resolve
from tcobench.perf.predict import OpCost
from tcobench.perf.roofline import BOUND_NAMES
from tcobench.perf.remat import Remat
from tcobench.perf.training import PARTS, RECOMPUTE, ZERO_STAGES, Parallel, TrainBatch, TrainResult, step
from tcobench.perf.stacks import attention_rates, framework, host_links
from tcobench.perf.transformer import shape
from tcobench.records import Tabular

DEFAULT_TOKENS_PER_STEP = 4 * 1024 * 1024  # the global batch when none is given: Llama 2's 4M tokens (arXiv 2307.09288, section 2.2)
DEFAULT_SEQ_LEN = 4096
# a layout whose micro-batch x dp forces a default global batch past 1.5x the recipe's is a different recipe (fewer
# optimizer steps for the same tokens), not a faster layout: the search takes one only when no layout gets closer
DEFAULT_BATCH_SLACK = 1.5
LAYOUT_KEYS = ("tp", "pp", "dp", "cp", "ep", "vpp", "zero", "micro_batch", "recompute")
MAX_POINTS = 5_000_000  # a layout grid larger than this is refused (fix a dimension)


@dataclass(frozen=True)
class Training(Tabular):
    """One training configuration's step, throughput, utilisation and memory per chip. ``parts``: seconds of one
    step on the critical path by kind; ``ops``: one micro-batch's forward pass per operator (with explain)."""

    model: str
    hardware: str
    chips: int
    precision: str
    framework: str
    seq_len: int
    global_batch: int
    layout: dict[str, Any]  # tp, pp, dp, cp, ep, vpp, zero, micro_batch, recompute
    step_time_s: float
    tokens_per_s: float
    tokens_per_s_per_chip: float
    mfu: float
    hfu: float
    model_flops_per_step: float
    microbatches: int
    bubble_share: float
    memory: dict[str, Any]  # per chip: weights_bytes, grads_bytes, optimizer_bytes, activation_bytes, capacity_bytes, fits
    fits: bool
    reason: str | None
    parts: dict[str, float]
    ops: tuple[OpCost, ...] = field(default=(), repr=False)
    comm_bytes: dict[str, float] = field(default_factory=dict, repr=False)
    searched: int = 1  # layouts evaluated (more than one with a search)
    valid: int = 1  # ... of which valid and fitting
    efficiency_sources: dict[str, str] = field(default_factory=dict, repr=False)
    closest: dict[str, Any] | None = None  # when it does not fit: the closest layout that does (``suggest``)

    def to_rows(self) -> list[dict[str, Any]]:
        """The step by part: name, seconds, share of the step."""
        return [{"part": k, "time_s": v, "share": v / self.step_time_s} for k, v in self.parts.items()]

    def to_dict(self) -> dict[str, Any]:
        keys = ("model hardware chips precision framework seq_len global_batch layout step_time_s tokens_per_s "
                "tokens_per_s_per_chip mfu hfu model_flops_per_step microbatches bubble_share memory fits reason parts "
                "searched valid").split()
        doc = {k: getattr(self, k) for k in keys}
        if not self.fits:
            doc["closest_layout"] = self.closest
        if self.ops:
            doc["forward_ops"] = [vars(op) for op in self.ops]
            doc["comm_bytes_per_step"] = self.comm_bytes
        return doc


def train(model: Model, hardware: Hardware, *, chips: int, seq_len: int | None = None, global_batch: int | None = None,
          precision: str = "bf16", framework_id: str = "megatron", fixed: Mapping[str, Any] | None = None,
          catalog: Catalog | None = None, explain: bool = False, sequence_parallel: bool = True,
          zero_group: int | None = None, remat: Remat | None = None) -> Training:
    """The fastest valid layout (the most tokens per second) of ``chips`` chips that fits, with every dimension in
    ``fixed`` (``LAYOUT_KEYS``: tp, pp, dp, cp, ep, vpp, zero, micro_batch as ints, recompute as a name) kept as
    given. ``global_batch`` defaults to the multiple of micro-batch x dp nearest 4M tokens per step; a layout whose
    multiple overshoots 1.5x that is taken only when no layout gets closer. ``zero_group``: hybrid sharding, the
    ZeRO stage sharding over that many data-parallel ranks and the ``dp / zero_group`` groups replicating each
    other (None: over all of dp); the layouts searched are those whose dp it divides. ``remat``: with recompute
    "custom", where each named tensor of a layer lives (``perf.remat``; None: its defaults); offloaded tensors travel
    over the chip's host link (``perf/data/training.toml`` [host_link]; not charged where the chip has none).

    Raises DeploymentError naming the parameter when the fixed dimensions allow no valid layout, with the
    closest one that would work. A layout that is valid but does not fit comes back with ``fits=False`` and a
    ``reason`` (it is also the best the search found)."""
    fixed = dict(fixed or {})
    for k in fixed:
        if k not in LAYOUT_KEYS:
            hint = close_matches(k, LAYOUT_KEYS)
            raise InputError(f"unknown layout dimension {k!r}; expected one of {', '.join(LAYOUT_KEYS)}"
                             + (f"; did you mean {hint[0]!r}?" if hint else ""))
    if "recompute" in fixed and fixed["recompute"] not in RECOMPUTE:
        hint = close_matches(str(fixed["recompute"]), RECOMPUTE)
        raise InputError(f"{{recompute}} {fixed['recompute']!r}: expected one of {', '.join(RECOMPUTE)}"
                         + (f"; did you mean {hint[0]!r}?" if hint else ""), params=("recompute",))
    if remat is not None and fixed.get("recompute") != "custom":
        raise InputError(f"{{remat}} {remat.spec()!r} places tensors for recompute 'custom'; got {{recompute}} "
                         f"{fixed.get('recompute')!r}: give recompute custom, or leave {{remat}} out",
                         params=("remat", "recompute"))
    if "zero" in fixed and fixed["zero"] not in ZERO_STAGES:
        raise InputError(f"{{zero}} {fixed['zero']!r}: expected a ZeRO stage, one of 0, 1, 2, 3", params=("zero",))
    if zero_group is not None:
        if isinstance(zero_group, bool) or not isinstance(zero_group, int) or zero_group < 1:
            raise InputError(f"{{zero_group}} {zero_group!r}: expected a whole number of data-parallel ranks, 1 or more",
                             params=("zero_group",))
        if fixed.get("zero") == 0:
            raise InputError(f"{{zero_group}} {zero_group}: ZeRO-0 shards nothing; give {{zero}} 1, 2 or 3 with a shard "
                             "group, or leave {zero_group} out", params=("zero_group", "zero"))
        if "dp" in fixed and int(fixed["dp"]) % zero_group:
            best = min(_divisors(int(fixed["dp"]), int(fixed["dp"])), key=lambda d: abs(d - zero_group))
            raise InputError(f"{{zero_group}} {zero_group}: expected a divisor of {{dp}} {fixed['dp']} (the shard groups "
                             f"split the data-parallel ranks evenly); the closest: {best}", params=("zero_group", "dp"))
    precision = prec.check(precision, "precision")
    fw = framework(framework_id)
    if catalog is None:
        from tcobench.catalog import load_catalog

        catalog = load_catalog()
    # a training step keeps every chip busy for minutes: its matmuls run at the rate the clock settles to at the power
    # limit where the catalog states it (sustained_at), not at a short burst's
    eff = resolve(hardware, catalog.efficiency).sustained()
    # training keeps attention in 16 bits whatever the matmuls' format (Transformer Engine's fp8 recipes cast the
    # inputs of Linear layers only): the attention core runs at the 16-bit rate
    chip = Chip.of(hardware, precision, eff, kv="bf16", attention_16bit=True)
    # training frameworks (Megatron, NeMo) reduce through NCCL: the serving engines' one-shot all-reduce does not apply
    chip = replace(chip, ar_latency=float("nan"), ar_bw=float("nan"))
    s = shape(model)
    seq = int(seq_len or min(DEFAULT_SEQ_LEN, model.max_context))
    if seq > model.max_context:
        raise DeploymentError(f"{{seq_len}} {seq} exceeds {model.id}'s maximum context of {model.max_context} tokens",
                              params=("seq_len",))
    fmt = Formats(prec.BYTES[precision], 2.0, 2.0)
    grid = _grid(s.layers, s.heads, s.experts, chips, hardware, fixed)
    if grid is not None and zero_group is not None:  # hybrid sharding: the layouts whose dp the shard group divides
        keep = grid["dp"] % zero_group == 0
        if not keep.any():
            dps = sorted({int(d) for d in grid["dp"]})
            best = min((d for dp in dps for d in _divisors(dp, dp) if d > 1), key=lambda d: abs(d - zero_group), default=1)
            raise InputError(f"{{zero_group}} {zero_group}: divides no data-parallel degree of the layouts of {chips} chips "
                             f"(dp {', '.join(map(str, dps[:8]))}{', ...' if len(dps) > 8 else ''}); expected a divisor of "
                             f"{{dp}} (the shard groups split the data-parallel ranks evenly); the closest: {best}",
                             params=("zero_group", "dp"))
        grid = {k: v[keep] for k, v in grid.items()}
    zg = float(zero_group or 0)
    link = host_links().get(hardware.id)
    host_bw = link.bandwidth if link is not None else None
    if grid is None:
        msg = _no_layout(chips, fixed) + suggestion_text(chips, suggest(s, hardware, chips, fixed, global_batch, seq, fmt, fw, chip))
        raise DeploymentError(msg, params=tuple(dict.fromkeys(params_in(msg))))
    n = grid["tp"].size
    if n > MAX_POINTS:
        raise InputError(f"the layout search over {chips} chips has {n:,} points, more than {MAX_POINTS:,}: fix a dimension "
                         "({tp}, {pp}, {micro_batch}, ...)", params=("tp", "pp", "micro_batch"))
    gb = _global_batch(global_batch, grid, seq)
    r = step(s, chip, Parallel(grid["tp"], grid["pp"], grid["dp"], grid["cp"], grid["ep"], grid["vpp"], grid["zero"],
                               sequence_parallel, zg),
             TrainBatch(grid["micro_batch"], gb, float(seq)), fmt, fw, recompute=grid["rc"],
             attention=attention_rates(fw, hardware.id, seq, s.head_dim), remat=remat, host_bw=host_bw)
    code = np.broadcast_to(np.asarray(r.code), (n,))
    ok = _near_recipe(code == 0, global_batch, gb, seq)
    invalid = (code & int(reasons.Reason.INVALID)) != 0
    # fastest = the most tokens per second, not the shortest step: layouts whose default global batch differs
    # (a multiple of micro-batch x dp) would otherwise win by doing less work per step
    t = np.broadcast_to(np.asarray(r.step_time_s, dtype=float) / np.asarray(gb, dtype=float), (n,))
    if ok.any():
        i = int(np.argmin(np.where(ok, t, np.inf)))
    elif (~invalid).any():  # nothing fits: the valid layout that needs the least memory
        used = np.broadcast_to(np.asarray(r.weights_bytes + r.grads_bytes + r.optimizer_bytes + r.activation_bytes), (n,))
        i = int(np.argmin(np.where(invalid, np.inf, used)))
    else:
        common = int(np.bitwise_and.reduce(code))  # the reasons every layout shares, else the most frequent one
        if not common:
            bits = [1 << k for k in range(32)]
            common = max(bits, key=lambda b: int(((code & b) != 0).sum()))
        msg = _invalid_message(model, chips, fixed, common, global_batch, s, hardware, seq, fmt, fw, chip)
        if common & int(reasons.Reason.NO_LINK) and hardware.scale_out.bandwidth is None:
            msg += (f" ({hardware.id} has no scale-out bandwidth in the catalog, so no group larger than its scale-up domain "
                    "can be costed; a hardware file with a sourced scale_out bandwidth lifts this)")
        raise DeploymentError(msg, params=tuple(dict.fromkeys(params_in(msg))))
    pick = {k: float(np.ravel(v)[i if np.size(v) > 1 else 0]) for k, v in grid.items()}
    gb_i = float(np.ravel(np.asarray(gb, dtype=float))[i if np.size(gb) > 1 else 0])
    one = step(s, chip, Parallel(pick["tp"], pick["pp"], pick["dp"], pick["cp"], pick["ep"], pick["vpp"], pick["zero"],
                                 sequence_parallel, zg),
               TrainBatch(pick["micro_batch"], gb_i, float(seq)), fmt, fw, recompute=pick["rc"], detail=explain,
               attention=attention_rates(fw, hardware.id, seq, s.head_dim), remat=remat, host_bw=host_bw)
    closest = None if ok.any() else suggest(s, hardware, chips, fixed, global_batch, seq, fmt, fw, chip)
    if zero_group is not None:
        pick["zero_group"] = float(zero_group)
    out = _to_training(model, hardware, chips, precision, fw.id, seq, int(gb_i), pick, one, n, int(ok.sum()), eff.sources,
                       closest)
    if out.layout["recompute"] == "custom":
        out.layout["remat"] = (remat or Remat()).spec()
    return out


def _divisors(n: int, limit: int) -> list[int]:
    return [d for d in range(1, min(n, limit) + 1) if n % d == 0]


def _grid(layers: int, heads: int, experts: int, chips: int, hw: Hardware, fixed: Mapping[str, Any]) -> dict[str, np.ndarray] | None:
    """Every layout of ``chips`` chips the search considers, as flat arrays; None when the fixed dimensions leave none."""
    domain = int(hw.scale_up.domain.value) if hw.scale_up.domain else 1

    def axis(name: str, default: list[int]) -> list[int]:
        return [int(fixed[name])] if name in fixed else default

    tps = axis("tp", [d for d in _divisors(chips, max(domain, 1)) if heads % d == 0 and d & (d - 1) == 0])
    pps = axis("pp", [d for d in _divisors(chips, layers) if d == 1 or d % 2 == 0 or d in (3, 6, 12)])
    cps = axis("cp", [1, 2, 4, 8])
    eps = axis("ep", _divisors(experts, 64) if experts else [1])
    vpps = axis("vpp", [1, 2, 4])
    zeros = axis("zero", [1, 3] if "zero" not in fixed else [])
    mbs = axis("micro_batch", [1, 2, 4, 8])
    rcs = [float(RECOMPUTE.index(fixed["recompute"]))] if "recompute" in fixed else [0.0, 1.0, 2.0]
    rows = []
    for tp, pp, cp in itertools.product(tps, pps, cps):
        if chips % (tp * pp * cp):
            continue
        dp = chips // (tp * pp * cp)
        if "dp" in fixed and dp != int(fixed["dp"]):
            continue
        for ep, vpp, zero, mb, rc in itertools.product(eps, vpps, zeros, mbs, rcs):
            if (dp * cp) % ep or (vpp > 1 and pp == 1 and "vpp" not in fixed):
                continue
            rows.append((tp, pp, dp, cp, ep, vpp, zero, mb, rc))
    if not rows:
        return None
    a = np.asarray(rows, dtype=float)
    return {k: a[:, j] for j, k in enumerate(("tp", "pp", "dp", "cp", "ep", "vpp", "zero", "micro_batch", "rc"))}


def _global_batch(global_batch: int | None, grid: Mapping[str, np.ndarray], seq: int) -> np.ndarray | float:
    """The global batch of each layout: as given, or the multiple of micro-batch x dp nearest 4M tokens."""
    if global_batch is not None:
        return float(global_batch)
    unit = grid["micro_batch"] * grid["dp"]
    out: np.ndarray = np.maximum(np.round(DEFAULT_TOKENS_PER_STEP / seq / unit), 1.0) * unit
    return out


def _near_recipe(ok: np.ndarray, global_batch: int | None, gb: np.ndarray | float, seq: int) -> np.ndarray:
    """``ok`` less the layouts whose default global batch overshoots the recipe's (``DEFAULT_BATCH_SLACK``), unless
    that would leave none; a global batch the user gave is the recipe itself."""
    if global_batch is not None:
        return ok
    near = ok & (np.asarray(gb, dtype=float) * seq <= DEFAULT_BATCH_SLACK * DEFAULT_TOKENS_PER_STEP)
    return near if near.any() else ok


def _no_layout(chips: int, fixed: Mapping[str, Any]) -> str:
    dims = " x ".join(f"{{{k}}} {fixed[k]}" for k in ("tp", "pp", "cp", "dp") if k in fixed)
    return (f"{{chips}} {chips} cannot be split as {dims or 'any layout'}: chips must equal tp x pp x cp x dp"
            + (f" (tp x pp x cp = {math.prod(int(fixed.get(k, 1)) for k in ('tp', 'pp', 'cp'))})" if dims else ""))


def _invalid_message(model: Model, chips: int, fixed: Mapping[str, Any], code: int, global_batch: int | None,
                     s: Any, hw: Hardware, seq: int, fmt: Formats, fw: Any, chip: Chip) -> str:
    """Why no layout the fixed dimensions allow is valid, and the closest one that would work."""
    given = ", ".join(([f"{{global_batch}} {global_batch}"] if global_batch is not None and code & int(reasons.Reason.BATCH) else [])
                      + [f"{{{k}}} {fixed[k]}" for k in LAYOUT_KEYS if k in fixed]) or "no fixed dimension"
    why = reasons.text(code & int(reasons.Reason.INVALID)) or "no valid layout"
    return f"{model.id} on {chips} x {hw.id} with {given}: {why}" + suggestion_text(
        chips, suggest(s, hw, chips, fixed, global_batch, seq, fmt, fw, chip))


def suggest(s: Any, hw: Hardware, chips: int, fixed: Mapping[str, Any], global_batch: int | None, seq: int, fmt: Formats,
            fw: Any, chip: Chip) -> dict[str, Any] | None:
    """The closest layout that works: of the valid layouts of ``chips`` chips that fit, the one that changes the
    fewest fixed dimensions, fastest first; if none fits, on the fewest chips (doubling, up to 2^20) where one
    does. A dict of ``chips`` and the layout (``LAYOUT_KEYS``), or None."""
    for n in [chips] + [chips << k for k in range(1, 21)]:
        free = _grid(s.layers, s.heads, s.experts, n, hw, {})
        if free is None:
            continue
        gb = _global_batch(global_batch, free, seq)
        r = step(s, chip, Parallel(free["tp"], free["pp"], free["dp"], free["cp"], free["ep"], free["vpp"], free["zero"]),
                 TrainBatch(free["micro_batch"], gb, float(seq)), fmt, fw, recompute=free["rc"],
                 attention=attention_rates(fw, hw.id, seq, s.head_dim))
        size = free["tp"].size
        ok = _near_recipe(np.broadcast_to(np.asarray(r.code), (size,)) == 0, global_batch, gb, seq)
        if not ok.any():
            continue
        t = np.broadcast_to(np.asarray(r.step_time_s, dtype=float) / np.asarray(gb, dtype=float), (size,))  # s per sequence
        i = int(np.lexsort((np.where(ok, t, np.inf), np.where(ok, _changed(free, fixed), 1 << 30)))[0])
        return {"chips": n, **{k: (RECOMPUTE[int(free["rc"][i])] if k == "recompute" else int(free[k][i])) for k in LAYOUT_KEYS}}
    return None


def suggestion_text(chips: int, closest: dict[str, Any] | None) -> str:
    """'; the closest layout that works: {tp} 2 ...' (flags as ``{name}`` tokens), or '' for none."""
    if closest is None:
        return ""
    flags = " ".join(f"{{{k}}} {closest[k]}" for k in LAYOUT_KEYS if k != "dp")
    if closest["chips"] == chips:
        return f"; the closest layout that works: {flags}"
    return f"; no layout of {chips} chips fits, the fewest that do: {{chips}} {closest['chips']} {flags}"


def _changed(free: Mapping[str, np.ndarray], fixed: Mapping[str, Any]) -> np.ndarray:
    n = free["tp"].size
    out = np.zeros(n, dtype=int)
    for k, v in fixed.items():
        col, want = ("rc", float(RECOMPUTE.index(v))) if k == "recompute" else (k, float(v))
        if col in free:
            out += (free[col] != want).astype(int)
    return out


def _show(k: str, v: float) -> str:
    return RECOMPUTE[int(v)] if k == "recompute" else str(int(v))


def _to_training(model: Model, hw: Hardware, chips: int, precision: str, fw: str, seq: int, gb: int, pick: Mapping[str, float],
                 r: TrainResult, searched: int, valid: int, sources: Mapping[str, str],
                 closest: dict[str, Any] | None) -> Training:
    def f(x: Any) -> float:
        return float(np.ravel(np.asarray(x, dtype=float))[0])

    layout: dict[str, Any] = {k: int(pick[k]) for k in ("tp", "pp", "dp", "cp", "ep", "vpp", "zero", "micro_batch")}
    layout["recompute"] = RECOMPUTE[int(pick["rc"])]
    if "zero_group" in pick:  # hybrid sharding, when asked for
        layout["zero_group"] = int(pick["zero_group"])
    ops: list[OpCost] = []
    if r.forward is not None:
        for name, count, flops, nbytes, t, bound in r.forward.ops:
            count, flops, nbytes, t = float(count), f(flops), f(nbytes), f(t)
            if t > 0 or nbytes > 0:
                ops.append(OpCost("forward", name, count, flops * count, nbytes * count, t, BOUND_NAMES[int(bound)]))
    memory = {"weights_bytes": f(r.weights_bytes), "grads_bytes": f(r.grads_bytes), "optimizer_bytes": f(r.optimizer_bytes),
              "activation_bytes": f(r.activation_bytes), "capacity_bytes": f(r.capacity_bytes)}
    fits = bool(f(r.fits))
    memory["total_bytes"] = sum(memory[k] for k in ("weights_bytes", "grads_bytes", "optimizer_bytes", "activation_bytes"))
    code = int(f(r.code))
    memory_doc: dict[str, Any] = {**memory, "fits": fits}
    tps = f(r.tokens_per_s)
    return Training(model=model.id, hardware=hw.id, chips=chips, precision=precision, framework=fw, seq_len=seq,
                    global_batch=gb, layout=layout, step_time_s=f(r.step_time_s), tokens_per_s=tps,
                    tokens_per_s_per_chip=tps / chips, mfu=f(r.mfu), hfu=f(r.hfu), model_flops_per_step=f(r.model_flops_per_step),
                    microbatches=int(round(f(r.microbatches))), bubble_share=f(r.bubble_share), memory=memory_doc,
                    fits=fits, reason=reasons.text(code), parts={k: f(r.parts[k]) for k in PARTS},
                    ops=tuple(ops), comm_bytes={k: f(v) for k, v in (r.comm_bytes or {}).items()}, searched=searched,
                    valid=valid, efficiency_sources=dict(sources), closest=closest)

"""Training a workload known by its FLOPs per sample (BERT-large, ResNet-50: ``perf/data/workloads.toml``), for the
workloads the transformer operators do not describe, on data-parallel replicas of ``pp`` pipelined chips each.

One optimizer step of ``global_batch`` samples, on each replica ``accumulation`` micro-batches of
``global_batch / (dp x accumulation)`` samples (seconds, per chip):

    stage     = micro-batch x train FLOP per sample / (pp x peak x efficiency) x imbalance
                (a profile with ``ops``, its operators counted from the layer shapes by ``perf.layer_ops``: the sum
                over operators of max(micro-batch x FLOP / (peak x efficiency),
                (micro-batch x activation bytes + weight bytes) / (memory bandwidth x memory efficiency)),
                / pp x imbalance: a roofline per operator class)
    step      = accumulation x stage                       the micro-batches, back to back on every stage
              + (pp - 1) x stage                           the pipeline's fill and drain (GPipe / 1F1B bubble,
                                                           Huang et al. 2019, arXiv 1811.06965, section 2.3)
              + all-reduce(params x 4 bytes, over dp)      the gradients, fp32, not overlapped (an upper bound)
              + params / pp x 16 bytes / memory bandwidth  the optimizer reads and writes fp32 weights and 2 moments

``train FLOP per sample`` is the profile's forward FLOPs x its training multiplier (3), plus one forward again
with ``recompute="full"``. ``imbalance`` is the slowest pipeline stage's share of the work over 1/pp (1: balanced),
a fact of the layout (which layers sit on which chip), not a fitted factor. The efficiency is the catalog's compute
factor at the precision (the one transformer GEMMs use); for a convolutional workload the catalog has no measured
factor, so the result says it is unvalidated (the memory-bound operators are timed on the roofline either way;
a compute-bound convolution still runs at the GEMM factor). Memory per chip is not modelled here (activations per sample are not
in the profiles).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

from tcobench.catalog import Catalog, Hardware
from tcobench.errors import CatalogError, InputError, MissingInputError, close_matches
from tcobench.perf.chip import Chip
from tcobench.perf.comm import all_reduce, tier_bandwidth
from tcobench.perf.efficiency import resolve
from tcobench.perf.layer_ops import ARCHITECTURES, Op, ops_for

GRAD_BYTES = 4.0  # fp32 gradients all-reduced: the upper bound of the usual choices (fp16/bf16 halve it)
OPTIMIZER_BYTES = 16.0  # per parameter per step: fp32 weight and two moments read and written (4 x 2 x 2)
STEP_PARTS = ("compute", "memory", "recompute", "pp_bubble", "dp_comm", "optimizer")
Recompute = Literal["none", "full"]


@dataclass(frozen=True)
class Figure:
    value: float
    source: str
    note: str = ""


@dataclass(frozen=True)
class Profile:
    """A workload as FLOPs per sample (``perf/data/workloads.toml``); every figure with its source."""

    id: str
    name: str
    unit: str  # what one sample is: "sequence", "image"
    compute: Literal["matmul", "convolution"]
    forward_flop: Figure  # FLOP per sample, forward pass
    train_multiplier: Figure  # training FLOP / forward FLOP
    params: Figure
    reference_batch: Figure
    flop_note: str
    sources: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    extra: dict[str, Figure] = field(default_factory=dict)  # other sourced figures (mean_tokens)
    ops: tuple[Op, ...] = ()  # the operators from the layer shapes (perf.layer_ops); empty: all FLOPs at the GEMM rate
    ops_architecture: str = ""

    @property
    def train_flop(self) -> float:
        """FLOP per sample of one training step (forward + backward)."""
        return self.forward_flop.value * self.train_multiplier.value


def _figure(raw: Any, where: str) -> Figure:
    if not isinstance(raw, dict) or "value" not in raw or "source" not in raw:
        raise CatalogError(f"perf/data/workloads.toml {where}: expected {{ value = ..., source = ... }}")
    return Figure(float(raw["value"]), str(raw["source"]), str(raw.get("note", "")))


def profiles() -> dict[str, Profile]:
    """Every workload profile, with the sources it cites (the file is ours: a malformed one is a packaging error)."""
    data = tomllib.loads(resources.files("tcobench.perf").joinpath("data/workloads.toml").read_text(encoding="utf-8"))
    sources = data.get("source", {})
    out: dict[str, Profile] = {}
    fixed = ("forward_flop", "train_multiplier", "params", "reference_batch")
    for pid, t in data.get("workload", {}).items():
        figs = {k: _figure(t.get(k), f"[workload.{pid}].{k}") for k in fixed}
        extra = {k: _figure(v, f"[workload.{pid}].{k}") for k, v in t.items()
                 if isinstance(v, dict) and k not in fixed and k != "ops"}
        for f in (*figs.values(), *extra.values()):
            if f.source not in sources:
                raise CatalogError(f"perf/data/workloads.toml [workload.{pid}]: unknown source {f.source!r}")
        if t.get("compute") not in ("matmul", "convolution"):
            raise CatalogError(f"perf/data/workloads.toml [workload.{pid}].compute: expected 'matmul' or 'convolution'")
        cited = {f.source for f in (*figs.values(), *extra.values())}
        ops: tuple[Op, ...] = ()
        arch = ""
        if "ops" in t:
            raw = t["ops"]
            if not isinstance(raw, dict) or raw.get("architecture") not in ARCHITECTURES or raw.get("source") not in sources:
                raise CatalogError(f"perf/data/workloads.toml [workload.{pid}].ops: expected {{ architecture = one of "
                                   f"{', '.join(ARCHITECTURES)}, source = a [source] defined in the file }}")
            arch = str(raw["architecture"])
            tokens = extra["mean_tokens"].value if "mean_tokens" in extra else None
            ops = tuple(ops_for(arch, tokens))
            cited.add(str(raw["source"]))
        out[pid] = Profile(id=pid, name=str(t["name"]), unit=str(t["unit"]), compute=t["compute"], flop_note=str(t["flop_note"]),
                           sources={s: sources[s] for s in sorted(cited)}, extra=extra, ops=ops, ops_architecture=arch, **figs)
    return out


def profile(pid: str) -> Profile:
    known = profiles()
    key = pid.strip().lower()
    if key not in known:
        hint = close_matches(key, known)
        raise InputError(f"{{workload}} {pid!r}: expected one of {', '.join(known)}" + (f"; did you mean {hint[0]!r}?" if hint else ""),
                         params=("workload",))
    return known[key]


@dataclass(frozen=True)
class SampleTraining:
    """One layout's step (seconds, per chip unless named otherwise); ``parts`` sum to ``step_time_s``."""

    workload: str
    hardware: str
    chips: int
    dp: int
    pp: int
    accumulation: int
    micro_batch: int  # samples per micro-batch per replica
    global_batch: int
    precision: str
    recompute: str
    imbalance: float
    step_time_s: float
    samples_per_s: float
    mfu: float  # model FLOPs (3 x forward) / (step time x chips x dense peak)
    hfu: float  # with the recomputed forward
    train_flop_per_sample: float
    parts: dict[str, float]
    efficiency: float
    efficiency_source: str
    validated: bool  # False: the efficiency was never measured on this kind of work (convolutions)
    link: str  # the tier the gradient all-reduce crosses
    forward_s_per_sample: float = 0.0  # a forward pass, seconds per sample over all replicas (evaluation)

    @property
    def samples_per_s_per_chip(self) -> float:
        return self.samples_per_s / self.chips

    def to_dict(self) -> dict[str, Any]:
        return {"workload": self.workload, "hardware": self.hardware, "chips": self.chips,
                "layout": {"dp": self.dp, "pp": self.pp, "accumulation": self.accumulation, "micro_batch": self.micro_batch,
                           "recompute": self.recompute, "imbalance": self.imbalance},
                "global_batch": self.global_batch, "precision": self.precision, "step_time_s": self.step_time_s,
                "samples_per_s": self.samples_per_s, "samples_per_s_per_chip": self.samples_per_s_per_chip, "mfu": self.mfu,
                "hfu": self.hfu, "train_flop_per_sample": self.train_flop_per_sample, "parts": dict(self.parts),
                "efficiency": {"compute": self.efficiency, "source": self.efficiency_source, "validated": self.validated},
                "dp_link": self.link}


def sixteen_bit(hw: Hardware) -> str:
    """The 16-bit format a chip trains in by default: bf16, or fp16 where the catalog lists only fp16 (GC200)."""
    peaks = {str(k) for k in hw.peak_dense}
    return "fp16" if "fp16" in peaks and "bf16" not in peaks else "bf16"


def _whole(value: int, name: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InputError(f"{{{name}}} {value!r}: expected a whole number from {low}", params=(name,))
    return value


def layout(chips: int, global_batch: int, pp: int, accumulation: int | None) -> tuple[int, int, int]:
    """(dp, accumulation, micro-batch) for ``chips`` chips in replicas of ``pp``; with ``accumulation`` None, the
    fewest micro-batches that keep the pipeline's bubble under 1/4 of a step (one when pp is 1). Raises InputError
    naming the flag and the closest value that works."""
    if chips % pp:
        near = max(d for d in range(1, pp + 1) if chips % d == 0)
        raise InputError(f"{{pp}} {pp} does not divide {{chips}} {chips}: each replica is pp chips; try {{pp}} {near}",
                         params=("pp", "chips"))
    dp = chips // pp
    if accumulation is None:
        accumulation = 1 if pp == 1 else 3 * (pp - 1)
        while accumulation > 1 and global_batch % (dp * accumulation):
            accumulation -= 1
    if global_batch % (dp * accumulation):
        per = dp * accumulation
        near = max(per, round(global_batch / per) * per)
        raise InputError(f"{{global_batch}} {global_batch} is not a multiple of dp x accumulation = {dp} x {accumulation}; "
                         f"try {{global_batch}} {near}", params=("global_batch",))
    return dp, accumulation, global_batch // (dp * accumulation)


def train_samples(p: Profile, hw: Hardware, *, chips: int, global_batch: int | None = None, pp: int = 1,
                  accumulation: int | None = None, precision: str = "bf16", recompute: Recompute = "none",
                  imbalance: float = 1.0, catalog: Catalog) -> SampleTraining:
    """The step of training ``p`` on ``chips`` chips of ``hw`` (module docstring for the equations)."""
    _whole(chips, "chips")
    _whole(pp, "pp")
    gb = _whole(global_batch, "global_batch") if global_batch is not None else int(p.reference_batch.value)
    if accumulation is not None:
        _whole(accumulation, "accumulation")
    if recompute not in ("none", "full"):
        raise InputError(f"{{recompute}} {recompute!r}: expected 'none' or 'full'", params=("recompute",))
    if not (math.isfinite(imbalance) and imbalance >= 1.0):
        raise InputError(f"imbalance {imbalance!r}: expected a number >= 1 (the slowest stage's share x pp)")
    if hw.peak(precision) is None:
        raise MissingInputError(f"{hw.id} has no dense {precision} peak in the catalog; pick one of {', '.join(hw.peak_dense)}"
                                " with {precision}", params=("precision",))
    dp, acc, mb = layout(chips, gb, pp, accumulation)
    eff = resolve(hw, catalog.efficiency)
    chip = Chip.of(hw, precision, eff)
    rate = float(chip.peak) * float(chip.compute_eff)
    train_flop = p.train_flop
    again = p.forward_flop.value if recompute == "full" else 0.0
    if p.ops:
        bw_mem = float(chip.mem_bw) * float(chip.memory_eff)
        split = {"compute": 0.0, "memory": 0.0, "forward": 0.0}
        for op in p.ops:
            c, m = mb * op.flop / rate, (mb * op.bytes + op.weight_bytes) / bw_mem
            split["compute" if c >= m else "memory"] += max(c, m)
            split["forward"] += max(c, m) if op.forward else 0.0
        stage_c = split["compute"] / pp * imbalance
        stage_m = split["memory"] / pp * imbalance
        stage_re = split["forward"] / pp * imbalance if recompute == "full" else 0.0
        forward_s = split["forward"] / (mb * dp * pp) * imbalance
    else:
        stage_c = mb * train_flop / (pp * rate) * imbalance
        stage_m = 0.0
        stage_re = mb * again / (pp * rate) * imbalance
        forward_s = p.forward_flop.value / (rate * dp * pp) * imbalance
    stage = stage_c + stage_m
    bubble = (pp - 1) * (stage + stage_re)
    grads = p.params.value * GRAD_BYTES / pp  # each stage reduces its own layers' gradients
    bw = tier_bandwidth(chip, float(chips))
    dp_comm = float(all_reduce(grads, float(dp), bw, float(chip.alpha))) if dp > 1 else 0.0
    if dp > 1 and not math.isfinite(dp_comm):
        raise MissingInputError(f"{hw.id} has no scale-out bandwidth in the catalog: the gradient all-reduce over {dp} "
                                "replicas cannot be timed; add scale_out.bandwidth with a source")
    optimizer = p.params.value / pp * OPTIMIZER_BYTES / (float(chip.mem_bw) * float(chip.memory_eff))
    parts = {"compute": acc * stage_c, "memory": acc * stage_m, "recompute": acc * stage_re, "pp_bubble": bubble, "dp_comm": dp_comm, "optimizer": optimizer}
    step = sum(parts.values())
    peak_all = float(chip.peak) * chips
    inside = chips <= float(chip.up_domain) and math.isfinite(float(chip.up_bw))
    src = eff.sources.get(f"compute_at.{precision}", eff.sources["compute"])
    return SampleTraining(
        workload=p.id, hardware=hw.id, chips=chips, dp=dp, pp=pp, accumulation=acc, micro_batch=mb, global_batch=gb,
        precision=precision, recompute=recompute, imbalance=imbalance, step_time_s=step, samples_per_s=gb / step,
        mfu=gb * train_flop / (step * peak_all), hfu=gb * (train_flop + again) / (step * peak_all),
        train_flop_per_sample=train_flop, parts=parts, efficiency=float(chip.compute_eff), efficiency_source=src,
        validated=p.compute == "matmul", link="scale-up" if inside else "scale-out", forward_s_per_sample=forward_s)


def eval_time(p: Profile, t: SampleTraining, samples: float) -> float:
    """Seconds to evaluate ``samples`` samples (forward only) on the replicas of ``t``, at its forward rate (the
    forward operators on their roofline where the profile has ``ops``)."""
    return samples * t.forward_s_per_sample


__all__ = ["Profile", "SampleTraining", "eval_time", "layout", "profile", "profiles", "sixteen_bit", "train_samples"]

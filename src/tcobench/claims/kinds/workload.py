"""Training claims about workloads known by their FLOPs per sample (MLPerf's BERT-large and ResNet-50,
``perf.samples``), and about scaling a training run to more chips (``perf.train``).

- ``mlperf-time-to-train``: a claimed time to train checked against the published MLPerf result (input
  ``published``); the model's prediction for the same run is in the trace as context, never in the verdict.
- ``workload-time-to-train``: the model's time to train a workload on a number of samples.
- ``workload-perf-per-dollar``: performance per dollar of two systems, each time from the model (the run's layout
  and samples as inputs, the baseline's prefixed ``baseline_``) and each price the system's catalog price.
- ``model-scaling-efficiency``: the training model's speed-up from ``chips_1`` to ``chips_2`` chips at one global
  batch, over the chip ratio.
"""

from __future__ import annotations

import math
from typing import Any

from tcobench.catalog import Hardware
from tcobench.checks import MAX_COUNT
from tcobench.claims.kinds.base import Derived, Kind
from tcobench.claims.kinds.training import no_link
from tcobench.claims.trace import DERIVED, Value
from tcobench.claims.work import Work
from tcobench.errors import InputError, MissingInputError

RUN = ("samples", "eval_samples", "eval_steps", "global_batch", "pp", "accumulation", "imbalance", "recompute_forward")
WHOLE = ("global_batch", "pp", "accumulation")


def _count(w: Work, name: str) -> Value:
    v = w.input(name, "1")
    if v.value != int(v.value) or v.value > MAX_COUNT:
        raise InputError(f"claim.{w.claim.id}.inputs.{name} = {v.value:g}: expected a whole number from 1 to {MAX_COUNT:,}")
    return v


def predicted_time(w: Work, hw: Hardware, chips: Value, prefix: str = "") -> Value:
    """The model's time to train the claim's workload on ``chips`` chips of ``hw``, reading the run's inputs
    (``samples``, ``eval_samples``, layout) with ``prefix``; each step recorded in the trace."""
    from tcobench.perf.samples import eval_time, profile, sixteen_bit, train_samples

    p = profile(w._need("workload", "a workload profile id: bert-large or resnet-50"))
    precision = w.claim.precision or sixteen_bit(hw)
    samples = w.input(prefix + "samples", "1", what="samples trained")
    layout = {k: _count(w, prefix + k) for k in WHOLE if w.has(prefix + k)}
    imbalance = w.input(prefix + "imbalance", "1") if w.has(prefix + "imbalance") else None
    args: dict[str, Any] = {k: int(v.value) for k, v in layout.items()}
    t = train_samples(p, hw, chips=int(chips.value), global_batch=args.get("global_batch"), pp=args.get("pp", 1),
                      accumulation=args.get("accumulation"), precision=precision,
                      recompute="full" if w.has(prefix + "recompute_forward") else "none",
                      imbalance=imbalance.value if imbalance is not None else 1.0, catalog=w.catalog)
    flop = Value(f"{p.id} training FLOP per {p.unit}", p.train_flop, "FLOP", DERIVED,
                 ref=f"perf/data/workloads.toml [workload.{p.id}] ({', '.join(sorted(p.sources))})",
                 note=f"forward {p.forward_flop.value:.4g} x {p.train_multiplier.value:g}")
    # "efficiency.<table> (<source id>)": the catalog source is the id in brackets
    src = t.efficiency_source.rsplit("(", 1)[-1].rstrip(")") if "(" in t.efficiency_source else t.efficiency_source
    eff = Value(f"{hw.id} compute efficiency", t.efficiency, "1", src, ref=t.efficiency_source.split(" (")[0],
                note=None if t.validated else "the GEMM factor: unvalidated for convolutions")
    step = w.step(f"perf.samples.train_samples({p.id}, {hw.id}, chips={t.chips}, dp={t.dp}, pp={t.pp}, accumulation="
                  f"{t.accumulation}, global_batch={t.global_batch}, {precision}, recompute={t.recompute}).step_time_s",
                  f"{hw.id} step time", t.step_time_s, "s", chips, flop, eff, w.peak(hw, precision), *layout.values())
    steps = Value(f"{hw.id} steps", float(math.ceil(samples.value / t.global_batch)), "1", "derived",
                  note=f"samples / global batch {t.global_batch}, rounded up")
    train = w.step("training time = steps x step time", f"{hw.id} training time", steps.value * step.value, "s",
                   steps, step, samples)
    if w.has(prefix + "eval_steps"):  # the implementation evaluates on its training graph: whole training steps
        n = w.input(prefix + "eval_steps", "1", what="training steps the evaluations take")
        ev = w.step("evaluation = eval steps x step time (evaluated on the training graph)", f"{hw.id} evaluation time",
                    n.value * step.value, "s", n, step)
    elif not w.has(prefix + "eval_samples"):
        return train
    else:
        evals = w.input(prefix + "eval_samples", "1")
        ev = w.step("evaluation = eval samples x forward FLOP at the training rate", f"{hw.id} evaluation time",
                    eval_time(p, t, evals.value), "s", evals)
    return w.step("time to train = training + evaluation", f"{hw.id} time to train", train.value + ev.value, "s", train, ev)


def workload_time_to_train(w: Work) -> Derived:
    """The model's time to train the workload (``workload``, ``hardware``, ``chips``, the run's inputs)."""
    return Derived(predicted_time(w, w.hardware(), w.chips()))


def mlperf_time_to_train(w: Work) -> Derived:
    """A claimed time against the published MLPerf result (``published``); the model's time beside it."""
    published = w.input("published", "s", what="the MLPerf result the claim refers to")
    if w.has("samples"):  # the model's time for the same run: context in the trace, never in the verdict
        predicted = predicted_time(w, w.hardware(), w.chips())
        w.step("model error = published / predicted - 1 (+: the model is too fast)", "model error on this run",
               published.value / predicted.value - 1.0, "1", published, predicted, context=True)
    return Derived(w.step("the MLPerf result", "published time to train", published.value, "s", published))


def workload_perf_per_dollar(w: Work) -> Derived:
    """(1 / time) / price of ``system`` over the same of ``baseline``, each time from the model: the subject runs on
    the system's chips (or ``hardware``), the baseline on its system's (or ``baseline_hardware``)."""
    subject, base = w.system(), w.baseline_system()
    hw = w.hardware()
    base_hw = w.catalog.get_hardware(w.claim.baseline_hardware or base.accelerator,
                                     where=f"claim.{w.claim.id}.baseline_hardware")
    t = predicted_time(w, hw, w.figure(subject, "chips", name=f"{subject.id} chips"))
    t_base = predicted_time(w, base_hw, w.figure(base, "chips", name=f"{base.id} chips"), "baseline_")
    p, p_base = w.figure(subject, "price", name=f"{subject.id} price"), w.figure(base, "price", name=f"{base.id} price")
    cost = w.step("price-time = price x time", f"{subject.id} price x time", p.value * t.value, "USD*s", p, t)
    cost_b = w.step("price-time = price x time", f"{base.id} price x time", p_base.value * t_base.value, "USD*s", p_base, t_base)
    ratio = w.step("perf/$ advantage = baseline price-time / subject price-time", "performance per dollar ratio (model)",
                   cost_b.value / cost.value, "1", cost_b, cost)
    return Derived(ratio)


def model_scaling_efficiency(w: Work) -> Derived:
    """The training model's (``perf.train``) speed-up from ``chips_1`` to ``chips_2`` chips of ``hardware`` for
    ``model`` at one ``global_batch`` and ``seq_len``, over the chip ratio: (step_1 x chips_1) / (step_2 x chips_2)."""
    from tcobench.perf.train import train

    model, hw = w.model(), w.hardware()
    precision = w.claim.precision or "bf16"
    n1, n2 = _count(w, "chips_1"), _count(w, "chips_2")
    gb, seq = _count(w, "global_batch"), _count(w, "seq_len")
    for n in (n1, n2):
        no_link(hw, int(n.value))
    steps = []
    for n in (n1, n2):
        t = train(model, hw, chips=int(n.value), seq_len=int(seq.value), global_batch=int(gb.value), precision=precision,
                  catalog=w.catalog)
        if not t.fits:
            raise MissingInputError(f"the training model finds no layout of {int(n.value)} x {hw.id} that fits: {t.reason}")
        shown = ", ".join(f"{k}={v}" for k, v in t.layout.items())
        steps.append(w.step(f"perf.train({model.id}, {hw.id}, chips={int(n.value)}, {shown}, global_batch={int(gb.value)}, "
                            f"seq_len={int(seq.value)}).step_time_s", f"step time on {int(n.value)} chips", t.step_time_s, "s",
                            n, gb, seq))
    speedup = w.step("speed-up = step_1 / step_2", "speed-up", steps[0].value / steps[1].value, "1", *steps)
    ratio = w.step("chip ratio = chips_2 / chips_1", "chip ratio", n2.value / n1.value, "1", n2, n1)
    eff = w.step("scaling efficiency = speed-up / chip ratio", "scaling efficiency", speedup.value / ratio.value, "1",
                 speedup, ratio)
    return Derived(eff)


def relative_speed(w: Work) -> Derived:
    """How fast a result was against the fastest of its round: fastest time / the subject's time (1: it was the
    fastest; 0.5: it took twice as long)."""
    t = w.input("time", "s", what="the subject's best time to train")
    best = w.input("fastest_time", "s", what="the fastest time to train of the round")
    return Derived(w.step("relative speed = fastest time / subject's time", "speed relative to the fastest",
                          best.value / t.value, "1", best, t))


KINDS = (
    Kind("mlperf-time-to-train", "a claimed time to train against the published MLPerf result, the model's beside it",
         mlperf_time_to_train, {"published": "s", **{k: "1" for k in RUN}}),
    Kind("workload-time-to-train", "the model's time to train a FLOPs-per-sample workload (BERT-large, ResNet-50)",
         workload_time_to_train, {k: "1" for k in RUN}),
    Kind("workload-perf-per-dollar", "performance per dollar of two systems, each time from the FLOPs-per-sample model",
         workload_perf_per_dollar, {**{k: "1" for k in RUN}, **{"baseline_" + k: "1" for k in RUN}}),
    Kind("model-scaling-efficiency", "the training model's speed-up over chip ratio between two chip counts",
         model_scaling_efficiency, {"chips_1": "1", "chips_2": "1", "global_batch": "1", "seq_len": "1"}),
    Kind("relative-speed", "a result's speed against the fastest result of the same benchmark round", relative_speed,
         {"time": "s", "fastest_time": "s"}),
)

"""``tcobench.train_workload`` (``tcobench train --workload``): the time, dollars and energy to train a workload known
by its FLOPs per sample (BERT-large, ResNet-50: ``perf/samples.py``) on a number of samples, through the one pricing
path (``cost.price_hardware``), as ``tcobench.train`` does for transformers on a token budget.

    time to train  = steps x step time (+ evaluation: eval_samples forward passes at the same rate)
    $ to train     = USD per chip-second (own or rent, low / likely / high) x chips x time to train
    energy         = chips x rated watts x utilisation x time to train (IT energy, no PUE)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from tcobench import checks
from tcobench.api.inputs import HardwareRef, catalog_or_default, hardware_of, number, one_of, own_parameters, usd, whole
from tcobench.catalog import Catalog
from tcobench.cost import Span, price_hardware
from tcobench.cost.tokens import J_PER_KWH
from tcobench.errors import InputError
from tcobench.perf.samples import Profile, SampleTraining, eval_time, profile, sixteen_bit, train_samples
from tcobench.records import Tabular

MAX_SAMPLES = 1e15  # past this a sample budget is a typo (ImageNet x 1e9 epochs)


@dataclass(frozen=True)
class WorkloadTrainingResult(Tabular):
    """The step (``training``) and what the run costs: ``samples`` in ``steps`` steps, ``time_to_train_s`` (evaluation
    included when asked), dollars per basis and energy, each (low, likely, high) or None where unpriced."""

    profile: Profile
    training: SampleTraining
    samples: float
    steps: int
    eval_samples: float
    eval_s: float
    time_to_train_s: float
    usd_to_train: dict[str, tuple[float, float, float] | None]
    usd_notes: dict[str, str]
    energy_kwh: tuple[float, float, float] | None
    samples_per_kwh: tuple[float, float, float] | None

    def to_rows(self) -> list[dict[str, Any]]:
        return [self.to_dict()]

    def to_dict(self) -> dict[str, Any]:
        doc = self.training.to_dict()
        p = self.profile
        doc.update({"unit": p.unit, "forward_flop_per_sample": p.forward_flop.value,
                    "flop_sources": sorted(p.sources), "samples": self.samples, "steps": self.steps,
                    "eval_samples": self.eval_samples, "eval_s": self.eval_s, "time_to_train_s": self.time_to_train_s,
                    "usd_to_train": {k: None if v is None else list(v) for k, v in self.usd_to_train.items()},
                    "usd_notes": self.usd_notes, "energy_kwh": None if self.energy_kwh is None else list(self.energy_kwh),
                    "samples_per_kwh": None if self.samples_per_kwh is None else list(self.samples_per_kwh),
                    "memory": {"fits": None, "note": "not modelled for FLOPs-per-sample workloads"}})
        return doc


def _samples(value: float | str, name: str, low: float) -> float:
    if isinstance(value, str):
        n = checks.parse_number(value.replace("_", ""), "{" + name + "}", low=0.0)
    else:
        n = float(number(value, name, low=0.0) or 0.0)
    if n > MAX_SAMPLES or n < low:
        raise InputError(f"{{{name}}} {n:g}: expected a number of samples from {low:g} to {MAX_SAMPLES:g}, e.g. 3e6",
                         params=(name,))
    return n


def train_workload(workload: str, hardware: HardwareRef, *, chips: int, samples: float | str,
                   global_batch: int | None = None, pp: int = 1, accumulation: int | None = None,
                   precision: str | None = None, recompute: Literal["none", "full"] = "none", eval_samples: float | str = 0,
                   imbalance: float = 1.0, basis: Literal["own", "rent", "both"] = "both", price_hour: float | str | None = None,
                   price_chip: float | str | None = None, catalog: Catalog | None = None,
                   **cost: Any) -> WorkloadTrainingResult:
    """Train ``workload`` (a profile id: ``bert-large``, ``resnet-50``) on ``samples`` samples with ``chips`` chips of
    ``hardware``: data-parallel replicas of ``pp`` chips, ``global_batch`` samples per step (default: the profile's
    reference batch) in ``accumulation`` micro-batches per replica. ``precision`` defaults to bf16, or fp16 on a chip
    without bf16. ``eval_samples``: forward-only samples evaluated during the run (MLPerf's evaluations), counted in
    the time. ``cost``: cost-basis overrides, as ``compare``."""
    cat = catalog_or_default(catalog)
    p = profile(workload)
    hw = hardware_of(cat, hardware)
    whole(chips, "chips", 1)
    whole(pp, "pp", 1)
    if global_batch is not None:
        whole(global_batch, "global_batch", 1)
    if accumulation is not None:
        whole(accumulation, "accumulation", 1)
    n = _samples(samples, "samples", 1.0)
    n_eval = _samples(eval_samples, "eval_samples", 0.0)
    one_of(recompute, ["none", "full"], "recompute")
    one_of(basis, ["own", "rent", "both"], "basis")
    if precision is None:
        precision = sixteen_bit(hw)
    precision = one_of(precision.lower(), ["bf16", "fp16", "fp8"], "precision")
    params = own_parameters(cat, **cost)
    price = price_hardware(hw, cat, params, basis, price_hour=usd(price_hour, "USD/h", "price_hour"),
                           price_chip=usd(price_chip, "USD", "price_chip"))
    t = train_samples(p, hw, chips=chips, global_batch=global_batch, pp=pp, accumulation=accumulation, precision=precision,
                      recompute=recompute, imbalance=imbalance, catalog=cat)
    steps = max(int(math.ceil(n / t.global_batch)), 1)
    ev = eval_time(p, t, n_eval)
    seconds = steps * t.step_time_s + ev
    usd_to: dict[str, tuple[float, float, float] | None] = {}
    notes: dict[str, str] = {}
    for b in (("own", "rent") if basis == "both" else (basis,)):
        span, note = price.span(b)
        usd_to[b] = None if span is None else span.scale(chips * seconds).as_tuple()
        notes[b] = note
    energy = per_kwh = None
    if price.watts is not None:
        w, u = price.watts, params.utilisation
        joules = Span(w.low * u.low, w.likely * u.likely, w.high * u.high).scale(chips * seconds)
        energy = joules.scale(1.0 / J_PER_KWH).as_tuple()
        per_kwh = (n / energy[2], n / energy[1], n / energy[0])
    return WorkloadTrainingResult(p, t, n, steps, n_eval, ev, seconds, usd_to, notes, energy, per_kwh)


__all__ = ["WorkloadTrainingResult", "train_workload"]

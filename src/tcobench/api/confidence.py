"""How far to trust a prediction: the model's error on published results of the deployment's group.

A group is the hardware's vendor x dense or MoE (perf/validate.py ``trust``); the validation set runs once per
catalog and process (about a second; the Server rows are left out), so a loop of calls pays for it once.
"""

from __future__ import annotations

from tcobench.api.inputs import HardwareRef, Ref, catalog_or_default, hardware_of, model_of
from tcobench.catalog import Catalog
from tcobench.perf.validate import Outcome, Trust, run, trust

_RUNS: dict[int, tuple[Catalog, list[Outcome]]] = {}


def validation_outcomes(cat: Catalog) -> list[Outcome]:
    """``perf.validate.run(cat)`` without the MLPerf Server rows, once per catalog object: a prediction's trust is
    its group's error on throughput, prefill and decode, and every ``predict`` would otherwise pay for the Server
    rows' rate bisection."""
    hit = _RUNS.get(id(cat))
    if hit is None or hit[0] is not cat:
        hit = _RUNS[id(cat)] = (cat, run(cat, server=False))
    return hit[1]


def trust_for(hardware: HardwareRef, model: Ref, *, catalog: Catalog | None = None) -> Trust:
    """``tcobench.trust``: the model's signed error (predicted / published - 1) per phase on the published
    results of ``hardware``'s vendor with dense or MoE models like ``model``; ``validated`` is False when no
    phase has ``Trust.min_rows`` rows."""
    cat = catalog_or_default(catalog)
    hw, m = hardware_of(cat, hardware), model_of(cat, model)
    return trust(validation_outcomes(cat), hw.vendor, m.moe is not None)


def with_model_error(span: tuple[float, float, float] | None, t: Trust, phase: str = "inflight throughput", *,
                     per_token: bool = False) -> tuple[float, float] | None:
    """A range (low, likely, high) widened by the group's 10th-90th percentile error on ``phase``, never narrowed;
    None when the phase is unvalidated. A throughput predicted (1 + e) x the published one means a real cost per
    token (1 + e) x the predicted (the low end takes 1 + p10, the high end 1 + p90); ``per_token`` for a figure
    per unit of cost or energy instead (tokens/kWh, tokens/$), which is the predicted / (1 + e)."""
    r = t.phase(phase)
    if span is None or r is None:
        return None
    low, _, high = span
    lo, hi = 1.0 + float(r["p10_error"]), 1.0 + float(r["p90_error"])
    if per_token:
        return low / max(1.0, hi), high / min(1.0, lo)
    return low * min(1.0, lo), high * max(1.0, hi)

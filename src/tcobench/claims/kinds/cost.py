"""Money: cost per token from throughput and $/hour, rebased cost ratios, performance per dollar.

$/token = ($/hour) / (tokens/s x 3600 s/h), the definition in docs/metrics.md, "$/1M tokens"; a claim in
$/1k or $/1M tokens is converted by its unit ("USD/ktoken", "USD/Mtoken").
"""

from __future__ import annotations

from tcobench.claims.kinds.base import Derived, Kind
from tcobench.claims.trace import Value
from tcobench.claims.verdict import Alternative, Verdict
from tcobench.claims.work import Work
from tcobench.catalog import Hardware, System
from tcobench.records import Figure

SECONDS_PER_HOUR = Value("seconds per hour", 3600.0, "s/h", "definition")


def cost_per_tokens(w: Work) -> Derived:
    tps = w.input("throughput", "token/s", what="generated tokens per second of the serving unit")
    rate = w.input("price_per_hour", "USD/s", what="$/hour of the serving unit")
    per_hour = w.step("tokens/hour = tokens/s x 3600", "tokens per hour", tps.value * 3600, "token/h", tps, SECONDS_PER_HOUR)
    cost = w.step("$/token = ($/hour) / (tokens/hour)", "cost per token", rate.value / tps.value, "USD/token", rate, per_hour)
    if w.claim.hardware is not None:  # what the catalog's rental rates would give, for context
        hw = w.hardware()
        for i, c in enumerate(hw.cloud):
            r = Value(f"{c.provider} rate", c.rate.value, "USD/s", c.source, ref=f"{hw.id}.cloud[{i}]", note=f"date {c.date}")
            w.step("$/token at a catalog rate = rate / (tokens/hour)", "cost per token at catalog rate",
                   r.value / tps.value, "USD/token", r, per_hour, context=True)
    alts = (Alternative("per 1k vs per 1M tokens confused (1000x)", cost.value * 1000, Verdict.UNIT_MISMATCH),
            Alternative("per 1M vs per 1k tokens confused (1/1000x)", cost.value / 1000, Verdict.UNIT_MISMATCH))
    return Derived(cost, alternatives=alts)


def rebased_ratio(w: Work) -> Derived:
    """A claimed advantage A = baseline / subject, recomputed with a corrected baseline."""
    claimed = w.claimed("1")
    base = w.input("baseline", "USD/token", what="the baseline cost the claim used")
    corrected = w.input("corrected_baseline", "USD/token", what="the baseline cost re-derived")
    subject = w.step("subject cost = claimed baseline / claimed advantage", "implied subject cost",
                     base.value / claimed.value, "USD/token", base, claimed)
    ratio = w.step("advantage = corrected baseline / subject cost", "rebased advantage",
                   corrected.value / subject.value, "1", corrected, subject)
    return Derived(ratio)


def _system_price(w: Work, system: System) -> Value:
    return w.figure(system, "price", name=f"{system.id} price")


def _purchase_price(w: Work, hw: Hardware) -> Value:
    return w.figure(hw, "price.purchase", name=f"{hw.id} purchase price")


def _range_context(w: Work, system: System, scale: float, value: Value) -> None:
    """For a system price with a low/high range, show the result at each end (context, not in the verdict).

    ``scale`` is the exponent of the price in the result: +1 for the baseline's, -1 for the subject's.
    """
    fig: Figure | None = system.price
    label = f"{system.id} price"
    if fig is None:
        return
    for end, other in (("low", fig.low), ("high", fig.high)):
        if other is not None and other != fig.value:
            alt = Value(f"{label} ({end})", other, "USD", fig.source, ref=f"{system.id}.price")
            w.step(f"result with the {end} end of the {label} range", f"result ({end} {label})",
                   value.value * (other / fig.value) ** scale, value.unit, alt, value, context=True)


def perf_per_dollar(w: Work) -> Derived:
    """Training performance per dollar of system price: (1 / time) / price, as a ratio subject : baseline."""
    subject, base = w.system(), w.baseline_system()
    t, t_base = w.input("time", "s", what="subject's time to train"), w.input("baseline_time", "s", what="baseline's time")
    p, p_base = _system_price(w, subject), _system_price(w, base)
    cost = w.step("price-time = price x time", f"{subject.id} price x time", p.value * t.value, "USD*s", p, t)
    cost_b = w.step("price-time = price x time", f"{base.id} price x time", p_base.value * t_base.value, "USD*s", p_base, t_base)
    ratio = w.step("perf/$ advantage = baseline price-time / subject price-time", "performance per dollar ratio",
                   cost_b.value / cost.value, "1", cost_b, cost)
    _range_context(w, base, 1.0, ratio)
    _range_context(w, subject, -1.0, ratio)
    return Derived(ratio)


def spec_per_dollar(w: Work) -> Derived:
    """A catalog figure (``metric``, e.g. peak_dense.bf16) per purchase dollar, as a ratio subject : baseline."""
    hw, base = w.hardware(), w.baseline_hardware()
    metric = w.claim.metric or "peak_dense.bf16"
    unit = ""
    per = []
    for rec in (hw, base):
        m = w.figure(rec, metric, name=f"{rec.id} {metric}")
        p = _purchase_price(w, rec)
        unit = f"{m.unit}/USD"
        per.append(w.step(f"{metric} per $ = {metric} / price", f"{rec.id} {metric} per $", m.value / p.value, unit, m, p))
    ratio = w.step("advantage = subject per $ / baseline per $", f"{metric} per dollar ratio", per[0].value / per[1].value,
                   "1", per[0], per[1])
    caps = [w.figure(rec, "memory.capacity", name=f"{rec.id} memory capacity") for rec in (hw, base)]
    w.step("capacity ratio = subject capacity / baseline capacity (a model larger than the subject's memory "
           "needs more chips, whatever the price)", "memory capacity ratio", caps[0].value / caps[1].value, "1", *caps,
           context=True)
    alts = []
    sparse = hw.figures().get(metric.replace("peak_dense.", "peak_sparse.")) if metric.startswith("peak_dense.") else None
    if sparse is not None:  # a 2:4-sparse peak for the subject against a dense one for the baseline
        dense = hw.figures()[metric].value
        alts.append(Alternative(f"the subject's sparse peak used ({sparse.text})", ratio.value * sparse.value / dense,
                                Verdict.PRECISION_MISMATCH))
    return Derived(ratio, alternatives=tuple(alts))


KINDS = (
    Kind("cost-per-tokens", "$ per token from throughput and $/hour", cost_per_tokens,
         {"throughput": "token/s", "price_per_hour": "USD/s"}),
    Kind("rebased-ratio", "a claimed cost advantage recomputed with a corrected baseline", rebased_ratio,
         {"baseline": "USD/token", "corrected_baseline": "USD/token"}),
    Kind("perf-per-dollar", "training performance per dollar of two systems, from time-to-train and prices",
         perf_per_dollar, {"time": "s", "baseline_time": "s"}),
    Kind("spec-per-dollar", "a catalog figure per purchase dollar of two chips", spec_per_dollar, {}),
)

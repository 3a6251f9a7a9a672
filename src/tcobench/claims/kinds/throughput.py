"""Tokens per second from achieved FLOP/s or a timed run; utilisation; the compute bound on throughput.

Decoding one token through a dense transformer costs 2 FLOP per parameter (one multiply and one add
per weight; Kaplan et al. 2020, "Scaling Laws for Neural Language Models", section 2.1). Attention
over the context adds to that, so FLOP/token = 2 x params is a lower bound on work, and throughput
derived from it is an upper estimate.
"""

from __future__ import annotations

from tcobench.claims.kinds.base import Derived, Kind
from tcobench.claims.trace import Value
from tcobench.claims.verdict import Alternative, Verdict
from tcobench.claims.work import Work
from tcobench.catalog.params import count_params

FLOP_PER_PARAM = 2.0  # multiply + add per weight per token (Kaplan et al. 2020, section 2.1)
KAPLAN = "kaplan-2020-scaling-laws"  # defined in claims/data/sources.toml


def flop_per_token(w: Work) -> Value:
    model = w.model()
    count = count_params(model)
    params = Value("parameters", float(count.active), "1", model.source,
                   ref=f"{model.id} architecture (count_params; active parameters)")
    two = Value("FLOP per parameter", FLOP_PER_PARAM, "FLOP", KAPLAN, note="one multiply and one add per weight")
    return w.step("FLOP/token = 2 x parameters (inference)", "FLOP per token", FLOP_PER_PARAM * params.value, "FLOP/token", params, two)


def throughput_from_flops(w: Work) -> Derived:
    achieved = w.input("achieved", "FLOP/s", what="achieved compute per chip")
    fpt = flop_per_token(w)
    tps = w.step("tokens/s = achieved / (FLOP/token)", "tokens per second", achieved.value / fpt.value, "token/s", achieved, fpt)
    mac = Alternative("one multiply-accumulate counted as one FLOP (2x)", tps.value * 2, Verdict.UNIT_MISMATCH)
    return Derived(tps, alternatives=(mac,))


def throughput_from_run(w: Work) -> Derived:
    per_seq = w.input("tokens_per_sequence", "token")
    seqs = w.input("sequences", "1")
    time = w.input("time", "s")
    chips = w.chips()
    total = w.step("tokens = tokens per sequence x sequences", "tokens", per_seq.value * seqs.value, "token", per_seq, seqs)
    rate = w.step("tokens/s = tokens / time", "tokens per second", total.value / time.value, "token/s", total, time)
    per_chip = w.step("tokens/s per chip = tokens/s / chips", "tokens per second per chip", rate.value / chips.value,
                      "token/s", rate, chips)
    whole = Alternative(f"the whole system's rate, not per chip ({chips.value:g} chips)", rate.value, Verdict.UNIT_MISMATCH)
    return Derived(per_chip, alternatives=(whole,))


def utilization(w: Work) -> Derived:
    """Utilisation of the dense peak that a throughput needs. Inference (the default): 2 FLOP per parameter per
    token; ``workload = "training"``: 6 (forward and backward), the trace names which it used."""
    hw = w.hardware()
    precision = w.claim.precision or "bf16"
    training = (w.claim.workload or "").lower() == "training"
    tps = w.input("throughput", "token/s", what="training tokens per second" if training else "generated tokens per second")
    chips = w.chips(one_by_default=True)
    if training:
        from tcobench.claims.kinds.training import train_flop_per_token

        fpt = train_flop_per_token(w)
    else:
        fpt = flop_per_token(w)
    achieved = w.step("achieved FLOP/s = tokens/s x FLOP/token", "achieved compute", tps.value * fpt.value, "FLOP/s", tps, fpt)
    peak = w.peak(hw, precision)
    total = w.step("peak = per-chip peak x chips", "peak compute", peak.value * chips.value, "FLOP/s", peak, chips)
    util = w.step("utilisation = achieved / peak", "utilisation", achieved.value / total.value, "1", achieved, total)
    alts = []
    sparse = hw.peak_sparse.get(precision)
    if sparse is not None:
        alts.append(Alternative(f"against the sparse {precision} peak", achieved.value / (sparse.value * chips.value),
                                Verdict.PRECISION_MISMATCH))
    return Derived(util, alternatives=tuple(alts))


def throughput_bound(w: Work) -> Derived:
    """An upper bound: every chip at its dense peak, 2 FLOP/parameter/token, prefill FLOPs ignored."""
    system = w.system() if w.claim.system else None
    hw = w.hardware()
    precision = w.claim.precision or "bf16"
    chips = w.chips(default_from=system)
    fpt = flop_per_token(w)
    peak = w.peak(hw, precision)
    total = w.step("peak = per-chip peak x chips", "peak compute", peak.value * chips.value, "FLOP/s", peak, chips)
    bound = w.step("max tokens/s = peak / (FLOP/token)", "compute-bound tokens per second", total.value / fpt.value,
                   "token/s", total, fpt)
    claimed = w.claimed("token/s")
    w.step("implied utilisation = claimed / max tokens/s", "implied utilisation", claimed.value / bound.value, "1",
           claimed, bound, context=True)
    return Derived(bound, bound="upper")


KINDS = (
    Kind("throughput-from-flops", "tokens/s from achieved FLOP/s and the model's FLOP per token",
         throughput_from_flops, {"achieved": "FLOP/s"}),
    Kind("throughput-from-run", "tokens/s per chip from tokens processed, time and chips", throughput_from_run,
         {"tokens_per_sequence": "token", "sequences": "1", "time": "s"}),
    Kind("utilization", "fraction of the dense peak that a throughput needs", utilization, {"throughput": "token/s"}),
    Kind("throughput-bound", "the most tokens/s the chips' dense peak allows (upper bound)", throughput_bound, {}),
)

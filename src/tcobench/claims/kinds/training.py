"""Training claims: utilisation of a training run (MFU), scaling efficiency between two runs, and the time (or
chip-hours) to train predicted by the training model (``tcobench.perf.train``).

Training a dense transformer costs 6 FLOP per parameter per token: 2 in the forward pass and 4 in the backward
(Kaplan et al. 2020, section 2.1, C = 6N per token); attention adds to that, so an MFU derived from 6N is a lower
bound on the work and PaLM's count (6N + 12 L H Q T, arXiv 2204.02311 appendix B) is shown beside it.
"""

from __future__ import annotations

from typing import Any

from tcobench.catalog import Hardware
from tcobench.catalog.params import count_params
from tcobench.checks import MAX_COUNT
from tcobench.claims.kinds.base import Derived, Kind
from tcobench.claims.trace import Value
from tcobench.claims.verdict import Alternative, Verdict
from tcobench.claims.work import Work
from tcobench.errors import InputError, MissingInputError

TRAIN_FLOP_PER_PARAM = 6.0  # forward 2 + backward 4 per weight per token (Kaplan et al. 2020, section 2.1)
KAPLAN = "kaplan-2020-scaling-laws"
PALM = "palm-paper"


def train_flop_per_token(w: Work) -> Value:
    model = w.model()
    count = count_params(model)
    params = Value("parameters", float(count.active), "1", model.source,
                   ref=f"{model.id} architecture (count_params; active parameters)")
    six = Value("FLOP per parameter (training)", TRAIN_FLOP_PER_PARAM, "FLOP", KAPLAN,
                note="training: 2 forward + 4 backward per weight per token")
    return w.step("FLOP/token = 6 x parameters (training)", "FLOP per token", TRAIN_FLOP_PER_PARAM * params.value, "FLOP/token",
                  params, six)


def training_mfu(w: Work) -> Derived:
    """MFU of a training run from its throughput: tokens/s x 6N / (chips x dense peak)."""
    hw = w.hardware()
    precision = w.claim.precision or "bf16"
    tps = w.input("throughput", "token/s", what="training tokens per second of the whole job")
    chips = w.chips()
    fpt = train_flop_per_token(w)
    achieved = w.step("model FLOP/s = tokens/s x FLOP/token", "model compute", tps.value * fpt.value, "FLOP/s", tps, fpt)
    peak = w.peak(hw, precision)
    total = w.step("peak = per-chip peak x chips", "peak compute", peak.value * chips.value, "FLOP/s", peak, chips)
    mfu = w.step("MFU = model FLOP/s / peak", "model FLOP utilisation", achieved.value / total.value, "1", achieved, total)
    m = w.model()
    seq = w.input("seq_len", "token") if w.has("seq_len") else None
    alts = []
    if seq is not None:  # PaLM's count adds attention: 6N + 12 L H Q T (H heads x Q head size = the attention width)
        attn = 12.0 * m.layers * m.heads * m.head_size * seq.value
        alts.append(Alternative(f"with attention FLOPs (PaLM's 6N + 12 L H Q T at {seq.value:g} tokens)",
                                tps.value * (fpt.value + attn) / total.value, Verdict.CONSISTENT))
    two = Alternative("at 2 FLOP per parameter (an inference count)", mfu.value / 3.0, Verdict.UNIT_MISMATCH)
    return Derived(mfu, alternatives=(*alts, two))


def scaling_efficiency(w: Work) -> Derived:
    """Efficiency of going from run 1 to run 2 of the same work: (time_1 x chips_1) / (time_2 x chips_2)."""
    t1, n1 = w.input("time_1", "s", what="the smaller run's time"), w.input("chips_1", "1")
    t2, n2 = w.input("time_2", "s", what="the larger run's time"), w.input("chips_2", "1")
    speedup = w.step("speed-up = time_1 / time_2", "speed-up", t1.value / t2.value, "1", t1, t2)
    ratio = w.step("chip ratio = chips_2 / chips_1", "chip ratio", n2.value / n1.value, "1", n2, n1)
    eff = w.step("scaling efficiency = speed-up / chip ratio", "scaling efficiency", speedup.value / ratio.value, "1",
                 speedup, ratio)
    return Derived(eff, alternatives=(Alternative("the speed-up itself, not per chip", speedup.value, Verdict.UNIT_MISMATCH),))


LAYOUT = ("tp", "pp", "cp", "vpp", "zero", "micro_batch", "global_batch", "seq_len")


def no_link(hw: Hardware, chips: int) -> None:
    """MissingInputError when ``chips`` chips span more than one scale-up domain of ``hw`` and the catalog has no
    scale-out bandwidth for it: the training model cannot time the collectives between domains (an unverifiable
    claim, not a malformed one)."""
    domain = hw.scale_up.domain.value if hw.scale_up.domain is not None else 1.0
    if chips > domain and hw.scale_out.bandwidth is None:
        raise MissingInputError(f"{hw.id} has no scale-out bandwidth in the catalog: the training model cannot time "
                                f"{chips} chips beyond its scale-up domain of {domain:g}")


def time_to_train(w: Work) -> Derived:
    """The training model's time to train ``tokens`` tokens (or chip-hours, with ``metric = "chip_hours"``)."""
    try:
        from tcobench.perf.train import train
    except ImportError as err:
        raise MissingInputError(f"performance model not available ({err})") from err
    model, hw = w.model(), w.hardware()
    precision = w.claim.precision or "bf16"
    chips = w.chips()
    tokens = w.input("tokens", "token", what="tokens trained")
    layout = {k: w.input(k, "1") for k in LAYOUT if w.has(k)}
    for k, v in layout.items():
        if v.value != int(v.value) or v.value > MAX_COUNT:
            raise InputError(f"claim.{w.claim.id}.inputs.{k} = {v.value:g}: expected a whole number from 1 to {MAX_COUNT:,}")
    args: dict[str, Any] = {k: int(v.value) for k, v in layout.items()}
    seq, gb = args.pop("seq_len", None), args.pop("global_batch", None)
    no_link(hw, int(chips.value))
    t = train(model, hw, chips=int(chips.value), seq_len=seq, global_batch=gb, precision=precision, fixed=args,
              catalog=w.catalog)
    if not t.fits:
        raise MissingInputError(f"the training model finds no layout of {int(chips.value)} chips that fits: {t.reason}")
    shown = ", ".join(f"{k}={v}" for k, v in t.layout.items())
    step = w.step(f"perf.train({model.id}, {hw.id}, chips={int(chips.value)}, {shown}, seq_len={t.seq_len}, "
                  f"global_batch={t.global_batch}, precision={precision}).step_time_s", "step time", t.step_time_s, "s",
                  chips, *layout.values(), w.peak(hw, precision))
    per_step = Value("tokens per step", float(t.global_batch * t.seq_len), "token", "derived",
                     note="global batch x sequence length")
    time = w.step("time = tokens / (tokens per step) x step time", "time to train",
                  tokens.value / per_step.value * step.value, "s", tokens, per_step, step)
    if (w.claim.metric or "time") == "chip_hours":
        hours = w.step("chip-hours = time x chips / 3600", "chip-hours", time.value * chips.value / 3600.0, "h", time, chips)
        return Derived(hours)
    return Derived(time)


KINDS = (
    Kind("training-mfu", "model FLOP utilisation of a training run: tokens/s x 6N / peak", training_mfu,
         {"throughput": "token/s", "seq_len": "token"}),
    Kind("scaling-efficiency", "speed-up over chip ratio between two runs of the same work", scaling_efficiency,
         {"time_1": "s", "chips_1": "1", "time_2": "s", "chips_2": "1"}),
    Kind("time-to-train", "the training model's time (or chip-hours) to train on a token budget", time_to_train,
         {"tokens": "token", **{k: "1" for k in LAYOUT}}),
)

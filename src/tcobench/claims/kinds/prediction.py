"""A full prediction of the performance model (``tcobench.perf.predict``) against a claimed number.

The performance model is imported when a claim needs it, so the audit works (and says so) while
that model is missing or broken.
"""

from __future__ import annotations

from typing import Any

from tcobench.claims.kinds.base import Derived, Kind
from tcobench.claims.work import Work
from tcobench.checks import MAX_COUNT
from tcobench.errors import InputError, MissingInputError

# metric -> (Prediction attribute, unit); tokens/s/user is 1 / TPOT (docs/metrics.md, "Interactivity")
METRICS = {
    "output_tokens_per_s": ("output_tokens_per_s", "token/s"),
    "output_tokens_per_s_per_chip": ("output_tokens_per_s_per_chip", "token/s"),
    "tokens_per_s_per_user": ("tpot_s", "token/s"),
    "ttft_s": ("ttft_s", "s"),
    "tpot_s": ("tpot_s", "s"),
}
LAYOUT = ("tp", "pp", "ep", "batch", "input_len", "output_len")
UNAVAILABLE = "performance model not available"


def prediction(w: Work) -> Derived:
    metric = w.claim.metric or "output_tokens_per_s"
    if metric not in METRICS:
        from tcobench.errors import close_matches

        hint = close_matches(metric, METRICS)
        raise InputError(f"claim.{w.claim.id}.metric = {metric!r} is not a prediction metric; expected one of "
                         f"{', '.join(METRICS)}" + (f"; did you mean {hint[0]!r}?" if hint else ""))
    try:
        from tcobench.perf import predict
    except ImportError as err:
        raise MissingInputError(f"{UNAVAILABLE} ({err})") from err
    model, hw = w.model(), w.hardware()
    precision = w.claim.precision or "bf16"
    chips = w.chips(one_by_default=True)
    layout = {k: w.input(k, "1") for k in LAYOUT if w.has(k)}
    for k, v in layout.items():
        if v.value != int(v.value) or v.value > MAX_COUNT:
            raise InputError(f"claim.{w.claim.id}.inputs.{k} = {v.value:g}: expected a whole number from 1 to "
                             f"{MAX_COUNT:,}")
    args: dict[str, Any] = {k: int(v.value) for k, v in layout.items()}
    runtime = w.claim.runtime
    stack = w.catalog.get_runtime(runtime, where=f"claim.{w.claim.id}.runtime") if runtime else None
    p = predict(model, hw, chips=int(chips.value), precision=precision, catalog=w.catalog, runtime=stack, **args)
    attr, unit = METRICS[metric]
    raw = float(getattr(p, attr))
    value = 1.0 / raw if metric == "tokens_per_s_per_user" else raw
    used = [w.peak(hw, precision)] + ([w.figure(hw, "memory.bandwidth")] if "memory.bandwidth" in hw.figures() else [])
    shown = ", ".join(f"{k}={int(v.value)}" for k, v in layout.items())
    on = f", runtime={runtime}" if runtime else ""
    formula = f"perf.predict({model.id}, {hw.id}, chips={int(chips.value)}, {shown}, precision={precision}{on}).{attr}"
    if metric == "tokens_per_s_per_user":
        formula = f"1 / {formula}"
    if not p.fits:
        given = "" if layout.keys() & {"tp", "pp", "ep"} else "; the claim gives no parallel layout (tp, pp, ep)"
        raise MissingInputError(f"the performance model finds this deployment infeasible: {p.reason} "
                                f"(tp={p.tp} pp={p.pp} ep={p.ep} on {p.chips} chips{given})")
    result = w.step(formula, metric, value, unit, chips, *layout.values(), *used)
    return Derived(result)


KINDS = (
    Kind("prediction", "the performance model's prediction for the claimed deployment", prediction,
         {k: "1" for k in LAYOUT}),
)

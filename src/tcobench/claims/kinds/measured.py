"""A claim judged against a measurement tcobench saved (``kind = "measured"``), with the prediction beside it.

The derived value is what a ``bench`` or ``measure`` run measured (``claims/measured.py`` reads it), so the
verdict says whether the claim holds on the user's own endpoint or device. The performance model's prediction for
the same load is put beside it as context (it never feeds the verdict): from the claim's ``model`` and ``hardware``
(a catalog id or a profile file, such as one ``tcobench calibrate`` wrote) when the claim names a hardware, else the
prediction the run saved when it was measured. The claim's three numbers, claimed, predicted and measured, then
stand on one row.
"""

from __future__ import annotations

from tcobench.catalog import Model
from tcobench.claims.kinds.base import Derived, Kind
from tcobench.claims.measured import NAMES, PER_USER, PREDICTED, Load, Measurement, predict_load
from tcobench.claims.trace import Value
from tcobench.claims.work import Work
from tcobench.errors import InputError, MissingInputError, TcobenchError



def measured(w: Work) -> Derived:
    ref = w.claim.measured
    if ref is None:
        raise MissingInputError(f"claim {w.claim.id!r} cites no saved run: add measured = {{ run = <id>, metric = "
                                "\"tpot_s\" }} (the id `tcobench runs list` shows)")
    m = w.measurement(ref)
    value = _as_metric(w, m, m.raw, "measured")
    predicted = _predicted(w, m)
    if predicted is not None:
        w.step("measured / predicted", "measured / predicted", value.value / predicted.value, "1", value, predicted,
               context=True)
    return Derived(value, predicted=predicted)


def _as_metric(w: Work, m: Measurement, raw: Value, what: str, *, context: bool = False) -> Value:
    """``raw`` (what the run holds) as the claim's metric, in a step of its own."""
    if m.metric == PER_USER and raw.unit == "s":
        return w.step("tokens/s per user = 1 / TPOT", f"{what} tokens per second per user", 1.0 / raw.value,
                      "token/s", raw, context=context)
    if m.metric == "output_tokens_per_s" and raw.unit == "s":  # a measure run's decode step of `batch` sequences
        assert m.load is not None  # a measure shape always has its batch
        batch = Value("batch", float(m.load.batch), "1", m.raw.source, ref=m.where)
        return w.step("output tokens/s = batch / TPOT", f"{what} output tokens per second", batch.value / raw.value,
                      "token/s", batch, raw, context=context)
    if context:  # a prediction in the metric's own terms: no step of arithmetic to show
        return raw
    return w.step(f"{NAMES[m.metric]} as measured", f"measured {NAMES[m.metric]}", raw.value, raw.unit, raw)


def _predicted(w: Work, m: Measurement) -> Value | None:
    """The prediction for the measured load: re-predicted on the claim's hardware, else the one the run saved."""
    if m.holds not in PREDICTED:
        return None
    if w.claim.hardware is not None and m.load is not None:
        raw = _repredict(w, m, m.load)
        return None if raw is None else _as_metric(w, m, raw, "predicted", context=True)
    if m.saved is not None:
        return _as_metric(w, m, m.saved, "predicted", context=True)
    return None


def _repredict(w: Work, m: Measurement, load: Load) -> Value | None:
    where = f"claim.{w.claim.id}"
    hw = w.catalog.hardware_ref(str(w.claim.hardware), where=f"{where}.hardware")
    model = _model(w, m)
    precision = w.claim.precision or load.precision or "bf16"
    chips = int(w.chips(one_by_default=True).value)
    runtime = w.catalog.get_runtime(w.claim.runtime, where=f"{where}.runtime") if w.claim.runtime else None
    try:
        value = predict_load(model, hw, load, m.holds, precision=precision, catalog=w.catalog, chips=chips,
                             runtime=runtime)
    except TcobenchError as err:
        raise InputError(f"{where}: the prediction for {m.where} cannot be made: {err}") from err
    if value is None:
        return None
    attr = m.holds
    on = f", runtime={w.claim.runtime}" if w.claim.runtime else ""
    formula = (f"perf.predict({model.id}, {hw.id}, chips={chips}, batch={load.batch}, input_len={load.input_len}, "
               f"output_len={load.output_len}, precision={precision}{on}).{attr}")
    used = [w.peak(hw, precision)] if precision in hw.peak_dense else []
    if hw.memory.bandwidth is not None:
        used.append(w.figure(hw, "memory.bandwidth"))
    unit = "token/s" if attr == "output_tokens_per_s" else "s"
    return w.step(formula, f"predicted {attr}", value, unit, *used, context=True)


def _model(w: Work, m: Measurement) -> Model:
    if w.claim.model is not None:
        return w.catalog.model(w.claim.model, where=f"claim.{w.claim.id}.model")
    if m.model_spec is not None:
        return Model.model_validate(m.model_spec)
    raise MissingInputError(f"claim {w.claim.id!r} names a hardware but no 'model' to predict {m.where} with")


KINDS = (
    Kind("measured", "the value measured in a saved bench or measure run (with the prediction for it beside)", measured,
         {}),
)

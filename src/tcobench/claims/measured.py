"""A claim's measured value, read from a saved run: a metric of one ``bench`` level or of one ``measure`` shape.

The run comes from the results store through a getter that ``api`` or ``cli`` hands in (``claims`` never opens
the store), so a claim file can say ``measured = { run = 3, metric = "tpot_s", concurrency = 4 }`` and the audit
judges the claimed number against what tcobench itself measured. Beside it goes the load the measurement was made
at (batch, prompt and output tokens per request), so the performance model can predict the same thing, and the
prediction the run saved when it was measured, if it saved one.

Metrics (docs/metrics.md): ``ttft_s``, ``tpot_s``, ``e2e_s``, ``icl_s`` (a ``bench`` level's distribution; ``stat``
picks the mean or a percentile, p50 by default), ``output_tokens_per_s``, ``requests_per_s``,
``goodput_requests_per_s`` and ``tokens_per_s_per_user`` (1 / TPOT). A ``measure`` run has ``ttft_s`` (a prefill
of ``tokens`` at batch 1), ``tpot_s`` (one decode step of ``batch`` sequences at context ``tokens``),
``tokens_per_s_per_user`` and ``output_tokens_per_s`` (batch / TPOT).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tcobench.catalog import Catalog, Hardware, Model
from tcobench.catalog.schema import Runtime
from tcobench.claims.schema import MeasuredRef
from tcobench.claims.trace import Value
from tcobench.errors import InputError, MissingInputError, close_matches
from tcobench.records import Run

RunGetter = Callable[[int], Run]
"""A saved run by store id; raises InputError (with the ids that are there) when there is none."""

LATENCIES = ("ttft_s", "tpot_s", "e2e_s", "icl_s")
RATES = {"output_tokens_per_s": "token/s", "requests_per_s": "1/s", "goodput_requests_per_s": "1/s"}
PER_USER = "tokens_per_s_per_user"
BENCH_METRICS = (*LATENCIES, *RATES, PER_USER)
MEASURE_METRICS = ("ttft_s", "tpot_s", PER_USER, "output_tokens_per_s")
NAMES = {"ttft_s": "TTFT", "tpot_s": "TPOT", "e2e_s": "E2E", "icl_s": "inter-chunk latency",
         "output_tokens_per_s": "output tokens/s", "requests_per_s": "requests/s",
         "goodput_requests_per_s": "goodput requests/s", PER_USER: "tokens/s per user"}


@dataclass(frozen=True, slots=True)
class Load:
    """What the measurement was made at, as ``perf.predict`` takes it: sequences in a batch, prompt and output tokens."""

    batch: int
    input_len: int
    output_len: int
    precision: str | None = None  # the format it ran in, where the run says (measure runs)


@dataclass(frozen=True, slots=True)
class Measurement:
    """The measured number as the run holds it (``raw``: a TPOT in seconds for ``tokens_per_s_per_user``, which the
    derivation turns into 1 / TPOT in a step of its own, so the trace shows the number the run saved)."""

    raw: Value
    metric: str  # the claim's metric
    holds: str  # the metric the run holds (``raw``): tpot_s for tokens_per_s_per_user, for example
    where: str  # "bench run 3 (label), level concurrency 4"
    load: Load | None
    model_spec: Mapping[str, Any] | None  # the architecture a measure run built, to predict it without the catalog
    saved: Value | None  # the prediction the run saved beside it, in the metric's unit
    saved_on: str | None  # the hardware that prediction was for


def measurement(ref: MeasuredRef, claim_id: str, runs: RunGetter | None) -> Measurement:
    """The number ``ref`` cites. InputError (exit 2) naming ``claim.<id>.measured.<key>`` for a run that is not in
    the store, holds no measurements, or has no level, shape or metric like the one named."""
    at = f"claim.{claim_id}.measured"
    if runs is None:
        raise MissingInputError(f"{at}.run = {ref.run}: no results store to read saved runs from")
    try:
        run = runs(ref.run)
    except InputError as err:
        raise InputError(f"{at}.run = {ref.run}: {err}") from err
    if run.command == "bench":
        return _bench(run, ref, at)
    if run.command == "measure":
        return _measure(run, ref, at)
    raise InputError(f"{at}.run = {ref.run}: a {run.command!r} run holds no measurements; expected the id of a "
                     "`tcobench bench` or `tcobench measure` run")


def _metric(ref: MeasuredRef, at: str, known: Sequence[str], command: str) -> str:
    if ref.metric in known:
        return ref.metric
    hint = close_matches(ref.metric, known)
    raise InputError(f"{at}.metric = {ref.metric!r}: a {command} run has no such metric; expected one of "
                     f"{', '.join(known)}" + (f"; did you mean {hint[0]!r}?" if hint else ""))


def _label(run: Run) -> str:
    return f"{run.command} run {run.id}" + (f" ({run.label})" if run.label else "")


# -- bench: one load level of an endpoint ---------------------------------------------------------------------
def _bench(run: Run, ref: MeasuredRef, at: str) -> Measurement:
    metric = _metric(ref, at, BENCH_METRICS, "bench")
    if ref.batch is not None or ref.tokens is not None:
        raise InputError(f"{at}: 'batch' and 'tokens' pick a shape of a measure run; a bench run's level is picked "
                         "by 'concurrency' or 'rate'")
    if ref.stat == "best":
        raise InputError(f"{at}.stat = 'best': a bench level keeps mean, p50, p90, p95 and p99")
    level = _level(run, ref, at)
    name = "ttft_s" if metric == "ttft_s" else ("tpot_s" if metric == PER_USER else metric)
    stat = ref.stat or "p50"
    where = f"{_label(run)}, level {_level_name(level)}"
    got = level.get(name)
    if name in LATENCIES:
        if not isinstance(got, Mapping) or not isinstance(got.get(stat), int | float):
            raise MissingInputError(f"{at}: {where} has no {NAMES[name]} measured (no successful request with one)")
        if not got[stat] > 0:  # a server that sends every token of a request in one burst: no time between them
            raise MissingInputError(f"{at}: {where} has a {NAMES[name]} {stat} of 0 (its requests' tokens arrived in "
                                    "one read, so no time between them was measured); cite another stat or level")
        raw = Value(f"{NAMES[name]} {stat}", float(got[stat]), "s", f"run {run.id}", ref=where)
    else:
        if not isinstance(got, int | float) or isinstance(got, bool):
            raise MissingInputError(f"{at}: {where} has no {NAMES[name]} measured")
        if ref.stat is not None:
            raise InputError(f"{at}.stat = {ref.stat!r}: {metric} is one rate per level, with no distribution")
        raw = Value(NAMES[name], float(got), RATES[name], f"run {run.id}", ref=where)
    saved, saved_on = _bench_saved(level, name)
    return Measurement(raw, metric, name, where, _bench_load(level), None, saved, saved_on)


def _level(run: Run, ref: MeasuredRef, at: str) -> Mapping[str, Any]:
    levels = [lv for lv in run.outputs.get("levels") or [] if isinstance(lv, Mapping)]
    if not levels:
        raise InputError(f"{at}.run = {run.id}: the bench run holds no levels (interrupted before the first)")
    chosen = [lv for lv in levels if (ref.concurrency is None or lv.get("concurrency") == ref.concurrency)
              and (ref.rate is None or lv.get("rate") == ref.rate)]
    names = ", ".join(_level_name(lv) for lv in levels)
    if not chosen:
        asked = f"concurrency = {ref.concurrency}" if ref.concurrency is not None else f"rate = {ref.rate:g}"
        raise InputError(f"{at}.{asked.split(' ')[0]}: {_label(run)} has no level at {asked}; its levels: {names}")
    if len(chosen) > 1:
        raise InputError(f"{at}: {_label(run)} has {len(chosen)} levels ({names}); name one with "
                         "'concurrency' or 'rate'")
    return chosen[0]


def _level_name(level: Mapping[str, Any]) -> str:
    if level.get("concurrency") is not None:
        return f"concurrency {level['concurrency']}"
    return f"rate {level.get('rate')} req/s"


def _bench_load(level: Mapping[str, Any]) -> Load | None:
    """The batch as bench's own prediction takes it (api/endpoint.py, predicted_for): the concurrency of a closed
    loop, else requests in flight by Little's law; prompt and output tokens per successful request."""
    ok = level.get("requests_ok") or 0
    out = level.get("output_tokens") or 0
    if not ok or not out:
        return None
    input_len = max(1, round((level.get("input_tokens") or 0) / ok))
    e2e = level.get("e2e_s") if isinstance(level.get("e2e_s"), Mapping) else None
    if level.get("concurrency") is not None:
        batch = int(level["concurrency"])
    elif level.get("requests_per_s") and e2e and e2e.get("mean") is not None:
        batch = max(1, round(float(level["requests_per_s"]) * float(e2e["mean"])))
    else:
        batch = 1
    return Load(batch, input_len, max(1, round(out / ok)))


def _bench_saved(level: Mapping[str, Any], name: str) -> tuple[Value | None, str | None]:
    pred = level.get("predicted")
    if not isinstance(pred, Mapping) or not isinstance(pred.get(name), int | float):
        return None, None
    unit = "s" if name in LATENCIES else RATES.get(name, "1")
    hw = str(pred.get("hardware") or "?")
    return Value(f"{NAMES[name]} predicted when measured", float(pred[name]), unit, DERIVED_WHEN_MEASURED,
                 ref=f"perf on {hw}, saved with the run"), hw


# -- measure: one shape of a model timed on the local device ----------------------------------------------------
def _measure(run: Run, ref: MeasuredRef, at: str) -> Measurement:
    metric = _metric(ref, at, MEASURE_METRICS, "measure")
    if ref.concurrency is not None or ref.rate is not None:
        raise InputError(f"{at}: 'concurrency' and 'rate' pick a level of a bench run; a measure run's shape is "
                         "picked by 'batch' and 'tokens'")
    if ref.stat not in (None, "best", "p50"):
        raise InputError(f"{at}.stat = {ref.stat!r}: a measure shape keeps 'best' (the fastest repetition) and "
                         "'p50' (the median)")
    records = [r for r in run.outputs.get("records") or [] if isinstance(r, Mapping)]
    if not records:
        raise InputError(f"{at}.run = {run.id}: the measure run holds no records (interrupted before the first shape)")
    phase = "prefill" if metric == "ttft_s" else "decode"
    batch = 1 if phase == "prefill" else ref.batch
    if phase == "prefill" and ref.batch not in (None, 1):
        raise InputError(f"{at}.batch = {ref.batch}: a prefill (ttft_s) is measured at batch 1")
    mine = [r for r in records if r.get("phase") == phase]
    chosen = [r for r in mine if (batch is None or r.get("batch") == batch)
              and (ref.tokens is None or r.get("input_len") == ref.tokens)]
    shapes = ", ".join(_shape_name(r) for r in mine) or "none"
    if len(chosen) != 1:
        why = "has no" if not chosen else f"has {len(chosen)}"
        need = "'tokens'" if phase == "prefill" else "'batch' and 'tokens'"
        asked = ", ".join(f"{k} = {v}" for k, v in (("batch", ref.batch), ("tokens", ref.tokens)) if v is not None)
        raise InputError(f"{at}: {_label(run)} {why} {phase} shape{'s' if chosen else ''} at {asked or 'any size'}; "
                         f"name one by {need}; its {phase} shapes: {shapes}")
    rec = chosen[0]
    stat = ref.stat or "best"
    seconds = rec.get("seconds" if stat == "best" else "median_s")
    if not isinstance(seconds, int | float) or not seconds > 0:
        raise InputError(f"{at}: {_label(run)}'s {_shape_name(rec)} holds no time")
    where = f"{_label(run)}, {_shape_name(rec)}"
    name = "TTFT" if phase == "prefill" else "TPOT"
    raw = Value(f"{name} ({'fastest repetition' if stat == 'best' else 'median'})", float(seconds), "s",
                f"run {run.id}", ref=where)
    load = Load(int(rec.get("batch") or 1), int(rec.get("input_len") or 1), 1 if phase == "prefill" else 2,
                run.outputs.get("precision"))
    spec = run.outputs.get("model_spec")
    saved, saved_on = None, None
    if isinstance(rec.get("predicted_s"), int | float):
        saved_on = str(run.outputs.get("hardware") or "?")
        saved = Value(f"{name} predicted when measured", float(rec["predicted_s"]), "s", DERIVED_WHEN_MEASURED,
                      ref=f"perf on {saved_on}, saved with the run")
    holds = "ttft_s" if phase == "prefill" else "tpot_s"
    return Measurement(raw, metric, holds, where, load, spec if isinstance(spec, Mapping) else None, saved, saved_on)


PREDICTED = ("ttft_s", "tpot_s", "e2e_s", "output_tokens_per_s")  # what a run holds that perf.predict predicts too


def predict_load(model: Model, hw: Hardware, load: Load, holds: str, *, precision: str, catalog: Catalog,
                 chips: int = 1, runtime: Runtime | None = None) -> float | None:
    """perf's value of ``holds`` (a ``Prediction`` attribute) at the load a measurement was made at, on ``chips``
    chips of ``hw`` in tensor parallel; None where perf does not predict that metric or finds no fit."""
    if holds not in PREDICTED:
        return None
    from tcobench.perf import predict

    p = predict(model, hw, chips=chips, tp=chips, batch=load.batch, input_len=load.input_len,
                output_len=load.output_len, precision=precision, catalog=catalog, runtime=runtime,
                max_context=max(model.max_context, load.input_len + load.output_len))
    return float(getattr(p, holds)) if p.fits else None


def levels(run: Run) -> list[MeasuredRef]:
    """Every measurement of a saved run that perf predicts too, as citations: a measure run's shapes (TTFT of a
    prefill, TPOT of a decode step), a bench run's levels (TTFT and TPOT p50)."""
    rid = run.id or 0
    if run.command == "measure":
        return [MeasuredRef(run=rid, metric="ttft_s" if r.get("phase") == "prefill" else "tpot_s",
                            batch=None if r.get("phase") == "prefill" else int(r["batch"]), tokens=int(r["input_len"]))
                for r in run.outputs.get("records") or [] if isinstance(r, Mapping)]
    if run.command == "bench":
        out = []
        for lv in run.outputs.get("levels") or []:
            if isinstance(lv, Mapping):
                pick: dict[str, Any] = ({"concurrency": lv["concurrency"]} if lv.get("concurrency") is not None
                                        else {"rate": lv.get("rate")})
                out += [MeasuredRef(run=rid, metric=m, **pick) for m in ("ttft_s", "tpot_s")]
        return out
    raise InputError(f"run {run.id}: a {run.command!r} run holds no measurements; expected the id of a "
                     "`tcobench bench` or `tcobench measure` run")


def _shape_name(rec: Mapping[str, Any]) -> str:
    if rec.get("phase") == "prefill":
        return f"prefill of {rec.get('input_len')} tokens"
    return f"decode batch {rec.get('batch')} at context {rec.get('input_len')}"


DERIVED_WHEN_MEASURED = "saved prediction"

__all__ = ["BENCH_METRICS", "Load", "MEASURE_METRICS", "Measurement", "PREDICTED", "RunGetter", "levels", "measurement",
           "predict_load"]

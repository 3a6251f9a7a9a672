"""Roofline: a hardware's compute roofs (dense, per precision) and bandwidth roof, with a prediction's
prefill and decode operators placed at (arithmetic intensity, achieved FLOP/s).

Saved predictions keep totals only, so the per-operator breakdown is recomputed here with
``tcobench.perf.predict(..., explain=True)`` from the run's inputs: a ``predict --save`` run, or the
cheapest deployment of a ``compare --save`` run when no prediction was selected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tcobench.catalog import Catalog, Hardware
from tcobench.errors import TcobenchError
from tcobench.perf import Prediction, predict
from tcobench.records import Run
from tcobench.report import words
from tcobench.report.charts import OpPoint, Roof, RooflineChart, slug
from tcobench.report.document import Part, Section
from tcobench.report.tables import Table

PRECISION_ORDER = ("fp4", "fp8", "int8", "bf16", "fp16", "tf32", "fp32")
PREDICT_KEYS = ("chips", "tp", "pp", "ep", "input_len", "output_len", "precision", "weights", "kv", "activations", "slo_ttft", "slo_tpot")


def build(runs: Sequence[Run], catalog: Catalog) -> Section | None:
    chosen = [r for r in runs if r.command == "predict"]
    if not chosen:  # no prediction selected: the cheapest deployment of each comparison
        chosen = [r for r in runs if r.command == "compare" and any(row.get("deployment") for row in r.outputs.get("rows", []))]
    parts = [part(r, catalog) for r in chosen]
    return Section("roofline", "Roofline", tuple(parts)) if parts else None


def rebuild(run: Run, catalog: Catalog) -> tuple[Prediction, Hardware, str]:
    """The run's prediction with its operators, the hardware, and a phrase saying what was predicted."""
    i = run.inputs
    if run.command == "predict":
        model = catalog.model(str(i["model"]), where=f"run {run.id} inputs.model")
        hw = catalog.hardware_ref(str(i["hardware"]), where=f"run {run.id} inputs.hardware")
        batch: Any = i.get("batch", 1)
        batch = batch if batch == "auto" else int(batch)
        kw = {k: i[k] for k in PREDICT_KEYS if i.get(k) is not None}
        return predict(model, hw, batch=batch, catalog=catalog, explain=True, **kw), hw, "the saved prediction"
    row = next(r for r in run.outputs["rows"] if r.get("deployment"))
    d = row["deployment"]
    model = catalog.model(str(i["model"]), where=f"run {run.id} inputs.model")
    hw = catalog.hardware_ref(row["hardware"], where=f"run {run.id} rows")
    p = predict(model, hw, chips=d["chips"], tp=d["tp"], pp=d["pp"], ep=d["ep"], batch=d["batch"], input_len=int(i["input_len"]),
                output_len=int(i["output_len"]), precision=d["precision"], catalog=catalog, explain=True)
    return p, hw, f"the cheapest deployment of compare run {run.id}"


def roofs(hw: Hardware) -> tuple[Roof, ...]:
    """Dense compute roofs, precisions with the same peak drawn as one ('fp8/int8')."""
    have = {str(k): v.value for k, v in hw.peak_dense.items() if v is not None}
    order = sorted(have, key=lambda k: PRECISION_ORDER.index(k) if k in PRECISION_ORDER else len(PRECISION_ORDER))
    grouped: dict[float, list[str]] = {}
    for k in order:
        grouped.setdefault(have[k], []).append(k)
    return tuple(Roof("/".join(names), peak) for peak, names in grouped.items())


def points(p: Prediction) -> tuple[OpPoint, ...]:
    return tuple(OpPoint(o.phase, o.name, o.flops / o.bytes, o.flops / o.time_s) for o in p.ops
                 if o.bytes > 0 and o.time_s > 0 and o.flops > 0)


def part(run: Run, catalog: Catalog) -> Part:
    head = f"{run.label or run.inputs.get('model', '?')} — run {run.id}"
    try:
        p, hw, what = rebuild(run, catalog)
    except (TcobenchError, KeyError, StopIteration, ValueError) as err:
        return Part(head, f"The operators of this run could not be recomputed: {err}.")
    bw = hw.memory.bandwidth.value if hw.memory.bandwidth else None
    rf = roofs(hw)
    if bw is None or not rf:
        return Part(head, f"{hw.id} has no memory bandwidth or no dense peak in the catalog, so it has no roofline.")
    pts = points(p)
    chart = RooflineChart(slug("roofline", "run", run.id, hw.id), f"Roofline, {p.model} on {hw.id}", rf, bw, pts)
    table = Table("Operators per chip (FLOPs and bytes of all layers; achieved = FLOPs / time)",
                  ("phase", "operator", "intensity (FLOP/B)", "achieved FLOP/s", "time", "bound"),
                  tuple((o.phase, o.name, f"{o.flops / o.bytes:,.1f}" if o.bytes else "–",
                         f"{o.flops / o.time_s / 1e12:,.3g} T" if o.time_s and o.flops else "–", words.seconds(o.time_s), o.bound)
                        for o in p.ops if o.time_s > 0), numeric=(2, 3, 4))
    return Part(f"{p.model} on {p.chips}× {hw.id}, batch {p.batch}, {p.precision} — run {run.id}",
                reading(p, hw, rf, bw, what), (chart,), (table,))


def _main_op(p: Prediction, phase: str) -> tuple[str, float, float] | None:
    ops = [o for o in p.ops if o.phase == phase and o.bytes > 0]
    total = sum(o.time_s for o in ops)
    if not ops or total <= 0:
        return None
    top = max(ops, key=lambda o: o.time_s)
    return top.name, top.time_s / total, top.flops / top.bytes


def reading(p: Prediction, hw: Hardware, rf: tuple[Roof, ...], bw: float, what: str) -> str:
    peak = hw.peak(p.activations)
    used = rf[0] if peak is None else Roof(p.activations, peak.value)
    ridge = used.flops_per_s / bw
    text = (f"This places the operators of {what} ({p.model} on {p.chips}× {hw.id}, batch {p.batch}, {p.input_len} tokens in) "
            f"under {hw.id}'s roofs: {used.label} peaks at {used.flops_per_s / 1e12:,.4g} TFLOP/s dense and memory moves "
            f"{bw / 1e12:.3g} TB/s, so an operator needs about {ridge:,.0f} FLOP per byte to be limited by compute rather than memory. ")
    for phase, bound, util in (("prefill", p.bound_prefill, f"MFU {words.percent(p.mfu_prefill)}"),
                               ("decode", p.bound_decode, f"MFU {words.percent(p.mfu_decode)}, MBU {words.percent(p.mbu_decode)}")):
        top = _main_op(p, phase)
        if top is None:
            continue
        name, share, intensity = top
        side = "right of the ridge (compute-bound)" if intensity >= ridge else "left of the ridge (memory-bound)"
        text += (f"In {phase}, {name} takes {share:.0%} of the time at {intensity:,.1f} FLOP/byte, {side}; "
                 f"the phase as a whole is {bound}-bound ({util}). ")
    return text + "Points below their roof lose time to efficiency factors and per-operator overheads."

"""Throughput vs interactivity: per hardware, the Pareto front of tokens/s per chip against tokens/s per user.

Fronts come from a ``compare --pareto --save`` run when it stored them; otherwise they are computed
here with the library's search on the run's own inputs (model, hardware, lengths, SLOs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tcobench.catalog import Catalog
from tcobench.errors import TcobenchError
from tcobench.records import Run
from tcobench.report import words
from tcobench.report.charts import ParetoChart, Series, slug
from tcobench.report.document import Part, Section
from tcobench.report.sections.training import is_training
from tcobench.report.sections.cost import slo_text, title


def build(runs: Sequence[Run], catalog: Catalog) -> Section | None:
    parts = [p for r in runs if r.command == "compare" and r.outputs.get("rows") and not is_training(r)
             for p in [part(r, catalog)] if p is not None]
    return Section("pareto", "Throughput vs interactivity", tuple(parts)) if parts else None


def fronts(run: Run, catalog: Catalog) -> tuple[dict[str, list[dict[str, Any]]], str]:
    """hardware id -> front points, and where they came from ('stored' or 'computed')."""
    rows = run.outputs["rows"]
    stored = {r["hardware"]: list(r["pareto"]) for r in rows if r.get("pareto")}
    if stored:
        return stored, "stored"
    return computed_fronts(run, catalog), "computed"


def computed_fronts(run: Run, catalog: Catalog) -> dict[str, list[dict[str, Any]]]:
    from tcobench.cost import DEFAULT_BASIS, OwnParameters
    from tcobench.search import compare

    i = run.inputs
    model = catalog.model(str(i["model"]), where=f"run {run.id} inputs.model")
    hardware = [catalog.hardware_ref(r["hardware"], where=f"run {run.id} rows") for r in run.outputs["rows"] if r.get("deployment")]
    if not hardware:
        return {}
    params = OwnParameters.from_basis(catalog.get_cost(DEFAULT_BASIS))
    rows, _ = compare(model, hardware, input_len=int(i["input_len"]), output_len=int(i["output_len"]), catalog=catalog,
                      params=params, slo_ttft=i.get("slo_ttft_s"), slo_tpot=i.get("slo_tpot_s"), pareto=True)
    return {r.hardware: list(r.pareto) for r in rows if r.pareto}


def part(run: Run, catalog: Catalog) -> Part | None:
    try:
        found, origin = fronts(run, catalog)
    except (TcobenchError, KeyError) as err:
        return Part(title(run), f"The fronts for this comparison could not be recomputed: {err}.")
    if not found:
        return None
    series = []
    for hw, pts in found.items():
        pts = sorted(pts, key=lambda p: p["interactivity_tokens_per_s"])
        series.append(Series(hw, tuple(p["interactivity_tokens_per_s"] for p in pts), tuple(p["output_tokens_per_s_per_chip"] for p in pts)))
    tpot = run.inputs.get("slo_tpot_s")
    chart = ParetoChart(slug("pareto", "run", run.id), f"Pareto fronts, {run.inputs.get('model', '')}", tuple(series),
                        1.0 / tpot if tpot else None)
    return Part(title(run), reading(run, series, origin), (chart,))


def reading(run: Run, series: list[Series], origin: str) -> str:
    best_tp = max(series, key=lambda s: max(s.y))
    best_ux = max(series, key=lambda s: max(s.x))
    text = (f"Each line is one hardware's best trade-off: moving right gives each user faster tokens, moving up serves more "
            f"tokens per chip (larger batches), and no deployment beats a point on both at once. "
            f"{best_tp.label} reaches the most output per chip ({words.rate(max(best_tp.y))} tokens/s) and "
            f"{'also' if best_ux is best_tp else best_ux.label} the fastest per-user speed ({words.rate(max(best_ux.x))} tokens/s/user).")
    slo = slo_text(run.inputs)
    if run.inputs.get("slo_tpot_s"):
        text += (f" The dashed line is the TPOT objective ({slo}): {words.rate(1.0 / run.inputs['slo_tpot_s'])} tokens/s per user; "
                 f"deployments left of it are too slow for a user.")
    elif slo:
        text += f" The run's objective ({slo}) cannot be drawn on these axes; the fronts only hold deployments that meet it."
    text += " Fronts were stored by compare --pareto." if origin == "stored" else " Fronts were computed by tcobench from the run's inputs."
    return text

"""Model accuracy: a ``validate`` run's rows, predicted against published, as a strip per source family
and a table, with a reading that says plainly whether the model meets its target."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from tcobench.catalog import Catalog
from tcobench.records import Run
from tcobench.report import words
from tcobench.report.charts import AccuracyChart, ErrorPoint, slug
from tcobench.report.document import Part, Section
from tcobench.report.tables import Table

TARGET = 0.10  # the median |error| the performance model aims for (docs/model.md)


def build(runs: Sequence[Run], catalog: Catalog) -> Section | None:
    parts = [part(r) for r in runs if r.command == "validate" and r.outputs.get("rows")]
    return Section("validation", "Model accuracy against published results", tuple(parts)) if parts else None


def family(row: dict[str, Any]) -> str:
    """The source family of a row, as `validate --by source` names it (its ref's prefix)."""
    return str(row.get("ref") or "?").split("-")[0]


def strip(row: dict[str, Any]) -> str:
    """The chart strip of a row: its id's first word (mlperf41, trtllm061, bloom, azure, ...)."""
    return str(row.get("id") or "?").split("-")[0]


def part(run: Run) -> Part:
    rows: list[dict[str, Any]] = list(run.outputs["rows"])
    compared = [r for r in rows if isinstance(r.get("error"), int | float)]
    compared.sort(key=lambda r: -abs(r["error"]))
    chart = AccuracyChart(slug("validation", "run", run.id), "Predicted / published, per reference row",
                          tuple(ErrorPoint(str(r["id"]), strip(r), str(r.get("phase")), 1.0 + r["error"]) for r in compared))
    table = Table("Rows, furthest off first", ("row", "source", "phase", "metric", "published", "predicted", "error", "note"),
                  tuple((str(r["id"]), family(r), str(r.get("phase", "")), str(r.get("metric", "")), words.rate(r.get("published")),
                         words.rate(r.get("predicted")), f"{r['error']:+.0%}", str(r.get("problem") or "")) for r in compared)
                  + tuple((str(r["id"]), family(r), str(r.get("phase", "")), str(r.get("metric", "")), words.rate(r.get("published")),
                           "–", "–", str(r.get("problem") or "")) for r in rows if r not in compared),
                  numeric=(4, 5, 6))
    return Part(f"{words.plural(len(compared), 'published result')} — run {run.id}", reading(run.outputs.get("summary") or {},
                compared), charts=(chart,), tables=(table,))


def reading(summary: dict[str, Any], compared: list[dict[str, Any]]) -> str:
    if not compared:
        return "No reference row could be compared."
    med = summary.get("median_abs_error")
    within = sum(abs(r["error"]) <= TARGET for r in compared)
    twice = sum(0.5 <= 1 + r["error"] <= 2.0 for r in compared)
    verdict = "meets" if isinstance(med, int | float) and med <= TARGET else "misses"
    text = (f"tcobench predicted each of {words.plural(len(compared), 'published result')} from its stated deployment and "
            f"compared: the median absolute error is {med:.0%}, so the model {verdict} its 10 % target; {within} of {len(compared)} "
            f"rows are within 10 % and {twice} within 2x. ")
    fams: dict[str, list[float]] = {}
    for r in compared:
        fams.setdefault(family(r), []).append(r["error"])
    signed = [f"{name} {statistics.median(e):+.0%} ({len(e)})" for name, e in fams.items()]
    text += f"Median signed error per source (rows): {words.listing(signed)}; positive means the model is optimistic. "
    worst = max(compared, key=lambda r: abs(r["error"]))
    return text + (f"The furthest off is {worst['id']} at {worst['error']:+.0%}. Each row's source and deployment are in "
                   "src/tcobench/perf/data/validation.toml; docs/model.md discusses why rows are off.")

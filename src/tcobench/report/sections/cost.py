"""Cost comparison: $/1M output tokens per hardware (own and rent) from ``compare --save`` runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tcobench.catalog import Catalog
from tcobench.records import Run
from tcobench.report import words
from tcobench.report.charts import CostChart, Span, slug
from tcobench.report.document import Part, Section
from tcobench.report.sections.training import is_training
from tcobench.report.tables import Table


def build(runs: Sequence[Run], catalog: Catalog) -> Section | None:
    parts = [part(r) for r in runs if r.command == "compare" and r.outputs.get("rows") and not is_training(r)]
    return Section("cost", "Cost comparison", tuple(parts)) if parts else None


def title(run: Run) -> str:
    i = run.inputs
    return f"{i.get('model', '?')}, {i.get('workload', '?')} ({i.get('input_len', '?')} in / {i.get('output_len', '?')} out) — run {run.id}"


def slo_text(inputs: dict[str, Any]) -> str:
    slo = [f"{k} ≤ {words.seconds(inputs.get(key))}" for k, key in (("TTFT", "slo_ttft_s"), ("TPOT", "slo_tpot_s")) if inputs.get(key)]
    return " and ".join(slo)


def deployment(d: dict[str, Any] | None) -> str:
    if not d:
        return "–"
    ep = f" ep{d['ep']}" if d.get("ep", 1) > 1 else ""
    return f"{d['chips']}× tp{d['tp']} pp{d['pp']}{ep} batch {d['batch']} {d['precision']}"


def _span(row: dict[str, Any], key: str) -> Span | None:
    v = row.get(key)
    if v is None:
        return None
    lo, hi = row.get(key + "_low"), row.get(key + "_high")
    return Span(v if lo is None else lo, v, v if hi is None else hi)


def part(run: Run) -> Part:
    rows: list[dict[str, Any]] = run.outputs["rows"]
    served = [r for r in rows if r.get("deployment")]
    priced = [r for r in served if r.get("usd_per_1m_output_tokens_own") is not None or r.get("usd_per_1m_output_tokens_rent") is not None]
    excluded = [r for r in rows if not r.get("deployment") or r not in priced]
    charts: tuple[CostChart, ...] = ()
    if priced:
        charts = (CostChart(slug("cost", "run", run.id), f"$/1M output tokens, {run.inputs.get('model', '')}",
                            tuple(r["hardware"] for r in priced), tuple(_span(r, "usd_per_1m_output_tokens_own") for r in priced),
                            tuple(_span(r, "usd_per_1m_output_tokens_rent") for r in priced)),)
    main = Table("Cheapest deployment per hardware that fits and meets the SLOs",
                 ("hardware", "deployment", "TTFT", "TPOT", "tok/s/user", "tok/s/chip", "$/1M out, own", "$/1M out, rent"),
                 tuple((r["hardware"], deployment(r["deployment"]), words.seconds(r.get("ttft_s")), words.seconds(r.get("tpot_s")),
                        words.rate(r.get("interactivity_tokens_per_s")), words.rate(r.get("output_tokens_per_s_per_chip")),
                        words.span(r.get("usd_per_1m_output_tokens_own"), r.get("usd_per_1m_output_tokens_own_low"),
                                   r.get("usd_per_1m_output_tokens_own_high")),
                        words.span(r.get("usd_per_1m_output_tokens_rent"), r.get("usd_per_1m_output_tokens_rent_low"),
                                   r.get("usd_per_1m_output_tokens_rent_high"))) for r in served),
                 numeric=(2, 3, 4, 5, 6, 7))
    tables = [main] if served else []
    if excluded:
        tables.append(Table("Hardware left out, and why", ("hardware", "why excluded"),
                            tuple((r["hardware"], why(r)) for r in excluded)))
    notes = tuple(sorted({f"{r['hardware']} {basis}: {note}" for r in served for basis, note in (r.get("price_notes") or {}).items()
                          if not note.startswith("no ")}))
    return Part(title(run), reading(run, priced, excluded), charts, tuple(tables), tuple(f"price basis — {n}" for n in notes))


def why(row: dict[str, Any]) -> str:
    if row.get("excluded_reason"):
        return str(row["excluded_reason"])
    notes = row.get("price_notes") or {}
    return "; ".join(f"{b}: {n}" for b, n in notes.items()) or "no price on either basis"


def _cheapest(rows: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    have = [r for r in rows if r.get(key) is not None]
    return min(have, key=lambda r: r[key]) if have else None


def reading(run: Run, priced: list[dict[str, Any]], excluded: list[dict[str, Any]]) -> str:
    i = run.inputs
    slo = slo_text(i)
    head = (f"For {i.get('model', 'this model')} on the {i.get('workload', '')} workload ({i.get('input_len')} tokens in, "
            f"{i.get('output_len')} out){' with ' + slo if slo else ''}, tcobench tried {i.get('evaluated', 0):,} configurations. ")
    said = []
    for basis, verb in (("own", "owned"), ("rent", "rented")):
        key = f"usd_per_1m_output_tokens_{basis}"
        best = _cheapest(priced, key)
        if best is None:
            continue
        have = [r for r in priced if r.get(key) is not None]
        worst = max(have, key=lambda r: r[key])
        text = (f"{verb.capitalize()}, the cheapest is {best['hardware']} at "
                f"{words.span(best[key], best.get(key + '_low'), best.get(key + '_high'))} per million output tokens, "
                f"running {deployment(best['deployment'])}")
        if worst is not best and best[key] > 0:
            text += f"; the dearest of the {len(have)} priced, {worst['hardware']}, costs {words.times(worst[key] / best[key])} as much"
        said.append(text + ".")
    if not said:
        said.append("No hardware had a price on either basis, so no cost could be computed.")
    tail = ""
    if excluded:
        tail = (f" {words.plural(len(excluded), 'hardware option')} "
                f"{'is' if len(excluded) == 1 else 'are'} left out ({words.listing([r['hardware'] for r in excluded])}); "
                f"the table below says why. Ranges come from the uncertain inputs (prices, power, utilisation), not from noise.")
    return head + " ".join(said) + tail

"""Endpoint benchmarks from ``bench`` runs: latency CDFs, throughput and goodput vs load, errors by type,
and predicted vs measured: per level when the run stored predictions (``bench --hardware H --model-spec M``),
else against a ``predict`` run for the same model in the report.

Saved bench runs keep each level's percentiles (p50, p90, p95, p99), not every request, so the CDFs
are drawn through those points.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tcobench.catalog import Catalog
from tcobench.credentials import redact_url
from tcobench.records import Run
from tcobench.report import words
from tcobench.report.charts import CdfChart, LoadChart, Series, slug
from tcobench.report.document import Part, Section
from tcobench.report.tables import Table

QUANTILES = (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99))


def build(runs: Sequence[Run], catalog: Catalog) -> Section | None:
    predictions = [r for r in runs if r.command == "predict"]
    parts = [part(r, predictions) for r in runs if r.command == "bench" and r.outputs.get("levels")]
    return Section("bench", "Endpoint benchmarks", tuple(parts)) if parts else None


def load_of(level: dict[str, Any]) -> tuple[str, float]:
    """('concurrency' | 'rate', value) of one level."""
    if level.get("concurrency") is not None:
        return "concurrency", float(level["concurrency"])
    return "rate", float(level.get("rate") or 0.0)


def level_name(level: dict[str, Any]) -> str:
    kind, v = load_of(level)
    return f"c={v:g}" if kind == "concurrency" else f"{v:g} req/s"


def _norm(name: str) -> str:
    return name.rsplit("/", 1)[-1].strip().lower()


def matching_prediction(run: Run, predictions: Sequence[Run]) -> Run | None:
    """A predict run for the model the endpoint serves (catalog id equal to, or contained in, the served name)."""
    served = _norm(str(run.inputs.get("model", "")))
    for p in predictions:
        pid = _norm(str(p.outputs.get("model") or p.inputs.get("model", "")))
        if pid and (pid == served or pid in served):
            return p
    return None


def _cdf(level: dict[str, Any], key: str) -> Series | None:
    stats = level.get(key) or {}
    pts = [(stats[q], f) for q, f in QUANTILES if stats.get(q) is not None]
    if not pts:
        return None
    return Series(level_name(level), tuple(x for x, _ in pts), tuple(f for _, f in pts))


def part(run: Run, predictions: Sequence[Run]) -> Part:
    levels: list[dict[str, Any]] = run.outputs["levels"]
    model = str(run.inputs.get("model", "?"))
    slo = run.inputs.get("slo") or {}
    tag = slug("bench", "run", run.id)
    charts: list[Any] = []
    for key, label, slo_key in (("ttft_s", "TTFT", "ttft_s"), ("tpot_s", "TPOT", "tpot_s")):
        series = tuple(s for s in (_cdf(lv, key) for lv in levels) if s is not None)
        if series:
            charts.append(CdfChart(f"{tag}-{label.lower()}", f"{label} distribution, {model}", f"{label} (s)", series, slo.get(slo_key)))
    kind = load_of(levels[0])[0]
    xs = tuple(load_of(lv)[1] for lv in levels)
    series_l = [Series("output tokens/s", xs, tuple(float(lv.get("output_tokens_per_s") or 0.0) for lv in levels))]
    has_slo = any(v is not None for v in slo.values())
    if has_slo:
        series_l.append(Series("goodput tokens/s (met every SLO)", xs, tuple(float(lv.get("goodput_output_tokens_per_s") or 0.0) for lv in levels)))
    predicted = [lv.get("predicted") or {} for lv in levels]
    if all(p.get("output_tokens_per_s") is not None for p in predicted):
        series_l.append(Series("predicted output tokens/s", xs, tuple(float(p["output_tokens_per_s"]) for p in predicted)))
    if len(levels) > 1:
        charts.append(LoadChart(f"{tag}-load", f"Throughput vs {kind}, {model}",
                                "requests in flight" if kind == "concurrency" else "offered requests/s", "output tokens/s", tuple(series_l)))
    charts += latency_vs_load(tag, model, levels)
    tables = [summary(levels), errors(levels)]
    if any(_simulated(lv) for lv in levels):
        tables.append(simulated_vs_measured(levels))
    pred = None
    if any(p.get("tpot_s") is not None for p in predicted):
        tables.append(versus_levels(run, levels))
    else:
        pred = matching_prediction(run, predictions)
        if pred is not None:
            tables.append(versus(pred, levels))
    notes = ("CDFs are drawn through the stored percentiles (p50, p90, p95, p99) of each level; lines between them are interpolated.",)
    where = redact_url(str(run.inputs.get("url", "?")))  # the store redacts too; a run may come from elsewhere
    return Part(f"{model} at {where} — run {run.id}", reading(run, levels, pred), tuple(charts), tuple(tables), notes)


def _simulated(level: dict[str, Any]) -> dict[str, Any] | None:
    """The serving simulation of a level's load that bench stored beside it, if it ran."""
    sim = (level.get("predicted") or {}).get("serving")
    return sim if sim and not sim.get("error") else None


def latency_vs_load(tag: str, model: str, levels: list[dict[str, Any]]) -> list[LoadChart]:
    """TTFT p99 against the load, and interactivity (1 / TPOT p50) against output throughput, measured and
    simulated side by side: the latency a user sees as the traffic grows, and what each level's throughput costs
    in speed per user. Drawn when at least two levels have both a measurement and a simulation."""
    both = [(lv, sim) for lv in levels if (sim := _simulated(lv)) is not None
            and _p(lv, "ttft_s", "p99") is not None and _p(lv, "tpot_s", "p50")]
    if len(both) < 2:
        return []
    kind = load_of(both[0][0])[0]
    xs = tuple(load_of(lv)[1] for lv, _ in both)
    ttft = LoadChart(f"{tag}-ttft-load", f"TTFT p99 against {'request rate' if kind == 'rate' else 'concurrency'}, {model}",
                     "offered requests/s" if kind == "rate" else "requests in flight", "TTFT p99 (s)",
                     (Series("measured", xs, tuple(float(_p(lv, "ttft_s", "p99") or 0.0) for lv, _ in both)),
                      Series("simulated", xs, tuple(float(sim["ttft_s"]["p99"]) for _, sim in both))))
    sims = [(lv, sim) for lv, sim in both if sim["tpot_s"].get("p50")]
    inter = LoadChart(f"{tag}-interactivity", f"Interactivity against throughput, {model}", "output tokens/s",
                      "tokens/s per user (1 / TPOT p50)",
                      (Series("measured", tuple(float(lv.get("output_tokens_per_s") or 0.0) for lv, _ in both),
                              tuple(1.0 / float(_p(lv, "tpot_s", "p50") or 1.0) for lv, _ in both)),
                       Series("simulated", tuple(float(sim["output_tokens_per_s"]) for _, sim in sims),
                              tuple(1.0 / float(sim["tpot_s"]["p50"]) for _, sim in sims))))
    return [ttft, inter]


def simulated_vs_measured(levels: list[dict[str, Any]]) -> Table:
    """Each level's measured percentiles beside the simulation of its load (bench --hardware --model-spec)."""
    rows = []
    for lv in levels:
        sim = _simulated(lv) or {}
        st, sp = sim.get("ttft_s") or {}, sim.get("tpot_s") or {}
        rows.append((level_name(lv), words.seconds(st.get("p50")), words.seconds(_p(lv, "ttft_s", "p50")),
                     words.seconds(st.get("p99")), words.seconds(_p(lv, "ttft_s", "p99")),
                     words.seconds(sp.get("p50")), words.seconds(_p(lv, "tpot_s", "p50")),
                     words.rate(sim.get("output_tokens_per_s")), words.rate(lv.get("output_tokens_per_s")),
                     "yes" if sim.get("saturated") else ("no" if sim else "–")))
    return Table("Simulated (serving simulator at each level's load) vs measured",
                 ("level", "TTFT p50 sim", "TTFT p50 measured", "TTFT p99 sim", "TTFT p99 measured", "TPOT p50 sim",
                  "TPOT p50 measured", "tok/s sim", "tok/s measured", "sim saturated"), tuple(rows),
                 numeric=tuple(range(1, 9)))


def _p(level: dict[str, Any], key: str, q: str) -> float | None:
    return (level.get(key) or {}).get(q)


def summary(levels: list[dict[str, Any]]) -> Table:
    return Table("Per load level", ("level", "ok", "failed", "TTFT p50", "TTFT p99", "TPOT p50", "TPOT p99", "output tok/s",
                                    "goodput req/s", "SLO met", "$/1M out"),
                 tuple((level_name(lv), str(lv.get("requests_ok", 0)), str(lv.get("requests_failed", 0)),
                        words.seconds(_p(lv, "ttft_s", "p50")), words.seconds(_p(lv, "ttft_s", "p99")),
                        words.seconds(_p(lv, "tpot_s", "p50")), words.seconds(_p(lv, "tpot_s", "p99")),
                        words.rate(lv.get("output_tokens_per_s")), words.rate(lv.get("goodput_requests_per_s")),
                        words.percent(lv.get("slo_attainment")), words.money(lv.get("usd_per_1m_output_tokens")))
                       for lv in levels), numeric=tuple(range(1, 11)))


def errors(levels: list[dict[str, Any]]) -> Table:
    kinds = sorted({k for lv in levels for k in (lv.get("errors") or {})})
    return Table("Errors by type", ("level", "failed", *kinds),
                 tuple((level_name(lv), str(lv.get("requests_failed", 0)), *(str((lv.get("errors") or {}).get(k, 0)) for k in kinds))
                       for lv in levels), numeric=tuple(range(1, 2 + len(kinds))))


def _closest(levels: list[dict[str, Any]], batch: float) -> dict[str, Any]:
    return min(levels, key=lambda lv: abs(load_of(lv)[1] - batch) if load_of(lv)[0] == "concurrency" else float("inf"))


def versus(pred: Run, levels: list[dict[str, Any]]) -> Table:
    o = pred.outputs
    lv = _closest(levels, float(o.get("batch") or 1))
    rows = []
    for name, p_val, m_val, fmt in (("TTFT", o.get("ttft_s"), _p(lv, "ttft_s", "p50"), words.seconds),
                                    ("TPOT", o.get("tpot_s"), _p(lv, "tpot_s", "p50"), words.seconds),
                                    ("output tokens/s", o.get("output_tokens_per_s"), lv.get("output_tokens_per_s"), words.rate)):
        ratio = f"{m_val / p_val:.2f}" if p_val and m_val is not None else "–"
        rows.append((name, fmt(p_val), fmt(m_val), ratio))
    return Table(f"Predicted (run {pred.id}, batch {o.get('batch')} on {o.get('chips')}× {o.get('hardware')}) vs measured "
                 f"(p50 at {level_name(lv)})", ("metric", "predicted", "measured", "measured / predicted"), tuple(rows), numeric=(1, 2, 3))


def versus_levels(run: Run, levels: list[dict[str, Any]]) -> Table:
    """Each level beside the performance model's prediction for the same load (stored by bench)."""
    hw = run.inputs.get("hardware") or {}
    rows = []
    for lv in levels:
        p = lv.get("predicted") or {}
        m_tps, p_tps = lv.get("output_tokens_per_s"), p.get("output_tokens_per_s")
        rows.append((level_name(lv), words.seconds(p.get("ttft_s")), words.seconds(_p(lv, "ttft_s", "p50")),
                     words.seconds(p.get("tpot_s")), words.seconds(_p(lv, "tpot_s", "p50")), words.rate(p_tps), words.rate(m_tps),
                     f"{m_tps / p_tps:.2f}" if m_tps and p_tps else (str(p.get("error")) if p.get("error") else "–")))
    return Table(f"Predicted ({hw.get('model_spec', '?')} on {hw.get('chips', '?')}× {hw.get('hardware', '?')}) vs measured (p50)",
                 ("level", "TTFT predicted", "TTFT measured", "TPOT predicted", "TPOT measured", "tok/s predicted",
                  "tok/s measured", "measured / predicted tok/s"), tuple(rows), numeric=tuple(range(1, 8)))


def reading(run: Run, levels: list[dict[str, Any]], pred: Run | None) -> str:
    model = str(run.inputs.get("model", "the model"))
    first, last = levels[0], levels[-1]
    best = max(levels, key=lambda lv: lv.get("output_tokens_per_s") or 0.0)
    ok = sum(int(lv.get("requests_ok", 0)) for lv in levels)
    failed = sum(int(lv.get("requests_failed", 0)) for lv in levels)
    text = (f"The endpoint serving {model} was measured at {words.plural(len(levels), 'load level')} "
            f"({words.listing([level_name(lv) for lv in levels])}). At {level_name(first)}, half the requests saw their first "
            f"token within {words.seconds(_p(first, 'ttft_s', 'p50'))} and tokens then came every "
            f"{words.seconds(_p(first, 'tpot_s', 'p50'))}")
    if len(levels) > 1:
        text += (f"; at {level_name(last)} those became {words.seconds(_p(last, 'ttft_s', 'p50'))} and "
                 f"{words.seconds(_p(last, 'tpot_s', 'p50'))}")
    text += (f". Output throughput peaked at {words.rate(best.get('output_tokens_per_s'))} tokens/s at {level_name(best)}"
             + (f", {words.money(best['usd_per_1m_output_tokens'])} per million output tokens at "
                + (f"the catalog's {best.get('price_basis')} price of {best.get('chips')}× {best['hardware']}" if best.get("hardware")
                   else "the stated price")
                if best.get("usd_per_1m_output_tokens") is not None else "") + ". ")
    if failed:
        kinds: dict[str, int] = {}
        for lv in levels:
            for k, n in (lv.get("errors") or {}).items():
                kinds[k] = kinds.get(k, 0) + int(n)
        text += (f"{failed} of {ok + failed} requests failed "
                 f"({words.listing([f'{n} {k}' for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])])}). ")
    else:
        text += f"All {ok} measured requests succeeded. "
    stored = [(lv, lv["predicted"]) for lv in levels if (lv.get("predicted") or {}).get("tpot_s")]
    if stored:
        lv, p = stored[-1]
        m = _p(lv, "tpot_s", "p50")
        hw = run.inputs.get("hardware") or {}
        if m:
            text += (f"For {hw.get('model_spec', 'the model')} on {hw.get('chips', '?')}× {hw.get('hardware', '?')}, the performance model "
                     f"predicted a TPOT of {words.seconds(p['tpot_s'])} at {level_name(lv)}; the endpoint measured {words.seconds(m)} "
                     f"({m / p['tpot_s']:.2f}× the prediction).")
    elif pred is not None:
        o = pred.outputs
        lv = _closest(levels, float(o.get("batch") or 1))
        m, p = _p(lv, "tpot_s", "p50"), o.get("tpot_s")
        if m and p:
            text += (f"The model predicted a TPOT of {words.seconds(p)} at batch {o.get('batch')} on {o.get('hardware')}; "
                     f"the endpoint measured {words.seconds(m)} at {level_name(lv)} ({m / p:.2f}× the prediction).")
    return text.strip()

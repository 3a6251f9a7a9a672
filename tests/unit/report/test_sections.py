"""Sections as data: what each reading says, charts built from the stored numbers, words and slugs."""

from __future__ import annotations

import pytest

from tcobench.catalog import load_catalog
from tcobench.records import Run
from tcobench.report import words
from tcobench.report.charts import slug
from tcobench.report.sections import audit, bench, cost, pareto, roofline


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return load_catalog()


def test_cost_reading_names_the_cheapest_per_basis_and_the_excluded(by_command: dict[str, list[Run]], catalog) -> None:  # type: ignore[no-untyped-def]
    run = by_command["compare"][0]
    sec = cost.build([run], catalog)
    assert sec is not None
    part = sec.parts[0]
    rows = {r["hardware"]: r for r in run.outputs["rows"]}
    b200 = rows["b200"]
    assert f"Owned, the cheapest is b200 at {words.money(b200['usd_per_1m_output_tokens_own'])}" in part.reading
    assert "Rented, the cheapest is h100-sxm" in part.reading
    assert "left out (groq-lpu)" in part.reading
    chart = part.charts[0]
    assert chart.hardware == ("b200", "mi300x", "h100-sxm", "tpu-v5e")
    assert chart.own[0] is not None and chart.own[0].low == b200["usd_per_1m_output_tokens_own_low"]
    assert chart.rent[0] is None and chart.own[3] is None
    assert part.tables[1].rows == (("groq-lpu", "does not fit in memory on up to 64 chips at any batch"),)


def test_pareto_uses_stored_fronts_and_draws_the_tpot_slo(by_command: dict[str, list[Run]], catalog) -> None:  # type: ignore[no-untyped-def]
    sec = pareto.build(by_command["compare"], catalog)
    assert sec is not None
    chart = sec.parts[0].charts[0]
    assert chart.min_interactivity == pytest.approx(20.0)  # TPOT <= 50 ms
    assert [s.label for s in chart.fronts] == ["b200", "mi300x", "h100-sxm", "tpu-v5e"]
    assert all(list(s.x) == sorted(s.x) for s in chart.fronts)
    assert "stored by compare --pareto" in sec.parts[0].reading


def test_pareto_fronts_are_computed_when_not_stored(by_command: dict[str, list[Run]], catalog) -> None:  # type: ignore[no-untyped-def]
    run = by_command["compare"][0]
    rows = [{k: v for k, v in r.items() if k != "pareto"} for r in run.outputs["rows"] if r["hardware"] in ("h100-sxm", "groq-lpu")]
    bare = Run(command="compare", provenance=run.provenance, inputs=run.inputs, outputs={"rows": rows}, tool_version="0.1.0", id=9)
    sec = pareto.build([bare], catalog)
    assert sec is not None
    front = sec.parts[0].charts[0].fronts
    assert [s.label for s in front] == ["h100-sxm"]
    assert min(front[0].x) >= 20.0 - 1e-9  # every point meets the 50 ms TPOT objective
    assert "computed by tcobench" in sec.parts[0].reading


def test_roofline_places_decode_left_of_the_ridge(by_command: dict[str, list[Run]], catalog) -> None:  # type: ignore[no-untyped-def]
    sec = roofline.build(by_command["predict"], catalog)
    assert sec is not None
    chart = sec.parts[0].charts[0]
    assert chart.bandwidth == pytest.approx(3.35e12)
    labels = [r.label for r in chart.roofs]
    assert "bf16/fp16" in labels or "bf16" in labels
    ridge = catalog.hardware["h100-sxm"].peak("bf16").value / chart.bandwidth
    decode_ffn = next(p for p in chart.points if p.phase == "decode" and p.name == "ffn")
    prefill_ffn = next(p for p in chart.points if p.phase == "prefill" and p.name == "ffn")
    assert decode_ffn.intensity < ridge < prefill_ffn.intensity
    assert all(p.flops_per_s <= chart.bandwidth * p.intensity * 1.0001 or p.flops_per_s <= max(r.flops_per_s for r in chart.roofs)
               for p in chart.points)
    assert "left of the ridge (memory-bound)" in sec.parts[0].reading


def test_bench_tables_and_prediction_beside_measurement(by_command: dict[str, list[Run]], catalog) -> None:  # type: ignore[no-untyped-def]
    plain, predicted = by_command["bench"]
    sec = bench.build([plain, predicted], catalog)
    assert sec is not None
    p0, p1 = sec.parts
    errors = {t.caption: t for t in p0.tables}["Errors by type"]
    assert errors.columns == ("level", "failed", "connection_reset", "http_503")
    assert sum(int(r[1]) for r in errors.rows) == sum(lv["requests_failed"] for lv in plain.outputs["levels"])
    assert len(p0.tables) == 2 and len(p1.tables) == 3  # only the second run stored predictions
    assert "performance model predicted a TPOT" in p1.reading
    cdf = p0.charts[0]
    assert cdf.series[0].y == (0.5, 0.9, 0.95, 0.99)
    assert cdf.series[0].x[0] == plain.outputs["levels"][0]["ttft_s"]["p50"]


def test_audit_sorts_worst_first_and_counts_verdicts(by_command: dict[str, list[Run]], catalog) -> None:  # type: ignore[no-untyped-def]
    sec = audit.build(by_command["audit"], catalog)
    assert sec is not None
    table = sec.parts[0].tables[0]
    verdicts = [row[6] for row in table.rows]
    assert verdicts[0] == "overstated" and verdicts[-1] == "consistent"
    assert "2 overstated, 1 understated, 1 unit-mismatch, 3 precision-mismatch, 2 unverifiable and 11 consistent" in sec.parts[0].reading
    assert table.css_class(6, "precision-mismatch") == "verdict-precision-mismatch"


def test_no_section_without_its_data(catalog) -> None:  # type: ignore[no-untyped-def]
    empty = Run(command="compare", provenance="predicted", inputs={}, outputs={"rows": []}, tool_version="0.1.0", id=1)  # type: ignore[arg-type]
    assert all(m.build([empty], catalog) is None for m in (cost, pareto, roofline, bench, audit))


@pytest.mark.parametrize(("value", "text"), [(0.033024, "$0.033"), (1234.5, "$1,234"), (None, "–"), (float("nan"), "–")])
def test_money(value: float | None, text: str) -> None:
    assert words.money(value) == text


def test_span_and_slug() -> None:
    assert words.span(1.0, 0.5, 2.0) == "$1 ($0.5–$2)"
    assert words.span(1.0, 1.0, 1.0) == "$1"
    assert words.listing(["a", "b", "c"]) == "a, b and c"
    assert slug("roofline", "run", 3, "H100 SXM") == "roofline-run-3-h100-sxm"
    assert slug("<script>") == "script"


def test_validation_section_reads_the_run_as_it_is(by_command) -> None:  # type: ignore[no-untyped-def]
    from tcobench.catalog import load_catalog
    from tcobench.report.sections import validation

    run = by_command["validate"][0]
    section = validation.build([run], load_catalog())
    assert section is not None
    (part,) = section.parts
    summ = run.outputs["summary"]
    assert f"median absolute error is {summ['median_abs_error']:.0%}" in part.reading
    assert ("misses its 10 % target" if summ["median_abs_error"] > 0.10 else "meets its 10 % target") in part.reading
    (chart,) = part.charts
    compared = [r for r in run.outputs["rows"] if r["error"] is not None]
    assert len(chart.points) == len(compared)
    assert sorted(p.ratio for p in chart.points) == sorted(1 + r["error"] for r in compared)
    (table,) = part.tables
    errors = [abs(float(row[6].rstrip("%"))) for row in table.rows if row[6] != "–"]
    assert errors == sorted(errors, reverse=True)  # furthest off first
    assert len(table.rows) == len(run.outputs["rows"])  # skipped rows are listed too, last


def test_validation_section_says_meets_when_the_median_is_within_target() -> None:
    from tcobench.report.sections.validation import reading

    rows = [{"id": f"r{i}", "ref": "X-1", "error": e} for i, e in enumerate((0.02, -0.05, 0.3))]
    text = reading({"median_abs_error": 0.05}, rows)
    assert "meets its 10 % target; 2 of 3 rows are within 10 % and 3 within 2x" in text
    assert "The furthest off is r2 at +30%" in text

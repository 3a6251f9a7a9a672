"""Latency against load in the report: TTFT p99 against the request rate and interactivity against throughput,
measured and simulated side by side, from a bench run whose levels carry the serving simulation (issue 23)."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

from tcobench.catalog import load_catalog
from tcobench.report import build_report
from tcobench.report.charts import LoadChart
from tcobench.report.export import write_figures
from tcobench.report.sections import bench
from tests.unit.report.conftest import load_serving_runs


def test_the_charts_put_each_levels_measurement_beside_its_simulation() -> None:
    (run,) = load_serving_runs()
    sec = bench.build([run], load_catalog())
    assert sec is not None
    (part,) = sec.parts
    charts = {c.name: c for c in part.charts}
    ttft, inter = charts["bench-run-1-ttft-load"], charts["bench-run-1-interactivity"]
    assert isinstance(ttft, LoadChart) and isinstance(inter, LoadChart)
    levels = run.outputs["levels"]
    measured, simulated = ttft.series
    assert measured.label == "measured" and simulated.label == "simulated"
    assert measured.x == simulated.x == tuple(lv["rate"] for lv in levels) == (1.0, 2.0, 3.0, 4.0)
    assert measured.y == tuple(lv["ttft_s"]["p99"] for lv in levels)
    assert simulated.y == tuple(lv["predicted"]["serving"]["ttft_s"]["p99"] for lv in levels)
    m, s = inter.series
    assert m.x == tuple(lv["output_tokens_per_s"] for lv in levels)
    assert s.y == tuple(1.0 / lv["predicted"]["serving"]["tpot_s"]["p50"] for lv in levels)
    table = {t.caption: t for t in part.tables}["Simulated (serving simulator at each level's load) vs measured"]
    assert [r[0] for r in table.rows] == ["1 req/s", "2 req/s", "3 req/s", "4 req/s"]


def test_no_latency_chart_without_two_simulated_levels() -> None:
    (run,) = load_serving_runs()
    outputs = copy.deepcopy(run.outputs)
    for lv in outputs["levels"][1:]:
        lv["predicted"]["serving"] = {"error": "DeploymentError: does not fit"}
    sec = bench.build([dataclasses.replace(run, outputs=outputs)], load_catalog())
    assert sec is not None
    names = {c.name for c in sec.parts[0].charts}
    assert "bench-run-1-ttft-load" not in names and "bench-run-1-interactivity" not in names


def test_the_figures_are_written_as_files(tmp_path: Path) -> None:
    report = build_report(load_serving_runs(), load_catalog(), store="sqlite:///runs.sqlite")
    written = write_figures(report, "svg", tmp_path)
    names = {Path(p).name for p in written}
    assert {"bench-run-1-ttft-load.svg", "bench-run-1-interactivity.svg"} <= names
    text = (tmp_path / "bench-run-1-ttft-load.svg").read_text()
    assert "TTFT p99 against request rate" in text and "simulated" in text and "measured" in text


def test_the_accuracy_strip_draws_the_server_rows_too() -> None:
    from tcobench.report.charts import AccuracyChart, ErrorPoint
    from tcobench.report.plots import render

    chart = AccuracyChart("validation", "accuracy", (ErrorPoint("a", "MLPerf", "throughput", 1.3),
                                                     ErrorPoint("b", "MLPerf", "server", 1.4)))
    svg = render(chart, "svg").decode()
    assert ">server<" in svg and ">throughput<" in svg  # both in the legend: the server row is drawn, not dropped

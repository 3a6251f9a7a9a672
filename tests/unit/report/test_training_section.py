"""The report's training section, from real compare --train --save and train --save runs: time vs $ to train per
hardware, scaling efficiency vs chips, and the inference sections leave training comparisons alone."""

from __future__ import annotations

import pytest
from tests.unit.report.conftest import load_training_runs

from tcobench.catalog import load_catalog
from tcobench.report import build_report, render_html
from tcobench.report.charts import LoadChart, TrainCostChart
from tcobench.report.sections import training


@pytest.fixture(scope="module")
def runs():  # type: ignore[no-untyped-def]
    return sorted(load_training_runs(), key=lambda r: r.id)


def test_a_training_comparison_is_drawn_as_time_vs_cost_and_scaling(runs) -> None:  # type: ignore[no-untyped-def]
    compare = runs[0]
    assert compare.command == "compare" and compare.inputs["workload"] == "training"
    sec = training.build([compare], load_catalog())
    assert sec is not None and sec.id == "training"
    part = sec.parts[0]
    cost, scaling = part.charts
    assert isinstance(cost, TrainCostChart) and isinstance(scaling, LoadChart)
    rows = {r["hardware"]: r for r in compare.outputs["rows"]}
    # only hardware with a rent price is on the cost chart (the run ranks by rent); its whisker is the stored range
    assert cost.basis == "rent" and [p.label for p in cost.points] == [h for h, r in rows.items() if r["usd_to_train"]["rent"]]
    h100 = next(p for p in cost.points if p.label == "h100-sxm")
    assert (h100.usd.low, h100.usd.likely, h100.usd.high) == tuple(rows["h100-sxm"]["usd_to_train"]["rent"])
    assert h100.time_s == rows["h100-sxm"]["time_to_train_s"]
    # every hardware's curve starts at 1.0 on its fewest chips; efficiency is tokens/s per chip over that
    for s in scaling.series:
        pts = rows[s.label]["scaling"]
        assert s.y[0] == 1.0 and s.x == tuple(float(p["chips"]) for p in pts)
        assert s.y[-1] == pytest.approx(pts[-1]["tokens_per_s"] / pts[-1]["chips"] / (pts[0]["tokens_per_s"] / pts[0]["chips"]))
    assert "The cheapest is mi300x" not in part.reading  # mi300x misses the 30-day deadline
    assert "mi300x misses the deadline" in part.reading
    worst = min(scaling.series, key=lambda s: s.y[-1])
    assert f"{worst.label} keeps the least" in part.reading


def test_saved_train_runs_make_a_scaling_curve_per_model_and_hardware(runs) -> None:  # type: ignore[no-untyped-def]
    trains = [r for r in runs if r.command == "train"]
    part = training.build(trains, load_catalog()).parts[0]  # type: ignore[union-attr]
    cost, scaling = part.charts
    assert isinstance(cost, TrainCostChart) and len(cost.points) == 4
    assert {p.label for p in cost.points} == {"h100-sxm × 64", "h100-sxm × 256", "h100-sxm × 1,024", "mi300x × 8"}
    (curve,) = scaling.series  # mi300x has one chip count: no curve
    h100 = sorted((r.outputs for r in trains if r.outputs["hardware"] == "h100-sxm"), key=lambda o: o["chips"])
    assert curve.x == (64.0, 256.0, 1024.0)
    assert curve.y[1] == pytest.approx(h100[1]["tokens_per_s_per_chip"] / h100[0]["tokens_per_s_per_chip"])
    assert len(part.tables[0].rows) == 4


def test_training_runs_stay_out_of_the_inference_sections(runs) -> None:  # type: ignore[no-untyped-def]
    rep = build_report(runs, load_catalog(), store="sqlite:///runs.sqlite")
    assert [s.id for s in rep.sections] == ["training"]
    assert len(rep.charts) == 4 and rep.skipped == ()
    html = render_html(rep)
    assert 'id="training"' in html and "Scaling efficiency" in html


def test_saved_runs_of_a_flops_per_sample_workload_are_shown_too() -> None:
    """train --workload --save (BERT, ResNet-50) keeps samples, not tokens, and no memory figure: its runs are points
    and, at two chip counts, a scaling curve in samples/s per chip."""
    import dataclasses

    import tcobench
    from tcobench.records import Provenance, Run

    docs = [tcobench.train_workload("resnet-50", "a100-sxm-80gb", chips=n, samples=4.5e7, price_chip=37500).to_dict()
            for n in (8, 64)]
    base = Run(command="train", provenance=Provenance.PREDICTED, inputs={"workload": "resnet-50"}, outputs={},
               tool_version="0", id=1)
    runs = [dataclasses.replace(base, outputs=d, id=i + 1) for i, d in enumerate(docs)]
    part = training.build(runs, load_catalog()).parts[0]  # type: ignore[union-attr]
    cost, scaling = part.charts
    assert len(cost.points) == 2  # type: ignore[union-attr]
    (curve,) = scaling.series  # type: ignore[union-attr]
    assert curve.label.startswith("resnet-50 on a100-sxm-80gb") and curve.x == (8.0, 64.0)
    assert curve.y[1] == pytest.approx(docs[1]["samples_per_s_per_chip"] / docs[0]["samples_per_s_per_chip"])
    assert [row[1] for row in part.tables[0].rows] == ["resnet-50", "resnet-50"] and "not fit" not in part.reading

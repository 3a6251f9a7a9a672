"""sweep --train: the training grid agrees with ``tcobench train`` on the same layouts, is the same however it is cut,
its Pareto front is the front of every point, and bad input names its flag. On a real Dask cluster:
tests/integration/test_distributed.py."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tcobench
from tcobench.catalog import load_catalog
from tcobench.errors import InputError, MissingInputError
from tcobench.perf.stacks import framework
from tcobench.search.executor import InProcess
from tcobench.search.sweep import run_grid
from tcobench.search.train_sweep import AXES, TrainGrid, listed, parse_choices
from tcobench.search.sweep import parse_axis

CAT = load_catalog()
# the layouts `tcobench train --layout auto` searches for llama-2-7b (32 heads, 32 layers) on 64 x h100-sxm (domain 8)
AUTO = dict(tp="1,2,4,8", pp="1,2,4,8,16,32", cp="1,2,4,8", vpp="1,2,4", zero="1,3", micro_batch="1,2,4,8",
            recompute="none,selective,full")


def test_the_fastest_point_is_the_layout_train_picks_at_the_same_cost() -> None:
    """At one chip count and a fixed global batch every point trains in the same number of steps, so the fastest by
    time to train is train's fastest step; its $ and kWh are train's likely figures."""
    sw = tcobench.sweep_training("llama-2-7b", "h100-sxm", chips=64, global_batch=512, objective="time", top=1, **AUTO)
    tr = tcobench.train("llama-2-7b", "h100-sxm", chips=64, global_batch=512, basis="own")
    row, t = sw.top[0], tr.training
    assert {k: row[k] for k in t.layout} == t.layout
    assert row["step_time_s"] == pytest.approx(t.step_time_s, rel=1e-12)
    assert row["time_to_train_s"] == pytest.approx(tr.cost.time_to_train_s, rel=1e-12)
    assert row["usd_to_train"] == pytest.approx(tr.cost.usd_to_train["own"][1], rel=1e-9)  # type: ignore[index]
    assert row["energy_kwh"] == pytest.approx(tr.cost.energy_kwh[1], rel=1e-9)  # type: ignore[index]
    assert row["mfu"] == pytest.approx(t.mfu, rel=1e-12)


def _grid_and_planes() -> tuple[TrainGrid, list[Any]]:
    axes = {a: parse_axis(v, a) for a, v in dict(chips="8:128:x2", tp="1,2,4", pp="1,2,4", cp="1,2", ep="1", vpp="1,2",
                                                  micro_batch="1,2,4").items()}
    axes["zero"] = parse_choices("1,3", "zero", ("0", "1", "2", "3"))
    axes["recompute"] = parse_choices("none,full", "recompute", ("none", "selective", "full"))
    grid = TrainGrid(CAT.get_model("llama-2-7b"), {a: axes[a] for a in AXES}, fw=framework("megatron"), seq_len=4096,
                     global_batch=None, tokens=1e12, deadline_s=None)
    # the second plane has no price: its cost is NaN (last under 'cost', never on the front); the H100 priced below the
    # MI300X, which trains a little faster than H100 at its sustained bf16 rate, so the time/cost front has a trade-off
    planes = [TrainGrid.plane(CAT.get_hardware(h), p, CAT, usd, 500.0)
              for h, p, usd in (("h100-sxm", "bf16", 7e-4), ("h100-sxm", "fp8", float("nan")), ("mi300x", "bf16", 1e-3))]
    return grid, planes


def _doc(r: Any) -> str:
    return json.dumps([r.evaluated, r.feasible, listed(r.top), listed(r.front)])


@pytest.mark.parametrize("objective", ["cost", "time", "energy"])
@pytest.mark.parametrize("chunk", [37, 500])
def test_tasks_merged_in_order_equal_the_single_loop(objective: str, chunk: int) -> None:
    grid, planes = _grid_and_planes()
    one = run_grid(grid, planes, objective=objective, top_k=12, chunk=100_000)
    cut = run_grid(grid, planes, objective=objective, top_k=12, chunk=chunk, executor=InProcess())
    assert _doc(cut) == _doc(one)
    assert one.evaluated == 3 * grid.per_cand and 0 < one.feasible < one.evaluated
    assert len(one.top["ok"]) == 12 and len(one.front["ok"]) >= 2


def test_the_front_is_the_pareto_front_of_every_feasible_priced_point() -> None:
    grid, planes = _grid_and_planes()
    rows: list[dict[str, np.ndarray]] = []
    res = run_grid(grid, planes, objective="cost", top_k=5, chunk=211, sink=rows.append)
    every = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
    ok = every["ok"] & np.isfinite(every["usd_to_train"].astype(float))
    t, usd = every["time_to_train_s"][ok].astype(float), every["usd_to_train"][ok].astype(float)
    ft, fusd = res.front["time_to_train_s"].astype(float), res.front["usd_to_train"].astype(float)
    for a, b in zip(ft, fusd, strict=True):  # nothing beats a front point on both axes
        assert not np.any((t <= a) & (usd <= b) & ((t < a) | (usd < b)))
    for a, b in zip(t, usd, strict=True):  # every point is matched or beaten by the front
        assert np.any((ft <= a) & (fusd <= b))
    assert set(res.front["hardware"]) <= {"h100-sxm", "mi300x"} and "fp8" not in set(res.front["precision"])
    # chips that tp x pp x cp does not divide are never feasible; the top is sorted by cost
    bad = every["chips"] % (every["tp"] * every["pp"] * every["cp"]) != 0
    assert bad.any() and not (every["ok"] & bad).any()
    assert list(res.top["usd_to_train"]) == sorted(res.top["usd_to_train"])


def test_a_deadline_leaves_only_runs_that_meet_it(tmp_path: Path) -> None:
    free = tcobench.sweep_training("llama-2-7b", "h100-sxm", chips="16:256:x2", objective="cost", top=50)
    times = sorted(r["time_to_train_s"] for r in free.top)
    limit = times[len(times) // 2]
    held = tcobench.sweep_training("llama-2-7b", "h100-sxm", chips="16:256:x2", objective="cost", top=50, deadline=limit,
                                   output=tmp_path / "all.csv")
    assert 0 < held.feasible < free.feasible and held.deadline_s == limit
    assert all(r["time_to_train_s"] <= limit for r in held.top)
    with open(tmp_path / "all.csv", newline="") as fh:
        written = list(csv.DictReader(fh))
    assert len(written) == held.evaluated and sum(r["ok"] == "True" for r in written) == held.feasible
    assert {r["recompute"] for r in written} == {"none", "selective", "full"}


@pytest.mark.parametrize(("kw", "error", "says"), [
    ({}, MissingInputError, "needs chips"),
    ({"chips": "8", "recompute": "ful"}, InputError, "did you mean 'full'"),
    ({"chips": "8", "zero": "4"}, InputError, "zero '4'"),
    ({"chips": "8", "precision": "fp4"}, InputError, "did you mean 'fp8'"),
    ({"chips": "8", "objective": "latency"}, InputError, "objective 'latency'"),
    ({"chips": "8:2"}, InputError, "chips '8:2'"),
    ({"chips": "8", "seq_len": 10**6}, InputError, "seq_len 1000000 exceeds"),
])
def test_bad_input_names_the_parameter(kw: dict[str, Any], error: type[Exception], says: str) -> None:
    with pytest.raises(error) as info:
        tcobench.sweep_training("llama-2-7b", "h100-sxm", **kw)
    assert says in str(info.value)


@pytest.mark.parametrize(("args", "says"), [
    (["--recompute", "ful"], "--recompute 'ful'"),
    (["--precision", "fp4"], "did you mean 'fp8'"),
    (["--batch", "4"], "--batch describes serving"),
    (["--hardware", "h100sxm"], "did you mean 'h100-sxm'"),
])
def test_cli_bad_input_exits_2_with_one_line(cli: Any, args: list[str], says: str) -> None:
    r = cli("sweep", "--train", "--model", "llama-2-7b", "--chips", "8", *args)
    assert r.code == 2 and says in r.err and len(r.err.strip().splitlines()) == 1, r.err


def test_cli_training_flags_need_train_and_json_is_the_api_document(cli: Any) -> None:
    r = cli("sweep", "--model", "llama-2-7b", "--chips", "8")
    assert r.code == 2 and "--chips describes a training job: add --train" in r.err
    args = ["sweep", "--train", "--model", "llama-2-7b", "--hardware", "h100-sxm,mi300x", "--chips", "32:128:x2",
            "--top", "3", "--pareto", "--objective", "time", "--json"]
    doc = json.loads(cli(*args).out)
    api = tcobench.sweep_training("llama-2-7b", "h100-sxm,mi300x", chips="32:128:x2", top=3, pareto=True,
                                  objective="time").to_dict()
    same = ("model", "workload", "tokens", "evaluated", "feasible", "objective", "basis", "top", "pareto")
    assert {k: doc[k] for k in same} == {k: api[k] for k in same}
    assert doc["workload"] == "training" and doc["top"][0]["chips"] == 128
    text = cli(*args[:-1])
    assert text.code == 0 and "top 3 by time to train" in text.out and "Pareto front" in text.out


def test_compare_train_rows_carry_every_chip_count_that_fits() -> None:
    """compare --train keeps, per hardware, each chip count's fastest run (the report's scaling curve): efficiency is
    tokens/s per chip over the fewest chips' and matches tcobench train at that count."""
    from tcobench.api.training import compare_training

    row = compare_training("llama-2-7b", "h100-sxm", max_chips=64, tokens=1e11).rows[0].to_dict()
    pts = row["scaling"]
    assert [p["chips"] for p in pts] == [2, 4, 8, 16, 32, 64] and pts[0]["scaling_efficiency"] == 1.0
    assert row["chips"] in [p["chips"] for p in pts]
    one = tcobench.train("llama-2-7b", "h100-sxm", chips=16, tokens=1e11)
    p16 = next(p for p in pts if p["chips"] == 16)
    assert p16["tokens_per_s"] == pytest.approx(one.training.tokens_per_s, rel=1e-12)
    assert p16["scaling_efficiency"] == pytest.approx((p16["tokens_per_s"] / 16) / (pts[0]["tokens_per_s"] / 2), rel=1e-12)

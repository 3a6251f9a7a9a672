"""tcobench on a real dask.distributed cluster of 2 worker processes, started by the tests: a sweep merged from
the workers' tasks equals the single-process sweep exactly (JSON compared), its Parquet parts hold every point;
compare and plan (served, at a rate, sized by SLO, and --train) on the same cluster equal the single process too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed", reason="the extra tcobench[distributed] is not installed")
pa_parquet = pytest.importorskip("pyarrow.parquet")

import tcobench  # noqa: E402

pytestmark = pytest.mark.slow

GRID = dict(tp="1,2,4", batch="1:96", input_len="128:4096:x2", output_len="128,512", precision="bf16,fp8")
SAME = ("model", "evaluated", "feasible", "objective", "basis", "top", "pareto", "trust")  # all but timing and workers


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  worker_dashboard_address=None, silence_logs=40) as c:
        yield c


def same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert json.dumps({k: a[k] for k in SAME}) == json.dumps({k: b[k] for k in SAME})


@pytest.mark.parametrize("objective", ["cost", "latency"])
def test_sweep_on_two_workers_equals_one_process(cluster: Any, objective: str) -> None:
    one = tcobench.sweep("llama-3.1-8b", "h100-sxm,mi300x,b200", objective=objective, top=25, pareto=True, **GRID)
    two = tcobench.sweep("llama-3.1-8b", "h100-sxm,mi300x,b200", objective=objective, top=25, pareto=True,
                         scheduler=cluster.scheduler_address, chunk=700, **GRID)  # many tasks, cut differently
    assert two.workers == 2 and one.workers is None
    assert one.evaluated == 3 * 2 * 3 * 96 * 6 * 2 and len(one.to_dict()["pareto"]) > 10
    same(two.to_dict(), one.to_dict())


def test_sweep_at_a_rate_on_two_workers_equals_one_process(cluster: Any) -> None:
    """sweep --rate: each top row's simulation is a task too."""
    kw: dict[str, Any] = dict(tp="1,2", batch="1:64", top=6, pareto=True, rate=4, rank="goodput", slo_tpot="30ms")
    one = tcobench.sweep("llama-3.1-8b", "h100-sxm,mi300x", **kw)
    two = tcobench.sweep("llama-3.1-8b", "h100-sxm,mi300x", scheduler=cluster.scheduler_address, **kw)
    assert two.workers == 2 and all("at_rate" in r for r in one.to_dict()["top"])
    same(two.to_dict(), one.to_dict())


def test_cli_sweep_with_workers_and_parquet_parts(cli: Any, tmp_path: Path) -> None:
    args = ["sweep", "--model", "llama-3.1-8b", "--hardware", "h100-sxm,mi300x", "--tp", "1,2", "--batch", "1:64",
            "--input-len", "128:2048:x2", "--top", "7", "--pareto", "--json", "--chunk", "500"]
    one = cli(*args, "--output", str(tmp_path / "one.parquet"))
    two = cli(*args, "--workers", "2", "--output", str(tmp_path / "two.parquet"))
    assert one.code == 0 and two.code == 0, one.err + two.err
    a, b = json.loads(one.out), json.loads(two.out)
    same(a, b)
    assert b["workers"] == 2
    parts = sorted((tmp_path / "two.parquet").glob("part-*.parquet"))
    assert len(parts) > 2
    # the parts, in name order, hold exactly the single file's rows in the same order
    whole = pa_parquet.read_table(tmp_path / "one.parquet")
    joined = pa_parquet.read_table(tmp_path / "two.parquet")  # a folder of parts reads as one table
    assert joined.num_rows == whole.num_rows == a["evaluated"]
    assert joined.to_pydict() == whole.to_pydict()


def test_scheduler_from_the_environment(cli: Any, cluster: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TCOBENCH_SCHEDULER", cluster.scheduler_address)
    r = cli("sweep", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--tp", "1", "--batch", "1:32", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["workers"] == 2


def test_no_scheduler_at_the_address_is_an_input_error(cli: Any) -> None:
    r = cli("sweep", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--tp", "1", "--batch", "1:4",
            "--scheduler", "tcp://127.0.0.1:9")
    assert r.code == 2 and "--scheduler" in r.err and "no Dask scheduler answered" in r.err


# compare and plan on the same cluster: one task per hardware (and per row for the simulations at a rate and the SLO
# sizing); the documents equal the single process's, all but "workers"


def without_workers(doc: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in doc.items() if k != "workers"})


def test_compare_and_plan_on_two_workers_equal_one_process(cluster: Any) -> None:
    hw = "h100-sxm,mi300x,b200,a100-sxm-80gb,gaudi3"
    kw: dict[str, Any] = dict(input_len=1000, output_len=200, slo_ttft="2s", slo_tpot="50ms")
    one = tcobench.compare("mixtral-8x7b", hw, rate=2, rank="good-cost", pareto=True, **kw)
    two = tcobench.compare("mixtral-8x7b", hw, rate=2, rank="good-cost", pareto=True,
                           scheduler=cluster.scheduler_address, **kw)
    assert two.workers == 2 and one.workers is None
    assert sum(r.at_rate is not None for r in one.rows) >= 3 and any(r.pareto for r in one.rows)
    assert without_workers(two.to_dict()) == without_workers(one.to_dict())
    p_one = tcobench.plan("llama-3.1-8b", hw, qps=40, **kw)
    p_two = tcobench.plan("llama-3.1-8b", hw, qps=40, scheduler=cluster.scheduler_address, **kw)
    assert p_two.workers == 2 and any(r.sized_by == "slo p99" for r in p_one.rows)
    assert without_workers(p_two.to_dict()) == without_workers(p_one.to_dict())


@pytest.mark.parametrize("command", [
    ("compare", "--train", "--tokens", "1e11", "--max-chips", "256"),
    ("plan", "--train", "--tokens", "1e11", "--deadline", "7 days", "--max-chips", "256"),
    ("plan", "--qps", "20", "--input-len", "512", "--output-len", "128", "--slo-tpot", "40ms"),
])
def test_cli_compare_and_plan_with_the_scheduler_from_the_environment(cli: Any, cluster: Any, command: tuple[str, ...],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    args = [*command[:1], "--model", "llama-3.1-8b", "--hardware", "h100-sxm,mi300x,tpu-v5p", *command[1:], "--json"]
    one = cli(*args)
    monkeypatch.setenv("TCOBENCH_SCHEDULER", cluster.scheduler_address)
    two = cli(*args)
    assert one.code == 0 and two.code == 0, one.err + two.err
    a, b = json.loads(one.out), json.loads(two.out)
    assert a["workers"] is None and b["workers"] == 2 and len(a["rows"]) == 3
    assert without_workers(a) == without_workers(b)


def test_cli_compare_with_workers_starts_a_local_cluster(cli: Any, cluster: Any) -> None:
    args = ["compare", "--model", "llama-3.1-70b", "--hardware", "h100-sxm,mi300x", "--input-len", "2048",
            "--output-len", "256"]
    one, two = cli(*args, "--json"), cli(*args, "--json", "--workers", "2")
    assert one.code == 0 and two.code == 0, one.err + two.err
    assert json.loads(two.out)["workers"] == 2
    assert without_workers(json.loads(one.out)) == without_workers(json.loads(two.out))
    table = cli(*args, "--scheduler", cluster.scheduler_address)  # the table says where it ran
    assert table.code == 0 and "configurations on 2 Dask workers" in table.out


TRAIN = dict(chips="16:512:x2", tp="1,2,4,8", pp="1,2,4", cp="1,2", micro_batch="1,2,4", precision="bf16,fp8")
TRAIN_SAME = ("model", "workload", "tokens", "evaluated", "feasible", "objective", "basis", "top", "pareto", "price_notes")


@pytest.mark.parametrize("objective", ["cost", "time"])
def test_training_sweep_on_two_workers_equals_one_process(cluster: Any, objective: str) -> None:
    one = tcobench.sweep_training("llama-2-13b", "h100-sxm,mi300x,a100-sxm-80gb", objective=objective, top=20, pareto=True,
                                  **TRAIN)
    two = tcobench.sweep_training("llama-2-13b", "h100-sxm,mi300x,a100-sxm-80gb", objective=objective, top=20, pareto=True,
                                  scheduler=cluster.scheduler_address, chunk=300, **TRAIN)  # many tasks, cut differently
    assert two.workers == 2 and one.workers is None
    assert one.evaluated == 3 * 2 * 6 * 4 * 3 * 2 * 2 * 3 * 3 and one.feasible > 100 and len(one.pareto or []) >= 2
    a, b = one.to_dict(), two.to_dict()
    assert json.dumps({k: a[k] for k in TRAIN_SAME}) == json.dumps({k: b[k] for k in TRAIN_SAME})


def test_cli_training_sweep_with_workers_and_parquet_parts(cli: Any, tmp_path: Path) -> None:
    args = ["sweep", "--train", "--model", "llama-2-7b", "--hardware", "h100-sxm,mi300x", "--chips", "8:256:x2",
            "--top", "7", "--pareto", "--json", "--chunk", "400"]
    one = cli(*args, "--output", str(tmp_path / "one.parquet"))
    two = cli(*args, "--workers", "2", "--output", str(tmp_path / "two.parquet"))
    assert one.code == 0 and two.code == 0, one.err + two.err
    a, b = json.loads(one.out), json.loads(two.out)
    assert json.dumps({k: a[k] for k in TRAIN_SAME}) == json.dumps({k: b[k] for k in TRAIN_SAME})
    assert b["workers"] == 2
    assert len(sorted((tmp_path / "two.parquet").glob("part-*.parquet"))) > 2
    whole = pa_parquet.read_table(tmp_path / "one.parquet")
    joined = pa_parquet.read_table(tmp_path / "two.parquet")
    assert joined.num_rows == whole.num_rows == a["evaluated"]
    assert json.dumps(joined.to_pydict()) == json.dumps(whole.to_pydict())  # as text: invalid points carry NaN

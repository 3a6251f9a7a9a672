"""A sweep cut into tasks and merged equals the single loop, row for row (ties included); the executor's checks;
the default path never imports Dask's distributed scheduler. The same on a real Dask cluster:
tests/integration/test_distributed.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tcobench.catalog import load_catalog
from tcobench.errors import InputError, InstallError
from tcobench.search import candidates
from tcobench.search.executor import InProcess, check_target, connect
from tcobench.search.sweep import (
    Reduction, SweepResult, _best, iter_rows, open_parts, parse_axis, stretch_chunks, sweep,
)

CAT = load_catalog()
SRC = Path(__file__).resolve().parents[3] / "src"


def doc(r: SweepResult) -> str:
    return json.dumps([r.evaluated, r.feasible, list(iter_rows(r.top)), list(iter_rows(r.front))])


def grid() -> dict[str, np.ndarray]:
    return {"tp": parse_axis("1,2", "t"), "pp": parse_axis("1", "p"), "ep": parse_axis("1", "e"),
            "batch": parse_axis("1:48", "b"), "input_len": parse_axis("128:2048:x2", "i"),
            "output_len": parse_axis("64,256", "o")}


@pytest.mark.parametrize("objective", ["cost", "throughput", "latency"])
@pytest.mark.parametrize("chunk", [61, 1000])
def test_tasks_merged_in_order_equal_the_single_loop(objective: str, chunk: int) -> None:
    model = CAT.get_model("llama-3.1-8b")
    cands = candidates([CAT.get_hardware("h100-sxm"), CAT.get_hardware("mi300x")], ["bf16", "fp8"])
    # candidate 2 has no price: its cost is NaN, so under 'cost' many rows tie (at +inf) past the priced ones
    prices = [1e-3, 2e-3, float("nan"), 1e-3]
    kw = dict(catalog=CAT, usd_per_chip_s=prices, objective=objective, top_k=9)
    one = sweep(model, cands, grid(), chunk=100_000, **kw)  # type: ignore[arg-type]
    cut = sweep(model, cands, grid(), chunk=chunk, executor=InProcess(), **kw)  # type: ignore[arg-type]
    assert doc(cut) == doc(one)
    assert one.evaluated == 4 * 2 * 48 * 5 * 2 and len(one.top["ok"]) == 9


def test_ties_go_to_the_earlier_point_whatever_the_cut() -> None:
    """Equal scores: the top-k is the first k points in grid order, whether seen at once or in pieces."""
    score = np.array([3.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0, 0.5])
    rows = {"i": np.arange(score.size), "ok": np.ones(score.size, bool)}
    assert _best(rows, score, 3)["i"].tolist() == [7, 1, 2]
    red = Reduction(3, "latency")
    for lo, hi in [(0, 3), (3, 5), (5, 8)]:  # three chunks, each reduced then merged in order
        part = Reduction(3, "latency")
        part.add({"tpot_s": score[lo:hi], "output_tokens_per_s_per_chip": np.ones(hi - lo), "i": np.arange(lo, hi),
                  "ok": np.ones(hi - lo, bool)})
        red.merge(part.top, part.front)
    assert red.top["i"].tolist() == [7, 1, 2]


def test_task_size() -> None:
    assert stretch_chunks(1000, 2, 1 << 16) == 16  # capped at TASK_POINTS (2**20) points
    assert stretch_chunks(32, 2, 1000) == 2  # about 8 tasks per worker
    assert stretch_chunks(1, 4, 10) == 1


@pytest.mark.parametrize(("workers", "scheduler", "match"), [
    (2, "tcp://127.0.0.1:8786", "give one of them"),
    (0, None, "from 1 to"),
    (None, "not an address", "scheduler's address"),
    (None, "tcp://host", "scheduler's address"),
])
def test_cluster_target_is_checked(workers: int | None, scheduler: str | None, match: str) -> None:
    with pytest.raises(InputError, match=match):
        check_target(workers, scheduler)


def test_no_cluster_is_in_process() -> None:
    assert isinstance(connect(), InProcess)
    check_target(None, "tcp://10.0.0.5:8786")
    check_target(None, "127.0.0.1:8786")


def test_missing_extra_is_an_install_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ModuleNotFoundError
    with pytest.raises(InstallError, match=r"pip install 'tcobench\[distributed\]'"):
        connect(workers=2)


def test_the_default_sweep_never_imports_dask() -> None:
    """tcobench's own import of Dask happens only when a cluster is asked for; pint's import of dask.base (it
    imports it whenever Dask is installed) is kept out by units.py."""
    code = ("import sys\nimport tcobench, tcobench.cli.sweep, tcobench.search.sweep\n"
            "tcobench.sweep('llama-3.1-8b', 'h100-sxm', tp='1', batch='1:4')\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', 'pyarrow')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(SRC)},
                         check=True).stdout
    assert out.strip() == "[]"


def test_dask_still_imports_after_pint_was_loaded_without_it() -> None:
    pytest.importorskip("dask")
    code = ("import tcobench.units, sys\nassert 'dask' not in sys.modules\n"
            "import dask.base, pint.compat\nprint(dask.base.__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(SRC)},
                         check=True).stdout
    assert out.strip() == "dask.base"


def test_parts_folder(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    with pytest.raises(InputError, match=r"ending in \.parquet"):
        open_parts(tmp_path / "all.csv")
    (tmp_path / "file.parquet").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        open_parts(tmp_path / "file.parquet")
    folder = tmp_path / "a" / "out.parquet"
    assert open_parts(folder) == folder and folder.is_dir()
    (folder / "part-000007.parquet").write_text("old")
    (folder / "notes.txt").write_text("mine")
    open_parts(folder)  # an earlier sweep's parts go, nothing else
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]

"""compare, plan and compare --train cut into one task per hardware (and one per row for the simulations at a rate and
the fleet sizing) equal the single-process result exactly, with everything a task takes and returns pickled as Dask
pickles it. The same on a real Dask cluster: tests/integration/test_distributed.py."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import pytest

import tcobench
from tcobench.api.training import compare_training
from tcobench.catalog import load_catalog
from tcobench.cost import OwnParameters
from tcobench.perf.serving import Slo
from tcobench.search import compare, plan
from tcobench.search.compare import CompareRow
from tcobench.search.goodput import rows_at_rate, sweep_rows_at_rate

CAT = load_catalog()
PARAMS = OwnParameters.from_basis(CAT.get_cost("default"))
T = TypeVar("T")
R = TypeVar("R")
C = TypeVar("C")


class Pickled:
    """An executor that runs in this process but, as Dask does, sends the context, each item and each result through
    pickle, and counts the tasks."""

    workers = 2

    def __init__(self) -> None:
        self.tasks = 0

    def map(self, fn: Callable[[C, T], R], items: Iterable[T], context: C) -> Iterator[R]:
        shared = pickle.loads(pickle.dumps(context))
        for item in items:
            self.tasks += 1
            yield pickle.loads(pickle.dumps(fn(shared, pickle.loads(pickle.dumps(item)))))

    def close(self) -> None:
        pass


def rows_json(rows: list[Any]) -> str:
    return json.dumps([r.to_dict() for r in rows])


@pytest.mark.parametrize(("model", "n_in", "n_out", "slo_tpot"), [
    ("llama-3.1-70b", 1024, 256, None),
    ("llama-3.1-8b", 128, 2048, 0.02),
    ("mixtral-8x7b", 512, 512, 0.05),  # MoE: ep in the layouts
])
def test_compare_per_hardware_tasks_equal_the_one_call(model: str, n_in: int, n_out: int, slo_tpot: float | None) -> None:
    """Every catalog chip: a chip's rows evaluated alone (its own task) give the figures of the one stacked call."""
    hw = list(CAT.hardware.values())
    kw: dict[str, Any] = dict(input_len=n_in, output_len=n_out, catalog=CAT, params=PARAMS, slo_tpot=slo_tpot,
                              pareto=True)
    one, n_one = compare(CAT.get_model(model), hw, **kw)
    ex = Pickled()
    cut, n_cut = compare(CAT.get_model(model), hw, executor=ex, **kw)
    assert ex.tasks == len(hw) and n_cut == n_one > 0
    assert sum(r.deployment is not None for r in one) > 5 and any(r.pareto for r in one)
    assert rows_json(cut) == rows_json(one)


def test_rows_at_rate_and_plan_sizing_as_tasks_equal_one_process() -> None:
    model, hw = CAT.get_model("llama-3.1-8b"), [CAT.get_hardware(h) for h in ("h100-sxm", "mi300x", "a100-sxm-80gb")]
    rows, _ = compare(model, hw, input_len=1000, output_len=200, catalog=CAT, params=PARAMS)
    kw: dict[str, Any] = dict(rate=3.0, slo=Slo(2.0, 0.05), input_len=1000, output_len=200)
    ex = Pickled()
    here: list[CompareRow] = rows_at_rate(rows, model, hw, CAT, **kw)
    there = rows_at_rate(rows, model, hw, CAT, executor=ex, **kw)
    assert ex.tasks == len(rows) and all(r.at_rate is not None for r in here if r.deployment is not None)
    assert rows_json(there) == rows_json(here)
    sized: dict[str, Any] = dict(qps=40.0, input_len=1000, output_len=200, catalog=CAT, params=PARAMS, slo_ttft=1.0,
                                 slo_tpot=0.03)
    p_one, n_one = plan(model, hw, **sized)
    p_cut, n_cut = plan(model, hw, executor=Pickled(), **sized)
    assert any(r.sized_by == "slo p99" for r in p_one)  # the simulation ran, in a task
    assert (rows_json(p_cut), n_cut) == (rows_json(p_one), n_one)


def test_sweep_rows_at_rate_as_tasks_equal_one_process() -> None:
    top = tcobench.sweep("llama-3.1-8b", "h100-sxm,mi300x", tp="1,2", batch="1:32", top=4, catalog=CAT).top
    model, hw = CAT.get_model("llama-3.1-8b"), [CAT.get_hardware("h100-sxm"), CAT.get_hardware("mi300x")]
    ex = Pickled()
    here = sweep_rows_at_rate(top, model, hw, CAT, rate=5.0, slo=Slo(None, 0.03))
    there = sweep_rows_at_rate(top, model, hw, CAT, rate=5.0, slo=Slo(None, 0.03), executor=ex)
    assert ex.tasks == 4 and all(r["at_rate"]["goodput_tokens_per_s"] > 0 for r in here)
    assert json.dumps(there) == json.dumps(here)


def test_compare_training_per_hardware_tasks_equal_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """compare --train's hardware run through the executor ``cluster`` gives (here one that pickles)."""
    import contextlib

    from tcobench.api import training

    kw: dict[str, Any] = dict(tokens=1e11, max_chips=64, deadline="30 days", catalog=CAT)
    one = compare_training("llama-3.1-8b", "h100-sxm,mi300x,b200", **kw)
    ex = Pickled()
    monkeypatch.setattr(training, "cluster", lambda workers, address: contextlib.nullcontext(ex))
    cut = compare_training("llama-3.1-8b", "h100-sxm,mi300x,b200", workers=2, **kw)
    assert ex.tasks == 3 and cut.workers == 2 and one.workers is None
    a, b = one.to_dict(), cut.to_dict()
    a.pop("workers"), b.pop("workers")
    assert json.dumps(a) == json.dumps(b) and any(r.training is not None for r in one.rows)


def test_the_api_reports_no_workers_in_one_process() -> None:
    res = tcobench.compare("llama-3.1-8b", "h100-sxm", input_len=128, output_len=128, catalog=CAT)
    assert res.workers is None and res.to_dict()["workers"] is None


def test_measured_comparison_refuses_a_cluster(cli: Any) -> None:
    r = cli("compare", "--model", "llama-3.1-8b", "--measured", "1", "--workers", "2")
    assert r.code == 2 and "--measured" in r.err and "--workers" in r.err


def test_both_targets_at_once_are_refused(cli: Any) -> None:
    r = cli("plan", "--model", "llama-3.1-8b", "--qps", "5", "--workload", "chat", "--workers", "2",
            "--scheduler", "tcp://127.0.0.1:8786")
    assert r.code == 2 and "give one of them" in r.err

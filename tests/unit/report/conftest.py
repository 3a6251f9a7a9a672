"""Fixtures for report tests: saved runs captured from real ``--save`` runs, a store holding them, and
``--update-golden`` (or TCOBENCH_UPDATE_GOLDEN=1) to rewrite tests/golden/report/ on purpose."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from tcobench.records import Provenance, Run
from tcobench.store import Store

DATA = Path(__file__).parent / "data" / "runs.json"
SERVING = Path(__file__).parent / "data" / "serving_runs.json"
GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "report"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="Rewrite golden files under tests/golden/report/.")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden", default=False)) or os.environ.get("TCOBENCH_UPDATE_GOLDEN") == "1"


def load_runs() -> list[Run]:
    """Runs as ``runs export`` wrote them (compare --pareto, predict, bench with a hostile model name, audit, bench
    with --hardware/--model-spec predictions, validate)."""
    return [Run(command=d["command"], provenance=Provenance(d["provenance"]), inputs=d["inputs"], outputs=d["outputs"],
                tool_version=d["tool_version"], created=dt.datetime.fromisoformat(d["created"]), label=d["label"], id=d["id"])
            for d in json.loads(DATA.read_text())]


def load_serving_runs() -> list[Run]:
    """A bench run at four Poisson rates against vLLM's CPU build, each level with the serving simulation of its load
    beside it (benchmarks/serving_load_vllm.py, captured with ``runs export``)."""
    return [Run(command=d["command"], provenance=Provenance(d["provenance"]), inputs=d["inputs"], outputs=d["outputs"],
                tool_version=d["tool_version"], created=dt.datetime.fromisoformat(d["created"]), label=d["label"], id=d["id"])
            for d in json.loads(SERVING.read_text())]


@pytest.fixture
def runs() -> list[Run]:
    return load_runs()


@pytest.fixture
def by_command(runs: list[Run]) -> dict[str, list[Run]]:
    out: dict[str, list[Run]] = {}
    for r in runs:
        out.setdefault(r.command, []).append(r)
    return out


@pytest.fixture
def store(tmp_path: Path, runs: list[Run]) -> Store:
    """A SQLite store holding the captured runs (ids 1..6, in order)."""
    s = Store.open(str(tmp_path / "runs.sqlite"))
    for r in runs:
        assert s.save(Run(command=r.command, provenance=r.provenance, inputs=r.inputs, outputs=r.outputs,
                          tool_version=r.tool_version, created=r.created, label=r.label)) == r.id
    return s


def check_golden(name: str, text: str, update: bool) -> None:
    path = GOLDEN / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    if not path.exists():
        pytest.fail(f"golden file {path} is missing; create it with pytest --update-golden (or TCOBENCH_UPDATE_GOLDEN=1)")
    assert text == path.read_text(), f"{path} differs; if the change is intended, rerun with --update-golden and review the diff"



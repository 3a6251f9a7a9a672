"""Predicted vs published for the workloads known by their FLOPs per sample: the MLPerf Training v1.0 BERT-large and
ResNet-50 rows of ``perf/data/workload_validation.toml``, each run through ``perf.samples`` with the layout its
submission states. The comparison is on MLPerf's time to train: the samples the runs trained, in whole steps, plus
their evaluations (forward passes at the same rate; or, where a row states ``eval_batch``, whole training steps of that
many evaluation samples each, as PopART's BERT evaluates on its training graph). Error = published / predicted - 1, so + means the model is too
fast, as for the LLM training rows."""

from __future__ import annotations

import math
import statistics
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tcobench.catalog import Catalog
from tcobench.errors import CatalogError, TcobenchError
from tcobench.perf.samples import SampleTraining, eval_time, profile, train_samples


class WorkloadRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    ref: str
    source: str
    workload: str
    hardware: str
    chips: int = Field(ge=1)
    dp: int = Field(ge=1)
    pp: int = Field(ge=1)
    accumulation: int = Field(ge=1)
    global_batch: int = Field(ge=1)
    precision: str
    recompute: Literal["none", "full"] = "none"
    imbalance: float = Field(default=1.0, ge=1.0)
    samples: float = Field(gt=0)
    evals: float = Field(ge=0)
    eval_samples: float = Field(ge=0)
    eval_batch: int | None = Field(default=None, ge=1)  # set: each evaluation runs ceil(eval_samples / eval_batch) training steps
    published_min: float = Field(gt=0)
    group: str
    note: str | None = None


@dataclass(frozen=True)
class WorkloadOutcome:
    row: WorkloadRow
    predicted_min: float | None
    error: float | None  # published / predicted - 1 (+: the model is too fast)
    problem: str | None
    training: SampleTraining | None
    vendor: str = ""


def load_rows() -> list[WorkloadRow]:
    path = resources.files("tcobench.perf").joinpath("data/workload_validation.toml")
    rows = []
    for rid, raw in tomllib.loads(path.read_text(encoding="utf-8")).get("row", {}).items():
        try:
            rows.append(WorkloadRow(id=rid, **raw))
        except ValidationError as err:
            e = err.errors()[0]
            raise CatalogError(f"{path}: row.{rid}.{'.'.join(map(str, e['loc']))}: {e['msg']}") from err
    return rows


def eval_steps(row: WorkloadRow) -> float:
    """Training steps the evaluations take where they run on the training graph (``eval_batch``), else 0."""
    return row.evals * math.ceil(row.eval_samples / row.eval_batch) if row.eval_batch is not None else 0.0


def command(row: WorkloadRow) -> str:
    """The ``tcobench train`` command that makes this row's prediction (evaluations on the training graph are
    whole steps, so they ride in ``--samples`` as that many more global batches)."""
    extra = f" --recompute {row.recompute}" if row.recompute != "none" else ""
    samples = row.samples + eval_steps(row) * row.global_batch
    evals = 0.0 if row.eval_batch is not None else row.evals * row.eval_samples
    return (f"tcobench train --workload {row.workload} --hardware {row.hardware} --chips {row.chips} --pp {row.pp} "
            f"--accumulation {row.accumulation} --global-batch {row.global_batch} --precision {row.precision}{extra} "
            f"--samples {samples:.0f} --eval-samples {evals:.0f}")


def predict(row: WorkloadRow, catalog: Catalog) -> tuple[SampleTraining, float]:
    """The row's step and its predicted time to train in seconds (whole steps, then the evaluations)."""
    p = profile(row.workload)
    hw = catalog.get_hardware(row.hardware)
    t = train_samples(p, hw, chips=row.chips, global_batch=row.global_batch, pp=row.pp, accumulation=row.accumulation,
                      precision=row.precision, recompute=row.recompute, imbalance=row.imbalance, catalog=catalog)
    if t.dp != row.dp:
        raise CatalogError(f"row {row.id}: dp {row.dp} but chips / pp = {t.dp}")
    steps = math.ceil(row.samples / t.global_batch)
    if row.eval_batch is not None:  # the evaluation runs the training graph (optimizer zeroed), padded to whole steps
        return t, (steps + eval_steps(row)) * t.step_time_s
    return t, steps * t.step_time_s + eval_time(p, t, row.evals * row.eval_samples)


def run(catalog: Catalog) -> list[WorkloadOutcome]:
    out = []
    for row in load_rows():
        vendor = catalog.hardware[row.hardware].vendor if row.hardware in catalog.hardware else ""
        try:
            t, seconds = predict(row, catalog)
        except TcobenchError as err:
            out.append(WorkloadOutcome(row, None, None, f"{type(err).__name__}: {err.render({})}", None, vendor))
            continue
        minutes = seconds / 60.0
        problem = None if t.validated else "convolution efficiency unvalidated (the GEMM factor)"
        out.append(WorkloadOutcome(row, minutes, row.published_min / minutes - 1.0, problem, t, vendor))
    return out


def summary(outcomes: list[WorkloadOutcome]) -> dict[str, Any]:
    """Medians overall and per group: vendor, workload (the source group) and vendor x workload."""
    errs = [o.error for o in outcomes if o.error is not None]
    groups: dict[str, list[float]] = {}
    for o in outcomes:
        if o.error is not None:
            for key in (f"vendor: {o.vendor}", f"source: {o.row.group}", f"vendor x workload: {o.vendor} {o.row.workload}"):
                groups.setdefault(key, []).append(o.error)
    return {"rows": len(outcomes), "compared": len(errs), "skipped": sum(o.error is None for o in outcomes),
            "median_abs_error": statistics.median(map(abs, errs)) if errs else None,
            "median_error": statistics.median(errs) if errs else None,
            "max_abs_error": max(map(abs, errs)) if errs else None,
            "groups": {k: {"rows": len(v), "median_abs_error": statistics.median(map(abs, v)), "median_error": statistics.median(v)}
                       for k, v in sorted(groups.items())}}


__all__ = ["WorkloadOutcome", "WorkloadRow", "command", "eval_steps", "load_rows", "predict", "run", "summary"]

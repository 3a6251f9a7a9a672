"""Predicted vs published: the reference set in perf/data/validation.toml, run through ``predict``.

Each row is a deployment the source describes plus one published number; the error is reported as
it comes out (signed, predicted / published - 1). Rows that cannot be expressed are listed as skipped.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import statistics
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from tcobench.catalog import Catalog, Hardware
from tcobench.errors import CatalogError, InputError, TcobenchError, close_matches
from tcobench.perf.efficiency import Efficiencies, resolve
from tcobench.perf.finite import finite_run
from tcobench.perf.predict import Prediction, predict

Metric = Literal["output_tokens_per_s", "output_tokens_per_s_per_chip", "ttft_s", "tpot_s", "ms_per_token_amortized",
                 "batch_prefill_s"]


class Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    ref: str
    skip: str | None = None
    source: str = ""
    model: str = ""
    hardware: str = ""
    chips: int = 1
    tp: int = 1
    pp: int = 1
    ep: int = 1
    tp_layout: Literal["1d", "2d"] = "1d"
    batch: int | Literal["auto"] = 1  # with `requests`: the engine's largest batch ("auto": as many as fit)
    requests: int | None = None  # a finite run of this many requests queued at once (perf/finite.py)
    # engine settings the source fixed, as efficiency fields (memory_utilization, prefill_chunk); the row's note derives them
    engine: dict[Literal["memory_utilization", "prefill_chunk"], float] = {}
    # the batch sizes the engine captured decode CUDA graphs at, padding the running batch up to them
    cuda_graph_batches: list[int] | None = None
    input_len: int = 1
    output_len: int = 1
    precision: str = "bf16"
    weights: str | None = None
    kv: str | None = None
    runtime: str | None = None
    # the context the measured engine ran to, where the source ran past the model's own limit (cost is modelled
    # at the lengths run; the row's note says so)
    context: int | None = None
    metric: Metric = "output_tokens_per_s"
    published: float = 0.0
    phase: Literal["throughput", "prefill", "decode"] = "throughput"
    batching: Literal["static", "inflight"] | None = None  # how the measured stack batched (not used by the model)
    note: str | None = None


@dataclass(frozen=True)
class Outcome:
    row: Row
    predicted: float | None
    error: float | None  # predicted / published - 1
    problem: str | None  # why no prediction (infeasible, missing data)
    prediction: Prediction | None


def load_rows() -> list[Row]:
    path = resources.files("tcobench.perf").joinpath("data/validation.toml")
    doc = tomllib.loads(path.read_text())
    rows = []
    for rid, raw in doc.get("row", {}).items():
        try:
            rows.append(Row(id=rid, **raw))
        except ValidationError as err:
            e = err.errors()[0]
            raise CatalogError(f"{path}: row.{rid}.{'.'.join(map(str, e['loc']))}: {e['msg']}") from err
    return rows


def select_rows(rows: list[Row], patterns: Sequence[str]) -> list[Row]:
    """The rows whose id matches any of ``patterns`` (an id, or a shell pattern such as ``azure-*``); all rows
    when none are given. A pattern that matches nothing is an InputError naming ``--row`` and a close id."""
    if not patterns:
        return rows
    ids = [r.id for r in rows]
    for pat in patterns:
        if not fnmatch.filter(ids, pat):
            hint = close_matches(pat, ids)
            raise InputError(f"{{row}} {pat!r} matches no validation row; expected a row id or a pattern such as 'azure-*'"
                             + (f"; did you mean {hint[0]!r}?" if hint else " (tcobench validate lists them)"), params=("row",))
    return [r for r in rows if any(fnmatch.fnmatchcase(r.id, pat) for pat in patterns)]


def predict_command(row: Row) -> str:
    """The ``tcobench predict`` command line that makes this row's prediction (engine settings aside: those
    are efficiency fields, which a hardware file's [efficiency] table sets)."""
    args = ["tcobench predict", f"--model {row.model}", f"--hardware {row.hardware}", f"--chips {row.chips}", f"--tp {row.tp}"]
    args += [f"--tp-layout {row.tp_layout}"] if row.tp_layout != "1d" else []
    args += [f"--pp {row.pp}"] if row.pp != 1 else []
    args += [f"--ep {row.ep}"] if row.ep != 1 else []
    args += [f"--batch {row.batch}"] + ([f"--requests {row.requests}"] if row.requests else [])
    args += [f"--input-len {row.input_len}", f"--output-len {row.output_len}", f"--precision {row.precision}"]
    args += [f"--weights {row.weights}"] if row.weights else []
    args += [f"--kv {row.kv}"] if row.kv else []
    args += [f"--runtime {row.runtime}"] if row.runtime else []
    args += [f"--max-context {row.context}"] if row.context else []
    args += [f"--cuda-graph-batches {','.join(map(str, row.cuda_graph_batches))}"] if row.cuda_graph_batches else []
    return " ".join(args)


def metric_of(p: Prediction, metric: str) -> float:
    if metric == "ms_per_token_amortized":
        return p.tpot_s / p.batch * 1e3
    if metric == "batch_prefill_s":  # a replica's whole batch of prompts: a static batch's first token
        return p.batch * p.input_len * p.replicas / p.prefill_tokens_per_s
    return float(getattr(p, metric))


def _efficiencies(row: Row, hw: Hardware, catalog: Catalog,
                  adjust: Callable[[Efficiencies], Efficiencies] | None) -> Efficiencies | None:
    if not row.engine and adjust is None:
        return None  # predict resolves them itself
    eff = resolve(hw, catalog.efficiency)
    if row.engine:
        fields: dict[str, Any] = {str(k): v for k, v in row.engine.items()}
        eff = dataclasses.replace(eff, **fields, sources={**eff.sources, **{k: f"validation row {row.id}" for k in row.engine}})
    return adjust(eff) if adjust else eff


def run(catalog: Catalog, adjust: Callable[[Efficiencies], Efficiencies] | None = None, *, rows: Sequence[str] = (),
        explain: bool = False) -> list[Outcome]:
    """Predict every row (or those ``rows`` selects, see ``select_rows``). ``adjust`` may rewrite each row's
    resolved efficiencies (a what-if, e.g. the sensitivity study in scripts/validate_sensitivity.py); the
    shipped model never passes it. ``explain`` keeps each prediction's per-operator breakdown."""
    out = []
    for row in select_rows(load_rows(), rows):
        if row.skip:
            out.append(Outcome(row, None, None, f"skipped: {row.skip}", None))
            continue
        try:
            hw = catalog.get_hardware(row.hardware)
            common: dict[str, Any] = {
                "efficiencies": _efficiencies(row, hw, catalog, adjust), "chips": row.chips, "tp": row.tp,
                "tp_layout": row.tp_layout, "pp": row.pp, "ep": row.ep, "input_len": row.input_len, "output_len": row.output_len, "precision": row.precision,
                "weights": row.weights, "kv": row.kv, "catalog": catalog, "max_context": row.context,
                "graph_batches": row.cuda_graph_batches,
                "runtime": catalog.get_runtime(row.runtime, where=f"validation row {row.id}") if row.runtime else None,
                "explain": explain}
            model = catalog.get_model(row.model)
            if row.requests:  # a finite benchmark: waves of at most `batch` (or as many as fit)
                fin = finite_run(model, hw, requests=row.requests, max_batch=None if row.batch == "auto" else int(row.batch),
                                 **common)
                p, value = fin.full, float(getattr(fin, row.metric))
            else:
                p = predict(model, hw, batch=row.batch, **common)
                value = metric_of(p, row.metric)
        except TcobenchError as err:  # named as `tcobench predict` flags: --row ID --explain prints that command
            out.append(Outcome(row, None, None, f"{type(err).__name__}: {err.render({})}", None))
            continue
        problem = p.reason if not p.fits else None
        out.append(Outcome(row, value, value / row.published - 1.0, problem, p))
    return out


# What `validate --by` can group the rows by, and how each outcome is labelled for it.
GROUPS: dict[str, Callable[[Outcome], str]] = {
    "phase": lambda o: o.row.phase,
    "precision": lambda o: f"{o.prediction.activations} matmuls" if o.prediction else o.row.precision,
    "hardware": lambda o: o.row.hardware,
    "runtime": lambda o: o.row.runtime or "default",
    "source": lambda o: o.row.ref.split("-")[0],
    "batching": lambda o: o.row.batching or "unknown",
}


def grouping(by: str) -> list[str]:
    """The GROUPS keys of ``by``: one key, or several joined by commas ("batching,phase")."""
    keys = by.split(",")
    for key in keys:
        if key not in GROUPS:
            hint = close_matches(key, GROUPS)
            raise InputError(f"{{by}} {by!r}: {key!r} is not a grouping; expected one or more of {', '.join(GROUPS)} joined "
                             "by commas" + (f"; did you mean {hint[0]!r}?" if hint else ""), params=("by",))
    return keys


def group_errors(outcomes: list[Outcome], by: str) -> dict[str, dict[str, float | int]]:
    """Median and max absolute error per group of compared rows, by ``grouping(by)``; several keys group by
    each combination ("inflight / throughput")."""
    keys = grouping(by)
    errs: dict[str, list[float]] = {}
    for o in outcomes:
        if o.error is not None:
            errs.setdefault(" / ".join(GROUPS[k](o) for k in keys), []).append(o.error)
    return {k: {"median_abs_error": statistics.median(map(abs, v)), "max_abs_error": max(map(abs, v)),
                "median_error": statistics.median(v), "rows": len(v)} for k, v in errs.items()}


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    errs = [abs(o.error) for o in outcomes if o.error is not None]
    groups = {by: group_errors(outcomes, by) for by in GROUPS}
    return {
        "rows": len(outcomes), "compared": len(errs), "skipped": sum(o.error is None for o in outcomes),
        "median_abs_error": statistics.median(errs) if errs else None, "max_abs_error": max(errs) if errs else None,
        "within_2x": sum(0.5 <= 1 + o.error <= 2.0 for o in outcomes if o.error is not None),
        "by_phase": groups["phase"],  # kept for readers of earlier JSON; the same as groups["phase"]
        "groups": groups,
    }


def track_record(catalog: Catalog, activations: str, kind: str,
                 outcomes: list[Outcome] | None = None) -> dict[str, dict[str, float | int]]:
    """How the model has fared on published results like a prediction at ``activations`` matmuls on a
    ``kind`` of hardware (gpu, tpu, ...): signed error (predicted / published - 1) of those reference rows
    per phase, with their count, for `predict` and `compare` to print beside their numbers. Throughput
    rows are split by how the measured stack batched ("inflight throughput", "static throughput"): the
    model fares differently on the two. ``outcomes``: a ``run(catalog)`` already made (the set runs once
    for several calls)."""
    out: dict[str, list[float]] = {}
    for o in run(catalog) if outcomes is None else outcomes:
        if (o.error is not None and o.prediction is not None and o.prediction.activations == activations
                and catalog.get_hardware(o.row.hardware).kind == kind):
            key = f"{o.row.batching or 'unknown'} throughput" if o.row.phase == "throughput" else o.row.phase
            out.setdefault(key, []).append(o.error)
    return {phase: {"rows": len(e), "median_error": statistics.median(e), "min_error": min(e), "max_error": max(e)}
            for phase, e in out.items()}

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

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from tcobench.catalog import Catalog, Hardware, Model
from tcobench.errors import CatalogError, InputError, TcobenchError, close_matches
from tcobench.perf.capacity import highest_rate
from tcobench.perf.efficiency import Efficiencies, resolve
from tcobench.perf.finite import finite_run
from tcobench.perf.predict import Prediction, engine_cap, predict
from tcobench.perf.serving import ServingResult, Slo
from tcobench.perf.traffic import Traffic

Metric = Literal["output_tokens_per_s", "output_tokens_per_s_per_chip", "ttft_s", "tpot_s", "ms_per_token_amortized",
                 "batch_prefill_s", "batch_e2e_s", "server_output_tokens_per_s", "prefill_tokens_per_s_per_chip",
                 "decode_tokens_per_s_per_chip"]


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
    moe_ep: int | None = None
    redundant_experts: int = 0  # replicas of routed experts beyond the model's own (EPLB), over the moe_ep chips
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
    phase: Literal["throughput", "prefill", "decode", "server"] = "throughput"
    # a "server" row's latency constraints (p99, seconds): its figure is the tokens/s sustained while they hold
    slo_ttft: float | None = None
    slo_tpot: float | None = None
    batching: Literal["static", "inflight"] | None = None  # how the measured stack batched (not used by the model)
    stack: str | None = None  # the serving stack measured, where `runtime` does not say it (stack_of)
    note: str | None = None

    @model_validator(mode="after")
    def _server_fields(self) -> Row:
        """A "server" row and its metric go together, with at least one p99 constraint."""
        if self.skip is None and (self.phase == "server") != (self.metric == "server_output_tokens_per_s"):
            raise ValueError("phase 'server' goes with metric 'server_output_tokens_per_s' and only with it")
        if self.skip is None and self.phase == "server" and self.slo_ttft is None and self.slo_tpot is None:
            raise ValueError("a 'server' row needs slo_ttft or slo_tpot (its p99 constraints, seconds)")
        return self


@dataclass(frozen=True)
class Outcome:
    row: Row
    predicted: float | None
    error: float | None  # predicted / published - 1
    problem: str | None  # why no prediction (infeasible, missing data)
    prediction: Prediction | None
    vendor: str = ""  # the hardware's vendor ("" for a row with no hardware)
    moe: bool | None = None  # the model is a mixture of experts (None: no model)
    kind: str = ""  # the hardware's kind ("gpu", "tpu", "cpu", ...; "" for a row with no hardware)


def stack_of(row: Row) -> str:
    """The serving stack a row measured: its ``stack``, else what its ``runtime`` names, else "unstated"."""
    if row.stack:
        return row.stack
    return "TensorRT-LLM" if (row.runtime or "").startswith("trtllm") else "unstated"


def kind_of(moe: bool | None) -> str:
    return "" if moe is None else "MoE" if moe else "dense"


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


def predict_command(row: Row, serving: ServingResult | None = None) -> str:
    """The ``tcobench predict`` command line that makes this row's prediction (engine settings aside: those
    are efficiency fields, which a hardware file's [efficiency] table sets). For a "server" row with the
    simulation at its capacity (``serving``): one replica at that rate, whose output tokens/s times the replicas
    is the row's figure."""
    if row.phase == "server" and serving is not None and serving.offered_rate is not None:
        one = row.model_copy(update={"chips": row.tp * row.pp * row.ep, "batch": serving.max_seqs, "phase": "throughput"})
        return (predict_command(one) + f" --rate {serving.offered_rate:.6g} --requests {serving.requests}"
                f" --max-seqs {serving.max_seqs} --max-batched-tokens {serving.max_tokens}"
                + (f" --slo-ttft {row.slo_ttft:g}s" if row.slo_ttft is not None else "")
                + (f" --slo-tpot {row.slo_tpot:g}s" if row.slo_tpot is not None else ""))
    args = ["tcobench predict", f"--model {row.model}", f"--hardware {row.hardware}", f"--chips {row.chips}", f"--tp {row.tp}"]
    args += [f"--tp-layout {row.tp_layout}"] if row.tp_layout != "1d" else []
    args += [f"--pp {row.pp}"] if row.pp != 1 else []
    args += [f"--ep {row.ep}"] if row.ep != 1 else []
    args += [f"--moe-ep {row.moe_ep}"] if row.moe_ep is not None else []
    args += [f"--redundant-experts {row.redundant_experts}"] if row.redundant_experts else []
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
    if metric == "batch_e2e_s":  # a static batch from its start to its last token (vLLM's benchmark_latency.py)
        return p.batch * p.output_len * p.replicas / p.output_tokens_per_s
    # prefill/decode disaggregation: an instance that only prefills (its batch of prompts in chunks, back to back) or
    # only decodes (every step at the full batch; its prompts arrive as KV caches from the prefill instances)
    if metric == "prefill_tokens_per_s_per_chip":
        return p.prefill_tokens_per_s / p.chips
    if metric == "decode_tokens_per_s_per_chip":
        return p.batch / p.tpot_s / (p.tp * p.pp * p.ep)
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
        explain: bool = False, server: bool = True) -> list[Outcome]:
    """Predict every row (or those ``rows`` selects, see ``select_rows``). ``adjust`` may rewrite each row's
    resolved efficiencies (a what-if, e.g. the sensitivity study in scripts/validate_sensitivity.py); the
    shipped model never passes it. ``explain`` keeps each prediction's per-operator breakdown. ``server=False``
    leaves out the "server" rows, whose rate bisection is most of the run's time (about 5 s of it on this machine)."""
    out = []
    for row in select_rows(load_rows(), rows):
        if not server and row.phase == "server":
            continue
        vendor = catalog.hardware[row.hardware].vendor if row.hardware in catalog.hardware else ""
        kind = catalog.hardware[row.hardware].kind if row.hardware in catalog.hardware else ""
        moe = (catalog.models[row.model].moe is not None) if row.model in catalog.models else None
        if row.skip:
            out.append(Outcome(row, None, None, f"skipped: {row.skip}", None, vendor, moe, kind))
            continue
        try:
            hw = catalog.get_hardware(row.hardware)
            common: dict[str, Any] = {
                "efficiencies": _efficiencies(row, hw, catalog, adjust), "chips": row.chips, "tp": row.tp,
                "tp_layout": row.tp_layout, "pp": row.pp, "ep": row.ep, "moe_ep": row.moe_ep,
                "redundant_experts": row.redundant_experts, "input_len": row.input_len, "output_len": row.output_len, "precision": row.precision,
                "weights": row.weights, "kv": row.kv, "catalog": catalog, "max_context": row.context,
                "graph_batches": row.cuda_graph_batches,
                "runtime": catalog.get_runtime(row.runtime, where=f"validation row {row.id}") if row.runtime else None,
                "explain": explain}
            model = catalog.get_model(row.model)
            if row.phase == "server":  # the tokens/s sustained while the p99 constraints hold (perf/capacity.py)
                p, value = _server(model, hw, row, common)
            elif row.requests:  # a finite benchmark: waves of at most `batch` (or as many as fit)
                fin = finite_run(model, hw, requests=row.requests, max_batch=None if row.batch == "auto" else int(row.batch),
                                 **common)
                p, value = fin.full, float(getattr(fin, row.metric))
            else:
                p = predict(model, hw, batch=row.batch, **common)
                value = metric_of(p, row.metric)
        except TcobenchError as err:  # named as `tcobench predict` flags: --row ID --explain prints that command
            out.append(Outcome(row, None, None, f"{type(err).__name__}: {err.render({})}", None, vendor, moe, kind))
            continue
        if value is None:  # a server row whose constraints no rate meets
            out.append(Outcome(row, None, None, f"no arrival rate meets p99 TTFT <= {row.slo_ttft} s and TPOT <= "
                               f"{row.slo_tpot} s in the simulation", p, vendor, moe))
            continue
        # a server row's simulation admits requests by the KV cache's room, so the steady state's fit does not apply
        problem = p.reason if not p.fits and row.phase != "server" else None
        out.append(Outcome(row, value, value / row.published - 1.0, problem, p, vendor, moe, kind))
    return out


# Poisson requests simulated per rate tried, for one replica. Near capacity the queue settles slowly, so a short run
# passes rates a long one fails: the rate found for mlperf41-h200x8-server fell from 22.7 to 18.0, 17.0, 16.0 and
# 15.9 requests/s with 1,000, 2,000, 4,000, 8,000 and 16,000 requests (MLPerf's runs last 40 minutes, about
# 36,000 requests a GPU there); 8,000 is within 1 % of 16,000 at half the time.
SERVER_REQUESTS = 8000


def _server(model: Model, hw: Hardware, row: Row, common: dict[str, Any]) -> tuple[Prediction, float | None]:
    """A "server" row: the steady-state prediction at the row's batch, and the output tokens/s of the whole
    deployment at the highest Poisson rate whose simulated p99 TTFT and TPOT meet the row's constraints with the
    queue keeping up (None when none does). One replica is simulated at its share of the rate (the replicas behind
    a round-robin balancer see the same traffic), at ``batch`` sequences (``auto``: as many as fit)."""
    p = predict(model, hw, batch=row.batch, **common)
    limit = engine_cap(common["runtime"])
    seqs = max(1, min(p.max_batch, limit or p.max_batch) if row.batch == "auto" else int(row.batch))
    eff: Efficiencies = common["efficiencies"] or resolve(hw, common["catalog"].efficiency)
    one = {**common, "chips": row.tp * row.pp * row.ep, "explain": False}
    slo = Slo(row.slo_ttft, row.slo_tpot)

    def serve_at(rate: float) -> ServingResult:
        traffic = Traffic.open("poisson", rate, SERVER_REQUESTS, row.input_len, row.output_len)
        q = predict(model, hw, batch=seqs, traffic=traffic, slo_ttft=slo.ttft, slo_tpot=slo.tpot, max_seqs=seqs,
                    max_batched_tokens=max(seqs, int(eff.prefill_chunk)), **one)
        assert q.serving is not None  # predict simulates whenever traffic is given
        return q.serving

    guess = p.output_tokens_per_s / p.replicas / row.output_len  # the steady state's requests/s per replica
    cap = highest_rate(serve_at, slo, guess if guess > 0 else 1.0)
    if cap is None:
        return p, None
    return dataclasses.replace(p, serving=cap.result), cap.result.output_tokens_per_s * p.replicas


def stack_of_outcome(o: Outcome) -> str:
    return stack_of(o.row)


# What `validate --by` can group the rows by, and how each outcome is labelled for it.
GROUPS: dict[str, Callable[[Outcome], str]] = {
    "phase": lambda o: o.row.phase,
    "precision": lambda o: f"{o.prediction.activations} matmuls" if o.prediction else o.row.precision,
    "hardware": lambda o: o.row.hardware,
    "runtime": lambda o: o.row.runtime or "default",
    "source": lambda o: o.row.ref.split("-")[0],
    "batching": lambda o: o.row.batching or "unknown",
    "vendor": lambda o: o.vendor or "unknown",
    "stack": stack_of_outcome,
    "moe": lambda o: kind_of(o.moe) or "unknown",
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


MIN_ROWS = 5  # a group with fewer compared rows than this is unvalidated: its median says little


@dataclass(frozen=True)
class Trust:
    """How far to trust a prediction: the model's signed error (predicted / published - 1) on the published
    results of the group the deployment falls in (its hardware's vendor x dense or MoE), per phase.
    ``validated`` is False when no phase of the group has ``MIN_ROWS`` rows."""

    group: str  # "AMD, dense"
    phases: dict[str, dict[str, float | int]]  # phase key -> rows, median_error, median_abs_error, min_error, max_error
    min_rows: int = MIN_ROWS

    @property
    def validated(self) -> bool:
        return any(int(r["rows"]) >= self.min_rows for r in self.phases.values())

    def phase(self, key: str) -> dict[str, float | int] | None:
        """A phase's record if it has ``min_rows`` rows; else None (unvalidated for that phase)."""
        r = self.phases.get(key)
        return r if r is not None and int(r["rows"]) >= self.min_rows else None

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.group, "validated": self.validated, "min_rows": self.min_rows, "phases": self.phases}


def phase_key(row: Row) -> str:
    """Throughput rows split by how the measured stack batched: the model fares differently on the two."""
    return f"{row.batching or 'unknown'} throughput" if row.phase == "throughput" else row.phase


def trust(outcomes: Sequence[Outcome], vendor: str, moe: bool, kind: str | None = None) -> Trust:
    """The track record of ``vendor`` x dense/MoE in ``outcomes`` (a ``run(catalog)``); with ``kind``, only rows
    on hardware of that kind: a probed AMD CPU is not judged by the MI300X's rows. A CPU group is named as one
    ("AMD CPUs, dense"); the others keep the vendor's name, all of whose validated hardware is of one kind."""
    errs: dict[str, list[float]] = {}
    for o in outcomes:
        if o.error is not None and o.vendor == vendor and o.moe == moe and (kind is None or o.kind == kind):
            errs.setdefault(phase_key(o.row), []).append(o.error)
    phases: dict[str, dict[str, float | int]] = {key: _spread(e) for key, e in errs.items()}
    who = f"{vendor} CPUs" if kind == "cpu" else vendor
    return Trust(f"{who}, {kind_of(moe)}", phases)


def _spread(e: list[float]) -> dict[str, float | int]:
    """Rows, median signed and absolute error, extremes, and the 10th-90th percentile band (linear interpolation,
    docs/metrics.md "Percentiles"): the band a cost range widens by, which one outlying row does not stretch."""
    deciles = statistics.quantiles(e, n=10, method="inclusive") if len(e) > 1 else [e[0]] * 9
    return {"rows": len(e), "median_error": statistics.median(e), "median_abs_error": statistics.median(map(abs, e)),
            "min_error": min(e), "max_error": max(e), "p10_error": deciles[0], "p90_error": deciles[-1]}

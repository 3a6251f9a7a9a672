"""Predicted vs published for training: the rows in perf/data/training_validation.toml, run through ``perf.train``
with the layout each source states. The error is signed, predicted / published - 1, in the row's own metric (a
step time compares inverted, so that + is always "the model is too fast")."""

from __future__ import annotations

import math
import statistics
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from tcobench.catalog import Catalog, Model
from tcobench.errors import CatalogError, TcobenchError
from tcobench.perf import remat
from tcobench.perf.train import Training, train

TrainMetric = Literal["tokens_per_s", "step_time_s", "tflops_megatron2021", "tflops_8n"]


class TrainRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    ref: str
    source: str = ""
    skip: str | None = None
    model: str | None = None
    arch: dict[str, int] | None = None  # a GPT-3-style model of this shape (layers, hidden, heads, vocab)
    hardware: str = ""
    chips: int = 1
    tp: int = 1
    pp: int = 1
    vpp: int = 1
    cp: int = 1
    ep: int = 1  # expert parallelism (MoE rows); the model checks it divides the data-parallel ranks
    zero: int = 1
    zero_group: int | None = None  # hybrid sharding: ZeRO over this many dp ranks, replicated across the rest
    sequence_parallel: bool = True
    micro_batch: int = 1
    global_batch: int = 1
    seq_len: int = 2048
    recompute: Literal["none", "selective", "full", "custom"] = "selective"
    remat: dict[str, str] | None = None  # recompute custom: tensor name -> remat, device or offload (perf.remat)
    precision: str = "bf16"
    framework: str = "megatron"
    metric: TrainMetric = "tokens_per_s"
    published: float = 0.0
    params: float | None = None  # parameters for tflops_8n (the source's count)
    # tokens_per_s over a timed region that includes evaluation (MLPerf): every ``eval_every`` sequences trained,
    # ``eval_sequences`` are evaluated (forward only) in steps of the global batch
    eval_every: int | None = None
    eval_sequences: int | None = None
    group: str = ""
    note: str | None = None


@dataclass(frozen=True)
class TrainOutcome:
    row: TrainRow
    predicted: float | None
    error: float | None  # predicted / published - 1; for step times published / predicted - 1 (+: too fast)
    problem: str | None
    training: Training | None
    vendor: str = ""
    moe: bool = False  # the model is a mixture of experts (GPT-shaped `arch` rows are dense)


def load_rows() -> list[TrainRow]:
    path = resources.files("tcobench.perf").joinpath("data/training_validation.toml")
    rows = []
    for rid, raw in tomllib.loads(path.read_text(encoding="utf-8")).get("row", {}).items():
        try:
            rows.append(TrainRow(id=rid, **raw))
        except ValidationError as err:
            e = err.errors()[0]
            raise CatalogError(f"{path}: row.{rid}.{'.'.join(map(str, e['loc']))}: {e['msg']}") from err
    return rows


def gpt_model(rid: str, arch: dict[str, int], seq_len: int) -> Model:
    """A GPT-3-style decoder of the given shape: learned positions, LayerNorm, biases, a 4h GELU FFN, tied embeddings
    (the Megatron-LM GPT models of Narayanan et al. 2021 and Korthikanti et al. 2022)."""
    h = arch["hidden"]
    return Model(id=f"gpt-{rid}", name=f"GPT ({arch['layers']} x {h})", family="gpt2", source="validation row " + rid,
                 layers=arch["layers"], hidden=h, heads=arch["heads"], ffn="dense", ffn_hidden=4 * h, activation="gelu",
                 vocab=arch["vocab"], tied_embeddings=True, max_context=seq_len, position="learned", norm="layernorm",
                 attention_bias=True, mlp_bias=True)


def command(row: TrainRow) -> str:
    """The ``tcobench train`` command that makes this row's prediction (for catalog models)."""
    model = row.model or f"(a GPT of {row.arch})"
    return (f"tcobench train --model {model} --hardware {row.hardware} --chips {row.chips} --tp {row.tp} --pp {row.pp} "
            f"--vpp {row.vpp} --cp {row.cp} " + (f"--ep {row.ep} " if row.ep > 1 else "") + f"--zero {row.zero} "
            + (f"--zero-group {row.zero_group} " if row.zero_group else "")
            + f"--micro-batch {row.micro_batch} --global-batch {row.global_batch} "
            f"--seq-len {row.seq_len} --recompute {row.recompute} "
            + (f"--remat {remat.parse(row.remat).spec()} " if row.remat else "")
            + f"--precision {row.precision} --framework {row.framework}")


def eval_time_per_step(t: Training, every: int, sequences: int) -> float:
    """Evaluation's share of one training step, when ``sequences`` sequences are evaluated every ``every`` trained:
    every ceil(every / global batch) steps, ceil(sequences / global batch) forward-only steps of the same layout
    (NeMo pads the last evaluation batch to the global batch: ``pad_samples_to_global_batch_size``). A forward-only
    step: the step's forward part, its share of the tensor- and expert-parallel collectives (one pass of the two or
    three the step makes), and the pipeline's fill and drain (a third of the training step's bubble)."""
    passes = 3.0 if t.layout["recompute"] == "full" else 2.0
    p = t.parts
    forward = p["forward"] + (p["tp_comm"] + p["ep_comm"] + p["cp_comm"]) / passes + p["pp_bubble"] / 3.0 + p["pp_send_recv"] / 2.0
    return math.ceil(sequences / t.global_batch) * forward / math.ceil(every / t.global_batch)


def metric_of(t: Training, row: TrainRow, model: Model) -> float:
    tokens = t.global_batch * t.seq_len
    if row.metric == "tokens_per_s":
        if row.eval_every and row.eval_sequences:
            return tokens / (t.step_time_s + eval_time_per_step(t, row.eval_every, row.eval_sequences))
        return t.tokens_per_s
    if row.metric == "step_time_s":
        return t.step_time_s
    if row.metric == "tflops_8n":
        return 8.0 * float(row.params or 0.0) * tokens / (t.step_time_s * t.chips) / 1e12
    # Narayanan et al. 2021, section 5.1: F = 96 B s l h^2 (1 + s / 6h + V / 16 l h) per iteration
    B, s, L, h, V = t.global_batch, t.seq_len, model.layers, model.hidden, model.vocab
    flops = 96.0 * B * s * L * h * h * (1.0 + s / (6.0 * h) + V / (16.0 * L * h))
    return flops / (t.step_time_s * t.chips) / 1e12


def run(catalog: Catalog) -> list[TrainOutcome]:
    out = []
    for row in load_rows():
        vendor = catalog.hardware[row.hardware].vendor if row.hardware in catalog.hardware else ""
        moe = row.model is not None and row.model in catalog.models and catalog.models[row.model].moe is not None
        if row.skip:
            out.append(TrainOutcome(row, None, None, f"skipped: {row.skip}", None, vendor, moe))
            continue
        try:
            model = catalog.get_model(row.model) if row.model else gpt_model(row.id, row.arch or {}, row.seq_len)
            hw = catalog.get_hardware(row.hardware)
            fixed: dict[str, Any] = {"tp": row.tp, "pp": row.pp, "vpp": row.vpp, "cp": row.cp, "ep": row.ep, "zero": row.zero,
                                     "micro_batch": row.micro_batch, "recompute": row.recompute}
            t = train(model, hw, chips=row.chips, seq_len=row.seq_len, global_batch=row.global_batch, precision=row.precision,
                      framework_id=row.framework, fixed=fixed, catalog=catalog, sequence_parallel=row.sequence_parallel,
                      zero_group=row.zero_group,
                      remat=remat.parse(row.remat, f"row {row.id} remat") if row.remat else None)
            value = metric_of(t, row, model)
        except TcobenchError as err:
            out.append(TrainOutcome(row, None, None, f"{type(err).__name__}: {err.render({})}", None, vendor, moe))
            continue
        error = row.published / value - 1.0 if row.metric == "step_time_s" else value / row.published - 1.0
        out.append(TrainOutcome(row, value, error, None if t.fits else t.reason, t, vendor, moe))
    return out


def summary(outcomes: list[TrainOutcome]) -> dict[str, Any]:
    errs = [o.error for o in outcomes if o.error is not None]
    groups: dict[str, list[float]] = {}
    for o in outcomes:
        if o.error is not None:
            for key in (f"vendor: {o.vendor}", f"source: {o.row.group}", f"hardware: {o.row.hardware}",
                        f"kind: {'MoE' if o.moe else 'dense'}"):
                groups.setdefault(key, []).append(o.error)
    return {"rows": len(outcomes), "compared": len(errs), "skipped": sum(o.error is None for o in outcomes),
            "median_abs_error": statistics.median(map(abs, errs)) if errs else None,
            "median_error": statistics.median(errs) if errs else None,
            "max_abs_error": max(map(abs, errs)) if errs else None,
            "groups": {k: {"rows": len(v), "median_abs_error": statistics.median(map(abs, v)), "median_error": statistics.median(v)}
                       for k, v in sorted(groups.items())}}

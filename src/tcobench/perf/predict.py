"""One configuration in, one Prediction out: the scalar face of the vectorised model, with --explain detail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tcobench.catalog import Catalog, Hardware, Model
from tcobench.catalog.schema import Runtime
from tcobench.errors import DeploymentError, InputError, close_matches
from tcobench.perf import precision as prec
from tcobench.perf.chip import Chip, Vec
from tcobench.perf.efficiency import Efficiencies, resolve
from tcobench.perf import reasons
from tcobench.perf.inference import LAYOUTS, Result, evaluate, kv_share, split_2d
from tcobench.perf.memory import max_batch
from tcobench.perf.roofline import BOUND_NAMES
from tcobench.perf.transformer import shape

# Batch sizes tried by --batch auto: powers of two and the midpoints between them, 1 .. 4096.
AUTO_BATCHES = np.unique(np.concatenate([2 ** np.arange(13), 3 * 2 ** np.arange(11)]))
AUTO_BATCHES = AUTO_BATCHES[AUTO_BATCHES <= 4096]


@dataclass(frozen=True)
class OpCost:
    phase: str
    name: str
    count: float
    flops: float  # per chip, all `count` operators
    bytes: float
    time_s: float
    bound: str


@dataclass(frozen=True)
class Prediction:
    model: str
    hardware: str
    chips: int
    tp: int
    pp: int
    ep: int
    tp_layout: str  # "1d" (Megatron-style) or "2d" (weight-stationary over x * yz chips)
    replicas: int
    batch: int
    input_len: int
    output_len: int
    precision: str
    weights: str
    kv: str
    activations: str
    runtime: str
    ttft_s: float
    tpot_s: float
    e2e_s: float
    output_tokens_per_s: float
    output_tokens_per_s_per_chip: float
    prefill_tokens_per_s: float
    mfu_prefill: float
    mfu_decode: float
    mbu_decode: float
    bound_prefill: str
    bound_decode: str
    weights_bytes: float
    kv_cache_bytes: float
    activation_bytes: float
    capacity_bytes: float
    fits: bool
    max_batch: int  # the largest batch per replica that fits in memory at these lengths
    reason: str | None  # why the deployment is infeasible or misses an SLO; None when it is fine
    ops: tuple[OpCost, ...] = field(default=(), repr=False)
    efficiency_sources: dict[str, str] = field(default_factory=dict, repr=False)
    efficiency: dict[str, Any] = field(default_factory=dict, repr=False)  # the factors used (``factors_used``)
    rates: dict[str, str] = field(default_factory=dict)  # tensor-core format of the matmuls, attention and LM head
    graph_batch: int | None = None  # with graph_batches: the padded batch graph-replayed decode steps run at
    graphed_share: float | None = None  # ... and the share of the decode steps that do

    @property
    def interactivity_tokens_per_s(self) -> float:
        return 1.0 / self.tpot_s

    def to_dict(self) -> dict[str, Any]:
        keys = ("model hardware chips tp pp ep tp_layout replicas batch input_len output_len precision weights kv activations runtime ttft_s "
                "tpot_s e2e_s output_tokens_per_s output_tokens_per_s_per_chip prefill_tokens_per_s mfu_prefill mfu_decode "
                "mbu_decode bound_prefill bound_decode reason rates efficiency").split()
        doc = {k: getattr(self, k) for k in keys}
        doc["memory"] = {"weights_bytes": self.weights_bytes, "kv_cache_bytes": self.kv_cache_bytes,
                         "activation_bytes": self.activation_bytes, "capacity_bytes": self.capacity_bytes, "fits": self.fits,
                         "max_batch": self.max_batch}
        if self.graph_batch is not None:
            doc["cuda_graph"] = {"batch": self.graph_batch, "share_of_decode_steps": self.graphed_share}
        return doc


def predict(model: Model, hardware: Hardware, *, chips: int | None = None, tp: int = 1, pp: int = 1, ep: int = 1,
            batch: int | str = 1, input_len: int = 1024, output_len: int = 256, precision: str = "bf16",
            weights: str | None = None, kv: str | None = None, activations: str | None = None,
            slo_ttft: float | None = None, slo_tpot: float | None = None, catalog: Catalog | None = None,
            efficiencies: Efficiencies | None = None, runtime: str | Runtime | None = None, explain: bool = False,
            max_context: int | None = None, tp_layout: str = "1d", graph_batches: Sequence[int] | None = None) -> Prediction:
    """Predict one deployment. ``batch="auto"`` picks the batch (per replica) with the most output tokens/s
    that fits in memory and meets ``slo_ttft``/``slo_tpot`` (seconds). Lengths in tokens. ``runtime`` is a
    catalog runtime id or record (the serving stack's kernel traits; ``default`` when not given); an id is
    looked up as the CLI's ``--runtime``, so callers with their own input names pass the record.
    ``max_context`` replaces the model's own context limit (tokens), for engines run past it.
    ``tp_layout``: "1d" (Megatron-style tensor parallelism) or "2d" (the 2D weight-stationary layout of Pope
    et al. 2022 over the tp chips, with batch-sharded decode attention; docs/model.md).
    ``graph_batches``: batch sizes the engine captured decode CUDA graphs at and pads the running batch up to
    (TensorRT-LLM's cuda_graph_config with enable_padding); None for an engine that does not pad.

    Raises DeploymentError for an impossible layout (TP not dividing heads, chips not a multiple of
    TP x PP x EP) or input + output past the context; a deployment that does not fit comes back with ``fits=False`` and a ``reason``.
    """
    for name, v in (("--tp", tp), ("--pp", pp), ("--ep", ep), ("--input-len", input_len), ("--output-len", output_len)):
        if int(v) < 1:
            raise InputError(f"{name} must be a positive integer, got {v}")
    if tp_layout not in LAYOUTS:
        hint = close_matches(str(tp_layout), LAYOUTS)
        raise InputError(f"--tp-layout {tp_layout!r}: expected one of {', '.join(LAYOUTS)}"
                         + (f"; did you mean {hint[0]!r}?" if hint else ""))
    if graph_batches is not None and (not len(graph_batches) or min(int(b) for b in graph_batches) < 1):
        raise InputError(f"--cuda-graph-batches {','.join(map(str, graph_batches))!r}: expected positive batch sizes, e.g. 1,2,4,8")
    precision = prec.check(precision, "--precision")
    w = prec.check(weights or precision, "--weights")
    k = prec.check(kv or precision, "--kv")
    a = prec.check(activations or precision, "--activations")
    if catalog is None:
        from tcobench.catalog import load_catalog

        catalog = load_catalog()
    if efficiencies is None:
        efficiencies = resolve(hardware, catalog.efficiency)
    stack = runtime if isinstance(runtime, Runtime) else catalog.get_runtime(runtime or "default", where="--runtime")
    attention_16bit = stack.context_attention == "16-bit"
    chip = Chip.of(hardware, prec.compute_precision(w, a), efficiencies, kv=k, attention_16bit=attention_16bit)
    s = shape(model)
    chips = chips or tp * pp * ep
    if chips % (tp * pp * ep):
        raise DeploymentError(f"--chips {chips} is not a multiple of tp x pp x ep = {tp * pp * ep}")
    auto = isinstance(batch, str)
    if auto and batch != "auto":
        raise InputError(f"--batch {batch!r}: expected a positive integer or 'auto'")
    if not auto and int(batch) < 1:
        raise InputError(f"--batch must be a positive integer or 'auto', got {batch}")
    limit = max_context or model.max_context
    if input_len + output_len > limit:
        raise DeploymentError(
            f"--input-len {input_len} + --output-len {output_len} = {input_len + output_len} tokens exceeds {model.id}'s "
            f"maximum context of {limit} tokens; pass --max-context {input_len + output_len} to model the run past it "
            "(engines can run past the trained context; output quality there is not modelled)")
    batches = AUTO_BATCHES if auto else np.array([int(batch)])
    common: dict[str, Any] = dict(input_len=input_len, output_len=output_len, tp=tp, pp=pp, ep=ep, chips=chips,
                  weight_bytes=prec.BYTES[w], kv_bytes=prec.BYTES[k], act_bytes=prec.activation_bytes(a), head_bytes=prec.head_bytes(w),
                  max_context=limit,
                  slo_ttft=np.inf if slo_ttft is None else slo_ttft, slo_tpot=np.inf if slo_tpot is None else slo_tpot,
                  kv_per_query_head=stack.decode_attention == "per-query-head", tp_layout=LAYOUTS[tp_layout],
                  graph_batches=graph_batches)
    r = evaluate(s, chip, batch=batches, **common)
    # (past the context cannot occur here: the lengths were checked above with a message that names them)
    layout = int(np.bitwise_or.reduce(r.code & reasons.Reason.INVALID))
    if layout:
        x, yz = (float(v) for v in split_2d(s, tp))
        where = f"tp={tp} ({tp_layout}, x={x:g} yz={yz:g})" if tp_layout == "2d" else f"tp={tp}"
        raise DeploymentError(f"{model.id} on {chips} x {hardware.id} with {where} pp={pp} ep={ep}: {reasons.text(layout)}")
    if auto:
        score = np.where(r.ok, r.output_tokens_per_s, -np.inf)
        i = int(np.argmax(score)) if np.isfinite(score).any() else 0  # nothing fits: report the smallest batch
    else:
        i = 0
    chosen = int(batches[i])
    r = evaluate(s, chip, batch=chosen, detail=explain, **common)
    kv_per_chip = float(kv_share(s, tp, tp_layout == "2d"))
    biggest = max_batch(s, input_len, output_len, tp, pp, ep, prec.BYTES[w], prec.BYTES[k], prec.activation_bytes(a), kv_per_chip,
                        chip.prefill_chunk, float(chip.mem_cap) * float(chip.mem_util), prec.head_bytes(w))
    rates = prec.rates(prec.compute_precision(w, a), k, [str(p) for p in hardware.peak_dense],
                       sixteen_bit=attention_16bit)
    return _to_prediction(model, hardware, r, chosen, tp, pp, ep, chips, input_len, output_len, precision, w, k, a, efficiencies,
                          biggest, stack.id, tp_layout, rates)


def factors_used(eff: Efficiencies, rates: dict[str, str]) -> dict[str, Any]:
    """The efficiency factors a prediction ran with, per operator class and the format it ran in."""
    out: dict[str, Any] = {}
    for part, streams in (("matmuls", True), ("attention", False), ("lm_head", True)):
        if part in rates:
            p = rates[part]
            out[part] = {"precision": p, "compute": eff.compute_for(p), **({"weight_streaming": eff.memory_for(p)} if streams else {})}
    return {**out, "memory": eff.memory, "overhead_s": eff.overhead, "collective_latency_s": eff.collective_latency,
            "memory_utilization": eff.memory_utilization, "prefill_chunk": eff.prefill_chunk}


def _first(x: Vec) -> float:
    return float(np.asarray(x).reshape(-1)[0])


def _to_prediction(model: Model, hardware: Hardware, r: Result, batch: int, tp: int, pp: int, ep: int, chips: int,
                   input_len: int, output_len: int, precision: str, w: str, k: str, a: str, eff: Efficiencies,
                   biggest: int, runtime: str, tp_layout: str = "1d", rates: dict[str, str] | None = None) -> Prediction:
    f = _first
    ops: list[OpCost] = []
    for phase_name, ph in (("prefill", r.prefill), ("decode", r.decode)):
        if ph is None:
            continue
        for name, count, flops, nbytes, t, bound in ph.ops:
            if f(t) > 0 or f(nbytes) > 0:
                ops.append(OpCost(phase_name, name, f(count), f(flops) * f(count), f(nbytes) * f(count), f(t), BOUND_NAMES[int(f(bound))]))
    return Prediction(
        model=model.id, hardware=hardware.id, chips=int(chips), tp=tp, pp=pp, ep=ep, tp_layout=tp_layout, replicas=int(f(r.replicas)), batch=batch,
        input_len=int(input_len), output_len=int(output_len), precision=precision, weights=w, kv=k, activations=a,
        runtime=runtime, ttft_s=f(r.ttft_s), tpot_s=f(r.tpot_s), e2e_s=f(r.e2e_s), output_tokens_per_s=f(r.output_tokens_per_s),
        output_tokens_per_s_per_chip=f(r.output_tokens_per_s_per_chip), prefill_tokens_per_s=f(r.prefill_tokens_per_s),
        mfu_prefill=f(r.mfu_prefill), mfu_decode=f(r.mfu_decode), mbu_decode=f(r.mbu_decode),
        bound_prefill=BOUND_NAMES[int(f(r.bound_prefill))], bound_decode=BOUND_NAMES[int(f(r.bound_decode))],
        weights_bytes=f(r.weights_bytes), kv_cache_bytes=f(r.kv_cache_bytes), activation_bytes=f(r.activation_bytes),
        capacity_bytes=f(r.capacity_bytes), fits=bool(f(r.fits)), max_batch=int(biggest), reason=reasons.text(int(f(r.code))), ops=tuple(ops),
        efficiency_sources=dict(eff.sources), efficiency=factors_used(eff, rates or {}), rates=dict(rates or {}),
        graph_batch=None if r.graph_batch is None else int(f(r.graph_batch)),
        graphed_share=None if r.graphed_share is None else f(r.graphed_share))

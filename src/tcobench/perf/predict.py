"""One configuration in, one Prediction out: the scalar face of the vectorised model, with --explain detail."""

from __future__ import annotations

import math

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

import numpy as np

from tcobench.catalog import Catalog, Hardware, Model
from tcobench.catalog.schema import Runtime
from tcobench.errors import DeploymentError, InputError, MissingInputError, close_matches
from tcobench.perf import precision as prec
from tcobench.perf import reasons
from tcobench.perf.chip import Chip
from tcobench.perf.deployment import TP_LAYOUTS, Batch, Engine, Formats, Layout, Limits, Padding
from tcobench.perf.efficiency import Efficiencies, resolve
from tcobench.perf.inference import Result, evaluate
from tcobench.perf.layer import kv_share, split_2d
from tcobench.perf.memory import max_batch
from tcobench.perf.reasons import Reason
from tcobench.perf.roofline import BOUND_NAMES
from tcobench.records import Tabular
from tcobench.perf.serving import Scheduler, ServingResult, Slo, serve
from tcobench.perf.steps import ModelSteps, kv_capacity
from tcobench.perf.traffic import Traffic
from tcobench.perf.transformer import Shape, shape

DEFAULT_MAX_SEQS = 256  # vLLM's default max_num_seqs (engine arguments, V1 engine)

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
class Prediction(Tabular):
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
    moe_ep: int | None = None  # chips the routed experts are split over, where not ep (Layout.moe_ep)
    redundant_experts: int = 0  # replicas of routed experts beyond the model's own (Layout.redundant)
    speculative: dict[str, Any] | None = None  # draft tokens, acceptance, draft, tokens per step (with spec_tokens)
    serving: ServingResult | None = None  # under load over time (with traffic): latency percentiles, goodput
    weights_streamed: bool = False  # weights stream in from external memory every pass (wafer-scale, MemoryX-style)
    mbu_stream_decode: float | None = None  # ... and then the stream's use of its bandwidth in a decode step; None otherwise

    @property
    def interactivity_tokens_per_s(self) -> float:
        return 1.0 / self.tpot_s

    def to_rows(self) -> list[dict[str, Any]]:
        """The per-operator breakdown (with ``explain=True``): phase, name, count, FLOPs, bytes, time, bound."""
        return [vars(op).copy() for op in self.ops]

    def to_dict(self) -> dict[str, Any]:
        keys = ("model hardware chips tp pp ep tp_layout replicas batch input_len output_len precision weights kv activations runtime ttft_s "
                "tpot_s e2e_s output_tokens_per_s output_tokens_per_s_per_chip prefill_tokens_per_s mfu_prefill mfu_decode "
                "mbu_decode bound_prefill bound_decode reason rates efficiency").split()
        doc = {k: getattr(self, k) for k in keys}
        if self.moe_ep is not None:
            doc["moe_ep"] = self.moe_ep
        if self.redundant_experts:
            doc["redundant_experts"] = self.redundant_experts
        if self.speculative is not None:
            doc["speculative"] = self.speculative
        doc["memory"] = {"weights_bytes": self.weights_bytes, "kv_cache_bytes": self.kv_cache_bytes,
                         "activation_bytes": self.activation_bytes, "capacity_bytes": self.capacity_bytes, "fits": self.fits,
                         "max_batch": self.max_batch}
        if self.weights_streamed:  # only where it happens, so the JSON of every other chip is unchanged
            doc["memory"]["weights_streamed"] = True
            doc["memory"]["mbu_stream_decode"] = self.mbu_stream_decode
        if self.graph_batch is not None:
            doc["cuda_graph"] = {"batch": self.graph_batch, "share_of_decode_steps": self.graphed_share}
        if self.serving is not None:
            doc["serving"] = self.serving.to_dict()
        return doc


def engine_cap(runtime: Runtime | None) -> int | None:
    """The sequences the stack runs at once when the deployment sets no cap of its own (vLLM's ``max_num_seqs``
    default), or None for a stack with no such default in the catalog."""
    return None if runtime is None or runtime.max_num_seqs is None else int(runtime.max_num_seqs.value)


def stack_chip(hardware: Hardware, compute: str, efficiencies: Efficiencies, stack: Runtime | None, *,
               kv: str | None = None, strict: bool = True) -> Chip:
    """``Chip.of`` as ``stack`` runs it: attention in 16 bits for a stack whose context attention has no narrower
    kernel (``context_attention = "16-bit"``), and every tensor-parallel all-reduce on the collective library's ring
    for a stack without a one-shot kernel (``allreduce = "ring"``). None: the catalog's ``default`` stack's traits."""
    chip = Chip.of(hardware, compute, efficiencies, kv=kv, strict=strict,
                   attention_16bit=stack is not None and stack.context_attention == "16-bit")
    if stack is not None and stack.allreduce == "ring":  # the stack reduces through its collective library only
        chip = replace(chip, ar_latency=float("nan"), ar_bw=float("nan"))
    cores = hardware.cores
    if stack is not None and stack.tensor_parallel == "cores" and cores.count is not None and cores.count.value > 1:
        if cores.bandwidth is None:
            raise MissingInputError(f"{hardware.id} has cores.count = {cores.count.text} but no cores.bandwidth in the "
                                    f"catalog ({hardware.origin}), which stack {stack.id!r} (tensor_parallel = 'cores') "
                                    "needs for its intra-chip all-reduce; add it with a source")
        chip = replace(chip, cores=float(cores.count.value),
                       core_bw=cores.bandwidth.value * efficiencies.collective_bandwidth)
    return chip


def stack_engine(stack: Runtime | None) -> Engine:
    """The engine traits ``stack`` gives every deployment (no CUDA-graph padding, no speculative decoding)."""
    return Engine(stack is not None and stack.decode_attention == "per-query-head", padding=stack_padding(stack))


def stack_padding(stack: Runtime | None) -> Padding | None:
    """The static shapes ``stack`` runs (its catalog buckets and decode KV reads), or None for a stack that pads
    nothing."""
    if stack is None or not stack.static_shapes():
        return None
    return stacks_padding([stack])


def stacks_padding(stacks: Sequence[Runtime | None]) -> Padding:
    """``Padding`` for several stacks at once, one entry per stack (shape (len(stacks), 1), a search's candidate
    axis; a single stack gives floats): a stack without a bucket pads nothing on that dimension."""
    def part_of(name: str, part: str, none: float) -> Any:
        values = [float(getattr(b, part)) if (b := getattr(st, name, None)) is not None else none for st in stacks]
        return values[0] if len(stacks) == 1 else np.array(values)[:, None]

    def plain(values: list[Any]) -> Any:
        return values[0] if len(stacks) == 1 else np.array(values)[:, None]

    return Padding(part_of("decode_batch_bucket", "min", 1.0), part_of("decode_batch_bucket", "step", 0.0),
                   part_of("prompt_bucket", "min", 1.0), part_of("prompt_bucket", "step", 0.0),
                   part_of("kv_block_bucket", "min", 1.0), part_of("kv_block_bucket", "step", 0.0),
                   plain([float(st.block_size) if st is not None and st.block_size else 1.0 for st in stacks]),
                   plain([st is not None and st.decode_kv == "allocated" for st in stacks]),
                   plain([float(st.max_total_tokens) if st is not None and st.max_total_tokens else np.nan for st in stacks]))


def auto_batches(runtime: Runtime | None) -> np.ndarray:
    """The batches ``batch="auto"`` chooses among: AUTO_BATCHES, up to and including the stack's ``engine_cap``."""
    cap = engine_cap(runtime)
    if cap is None:
        return AUTO_BATCHES
    return np.unique(np.append(AUTO_BATCHES[AUTO_BATCHES < cap], cap)).astype(AUTO_BATCHES.dtype)


def predict(model: Model, hardware: Hardware, *, chips: int | None = None, tp: int = 1, pp: int = 1, ep: int = 1,
            batch: int | str = 1, input_len: int = 1024, output_len: int = 256, precision: str = "bf16",
            weights: str | None = None, kv: str | None = None, activations: str | None = None,
            slo_ttft: float | None = None, slo_tpot: float | None = None, catalog: Catalog | None = None,
            efficiencies: Efficiencies | None = None, runtime: str | Runtime | None = None, explain: bool = False,
            max_context: int | None = None, tp_layout: str = "1d", graph_batches: Sequence[int] | None = None,
            moe_ep: int | None = None, redundant_experts: int = 0, spec_tokens: int = 0, acceptance: float | None = None,
            draft: Model | Literal["mtp"] | None = None, traffic: Traffic | None = None, slo_e2e: float | None = None,
            max_seqs: int = DEFAULT_MAX_SEQS, max_batched_tokens: int | None = None, preempt: bool = False) -> Prediction:
    """Predict one deployment. ``batch="auto"`` picks the batch (per replica) with the most output tokens/s
    that fits in memory and meets ``slo_ttft``/``slo_tpot`` (seconds). Lengths in tokens. ``runtime`` is a
    catalog runtime id or record (the serving stack's kernel traits; ``default`` when not given).
    ``max_context`` replaces the model's own context limit (tokens), for engines run past it.
    ``tp_layout``: "1d" (Megatron-style tensor parallelism) or "2d" (the 2D weight-stationary layout of Pope
    et al. 2022 over the tp chips, with batch-sharded decode attention; docs/model.md).
    ``graph_batches``: batch sizes the engine captured decode CUDA graphs at and pads the running batch up to
    (TensorRT-LLM's cuda_graph_config with enable_padding); None for an engine that does not pad.
    ``moe_ep``: the routed experts split over this many of a stage's tp x ep chips (default ep; ``Layout``):
    TensorRT-LLM's ``--tp 8 --ep 8`` on 8 GPUs is ``tp=8, moe_ep=8``. ``redundant_experts``: replicas of routed
    experts beyond the model's own, over the same chips (EPLB; SGLang's ``--ep-num-redundant-experts``): experts +
    redundant must divide by the chips the experts are split over.
    ``spec_tokens``, ``acceptance``, ``draft``: speculative decoding with that many draft tokens per step, each
    accepted with probability ``acceptance`` (required with drafts), proposed by ``draft`` (a model on the same
    chips) or by multi-token-prediction layers (``"mtp"``, the default; ``Engine``).
    ``traffic``: simulate serving it over time (``serving.py``) with vLLM's scheduler at ``max_seqs`` sequences and
    ``max_batched_tokens`` tokens per step (default: the efficiency data's prefill chunk) per replica; the result's
    ``serving`` holds the latency percentiles and, with ``slo_ttft`` / ``slo_tpot`` / ``slo_e2e``, the goodput.
    ``preempt``: admit a request when its prompt fits and preempt (recompute) the newest when the KV cache is full,
    as vLLM does, instead of admitting only requests whose whole context fits (``serving.Scheduler``).

    Raises InputError naming the parameter for a value out of range, DeploymentError for an impossible layout
    (TP not dividing heads, chips not a multiple of TP x PP x EP) or input + output past the context; a
    deployment that does not fit comes back with ``fits=False`` and a ``reason``.
    """
    for name, v in (("tp", tp), ("pp", pp), ("ep", ep), ("input_len", input_len), ("output_len", output_len),
                    ("moe_ep", 1 if moe_ep is None else moe_ep)):
        if int(v) < 1:
            raise InputError(f"{{{name}}} must be a positive integer, got {v}", params=(name,))
    if tp_layout not in TP_LAYOUTS:
        hint = close_matches(str(tp_layout), TP_LAYOUTS)
        raise InputError(f"{{tp_layout}} {tp_layout!r}: expected one of {', '.join(TP_LAYOUTS)}"
                         + (f"; did you mean {hint[0]!r}?" if hint else ""), params=("tp_layout",))
    if int(redundant_experts) < 0:
        raise InputError(f"{{redundant_experts}} must be 0 or a positive integer (expert replicas beyond the model's "
                         f"{model.moe.experts if model.moe else 0} experts), got {redundant_experts}", params=("redundant_experts",))
    if redundant_experts and model.moe is None:
        raise InputError(f"{{redundant_experts}} {redundant_experts}: {model.id} is not a mixture of experts",
                         params=("redundant_experts",))
    if int(spec_tokens) < 0:
        raise InputError(f"{{spec_tokens}} must be 0 (no speculative decoding) or a positive integer, got {spec_tokens}",
                         params=("spec_tokens",))
    if spec_tokens and (acceptance is None or not 0.0 <= float(acceptance) <= 1.0):
        given = "missing" if acceptance is None else repr(acceptance)
        raise InputError(f"{{acceptance}} {given}: with {{spec_tokens}} {spec_tokens}, give the probability that a draft token "
                         "is accepted, between 0 and 1 (it depends on the model, the draft and the text)",
                         params=("acceptance", "spec_tokens"))
    if (acceptance is not None or draft is not None) and not spec_tokens:
        raise InputError("{acceptance} and {draft} describe speculative decoding: give {spec_tokens} too",
                         params=("acceptance", "draft", "spec_tokens"))
    if graph_batches is not None and (not len(graph_batches) or min(int(b) for b in graph_batches) < 1):
        raise InputError(f"{{graph_batches}} {','.join(map(str, graph_batches))!r}: expected positive batch sizes, "
                         "e.g. 1,2,4,8", params=("graph_batches",))
    precision = prec.check(precision, "precision")
    w = prec.check(weights or precision, "weights")
    k = prec.check(kv or precision, "kv")
    a = prec.check(activations or precision, "activations")
    if catalog is None:
        from tcobench.catalog import load_catalog

        catalog = load_catalog()
    if efficiencies is None:
        efficiencies = resolve(hardware, catalog.efficiency)
    stack = runtime if isinstance(runtime, Runtime) else catalog.get_runtime(runtime or "default", where="{runtime}")
    attention_16bit = stack.context_attention == "16-bit"
    chip = stack_chip(hardware, prec.compute_precision(w, a), efficiencies, stack, kv=k)
    s = shape(model)
    chips = chips or tp * pp * ep
    if chips % (tp * pp * ep):
        raise DeploymentError(f"{{chips}} {chips} is not a multiple of tp x pp x ep = {tp * pp * ep}", params=("chips",))
    auto = isinstance(batch, str)
    if auto and batch != "auto":
        raise InputError(f"{{batch}} {batch!r}: expected a positive integer or 'auto'", params=("batch",))
    if not auto and int(batch) < 1:
        raise InputError(f"{{batch}} must be a positive integer or 'auto', got {batch}", params=("batch",))
    limit = max_context or model.max_context
    if input_len + output_len > limit:
        raise DeploymentError(
            f"{{input_len}} {input_len} + {{output_len}} {output_len} = {input_len + output_len} tokens exceeds {model.id}'s "
            f"maximum context of {limit} tokens; pass {{max_context}} {input_len + output_len} to model the run past it "
            "(engines can run past the trained context; output quality there is not modelled)",
            params=("input_len", "output_len", "max_context"))
    layout = Layout(float(tp), float(pp), float(ep), float(chips), tp_layout == "2d", None if moe_ep is None else float(moe_ep),
                    float(redundant_experts))
    formats = Formats.of(w, k, a)
    limits = Limits(limit, np.inf if slo_ttft is None else slo_ttft, np.inf if slo_tpot is None else slo_tpot)
    engine = Engine(stack.decode_attention == "per-query-head", graph_batches, int(spec_tokens), float(acceptance or 0.0),
                    shape(draft) if isinstance(draft, Model) else None, stack_padding(stack))
    candidates = auto_batches(stack)
    work = Batch(candidates if auto else float(batch), float(input_len), float(output_len))
    r = evaluate(s, chip, work, layout, formats, limits=limits, engine=engine, detail=explain and not auto)
    # (past the context cannot occur here: the lengths were checked above with a message that names them)
    invalid = int(np.bitwise_or.reduce(np.ravel(r.code)) & Reason.INVALID)
    if invalid:
        x, yz = (float(v) for v in split_2d(s, tp))
        where = f"tp={tp} ({tp_layout}, x={x:g} yz={yz:g})" if tp_layout == "2d" else f"tp={tp}"
        moe = (f" moe_ep={moe_ep}" if moe_ep is not None else "") + (f" redundant_experts={redundant_experts}"
                                                                     if redundant_experts else "")
        raise DeploymentError(f"{model.id} on {chips} x {hardware.id} with {where} pp={pp} ep={ep}{moe}: {reasons.text(invalid)}")
    i, chosen = 0, int(batch) if not auto else 0
    if auto:
        score = np.where(r.ok, r.output_tokens_per_s, -np.inf)
        i = int(np.argmax(score)) if np.isfinite(score).any() else 0  # nothing fits: report the smallest batch
        chosen = int(candidates[i])
        if explain:  # the per-operator detail of the chosen batch only
            r, i = evaluate(s, chip, replace(work, size=float(chosen)), layout, formats, limits=limits, engine=engine,
                            detail=True), 0
    kv_per_chip = float(kv_share(s, float(tp), tp_layout == "2d"))
    capacity = float(chip.mem_cap) * float(chip.mem_util)
    biggest = max_batch(s, float(input_len), float(output_len), layout, formats, kv_per_chip, float(chip.prefill_chunk), capacity)
    if biggest == 0 and math.isfinite(float(chip.stream_bw)):  # weights streamed: the batch is bounded by KV alone
        biggest = max_batch(s, float(input_len), float(output_len), layout, formats, kv_per_chip, float(chip.prefill_chunk),
                            capacity, streamed=True)
    rates = prec.rates(prec.compute_precision(w, a), k, [str(p) for p in hardware.peak_dense], sixteen_bit=attention_16bit)
    served = None
    if traffic is not None and traffic.n and int((traffic.input_len + traffic.output_len).max()) > limit:
        worst = int(np.argmax(traffic.input_len + traffic.output_len))
        raise DeploymentError(f"a simulated request of {int(traffic.input_len[worst])} + {int(traffic.output_len[worst])} tokens "
                              f"exceeds {model.id}'s maximum context of {limit} tokens; draw shorter lengths "
                              "({input_dist}, {output_dist} or the trace) or pass {max_context}",
                              params=("input_dist", "output_dist", "max_context"))
    if traffic is not None:
        served = _serve(s, chip, layout, formats, engine, traffic, Slo(slo_ttft, slo_tpot, slo_e2e), max_seqs,
                        int(max_batched_tokens or chip.prefill_chunk), graph_batches, preempt, stack)
    return _to_prediction(model, hardware, r, _at(r, i), Choice(chosen, input_len, output_len, biggest, layout, tp_layout, (precision, w, k, a), stack.id,
                                                            efficiencies, rates, _speculative(engine, draft)), served)


def factors_used(eff: Efficiencies, rates: dict[str, str], moe: bool = False) -> dict[str, Any]:
    """The efficiency factors a prediction ran with, per operator class and the format it ran in; for an MoE model
    also the grouped expert GEMM's curve (``layer.grouped_gemm_share``)."""
    out: dict[str, Any] = {}
    if moe:
        out["grouped_gemm"] = {"full_tokens_per_expert": eff.grouped_gemm_full, "loss_per_halving": eff.grouped_gemm_loss,
                               "least_tokens_per_expert": eff.grouped_gemm_least}
    for part, streams in (("matmuls", True), ("attention", False), ("lm_head", True)):
        if part in rates:
            p = rates[part]
            out[part] = {"precision": p, "compute": eff.compute_for(p), **({"weight_streaming": eff.memory_for(p)} if streams else {})}
    return {**out, "memory": eff.memory, "overhead_s": eff.overhead,
            **({"eager_overhead_s": max(eff.eager_overhead, eff.overhead)} if eff.eager_overhead == eff.eager_overhead else {}),
            "collective_latency_s": eff.collective_latency,
            **({"collective_bandwidth": eff.collective_bandwidth} if eff.collective_bandwidth != 1.0 else {}),
            **({"allreduce_latency_s": eff.allreduce_latency, "allreduce_bandwidth_bytes_per_s": eff.allreduce_bandwidth}
               if eff.allreduce_latency == eff.allreduce_latency else {}),
            "memory_utilization": eff.memory_utilization, "prefill_chunk": eff.prefill_chunk}


@dataclass(frozen=True)
class Choice:
    """What ``predict`` settled on besides the model's arrays: the batch, the layout, the formats by name."""

    batch: int
    input_len: int
    output_len: int
    max_batch: int
    layout: Layout
    tp_layout: str
    formats: tuple[str, str, str, str]  # precision, weights, kv, activations
    runtime: str
    efficiencies: Efficiencies
    rates: dict[str, str]
    speculative: dict[str, Any] | None = None


_PHASES = ("prefill", "decode")


def _speculative(engine: Engine, draft: Model | Literal["mtp"] | None) -> dict[str, Any] | None:
    if not engine.spec_tokens:
        return None
    return {"spec_tokens": engine.spec_tokens, "acceptance": engine.acceptance,
            "draft": draft.id if isinstance(draft, Model) else "mtp",
            "tokens_per_step": engine.tokens_per_step()}


def _at(r: Result, i: int) -> dict[str, float | None]:
    """Configuration ``i`` of a result over a batch axis (or its only one): every array field as a float."""
    def pick(x: object) -> float | None:
        if x is None:
            return None
        if isinstance(x, (float, int, np.generic)):
            return float(x)
        a = np.ravel(np.asarray(x))
        return float(a[i if a.size > 1 else 0])

    return {f.name: pick(getattr(r, f.name)) for f in fields(Result) if f.name not in _PHASES}


def _serve(s: Shape, chip: Chip, layout: Layout, formats: Formats, engine: Engine, traffic: Traffic, slo: Slo, max_seqs: int,
           max_tokens: int, graph_batches: Sequence[int] | None, preempt: bool = False,
           stack: Runtime | None = None) -> ServingResult:
    """``traffic`` through the deployment's replicas, step costs from the operator model (``steps.ModelSteps``)."""
    if max_tokens < 1 or max_seqs < 1:
        raise InputError(f"{{max_batched_tokens}} {max_tokens} and {{max_seqs}} {max_seqs} must be positive",
                         params=("max_batched_tokens", "max_seqs"))
    sched = Scheduler(max_tokens, max_seqs, kv_capacity(s, chip, layout, formats, max_tokens, max_seqs), preempt)
    longest = int((traffic.input_len + traffic.output_len).max())
    steps = ModelSteps.build(s, chip, layout, formats, engine, max_tokens=max_tokens, max_seqs=max_seqs, max_context=longest)
    replicas = int(float(layout.chips if layout.chips is not None else layout.replica) // float(layout.replica))
    notes = ["recompute preemption: a request is admitted when its prompt fits; when the KV cache is full the newest "
             "running one is preempted and recomputed later" if preempt else
             "no preemption: a request is admitted when the KV cache holds its whole context (input + output)"]
    if graph_batches is not None:
        notes.append("CUDA-graph padding is not simulated: steps run at the real batch")
    if engine.padding is not None:
        notes.append(f"runtime {stack.id if stack is not None else ''}: decode steps run at its padded batch and read its "
                     "padded KV (static shapes); prompts are not padded in the simulation")
    if replicas > 1:
        notes.append(f"{replicas} replicas behind a round-robin balancer, each simulated on its share")
    if traffic.prefix_len:
        notes.append(f"prefix caching: every prompt shares its first {traffic.prefix_len:,} tokens, computed once and "
                     "then read from the cache in whole blocks of 16 (vLLM's default)")
    frontend = float(stack.frontend.value) if stack is not None and stack.frontend is not None else 0.0
    held = float(stack.held_streams.value) if stack is not None and stack.held_streams is not None else 0.0
    if frontend or held:
        notes.append(f"runtime {stack.id if stack is not None else ''}: {frontend * 1e3:.1f} ms a request outside the engine "
                     f"and {held:.0%} of the streams delivered whole at their last token, as measured for that stack "
                     "(catalog runtimes)")
    else:
        notes.append("the serving stack's own time (HTTP, tokenising, delivering the stream) is not in these latencies: "
                     "the engine's steps only")
    return serve(steps, traffic, sched, slo, replicas, tuple(notes), frontend_s=frontend, held_share=held)


def _to_prediction(model: Model, hardware: Hardware, r: Result, at: dict[str, float | None], c: Choice,
                   served: ServingResult | None = None) -> Prediction:
    def f(name: str) -> float:
        value = at[name]
        assert value is not None, name  # the model always sets it (graph_batch and graphed_share are read apart)
        return value

    ops: list[OpCost] = []
    for phase_name, ph in (("prefill", r.prefill), ("decode", r.decode)):
        if ph is None:
            continue
        for name, count, flops, nbytes, t, bound in ph.ops:
            count, flops, nbytes, t = float(count), float(flops), float(nbytes), float(t)
            if t > 0 or nbytes > 0:
                ops.append(OpCost(phase_name, name, count, flops * count, nbytes * count, t, BOUND_NAMES[int(bound)]))
    lay = c.layout
    precision, w, k, a = c.formats
    return Prediction(
        model=model.id, hardware=hardware.id, chips=int(lay.replica if lay.chips is None else lay.chips), tp=int(lay.tp),
        pp=int(lay.pp), ep=int(lay.ep), tp_layout=c.tp_layout, replicas=int(f("replicas")), batch=c.batch,
        input_len=c.input_len, output_len=c.output_len, precision=precision, weights=w, kv=k, activations=a,
        runtime=c.runtime, ttft_s=f("ttft_s"), tpot_s=f("tpot_s"), e2e_s=f("e2e_s"),
        output_tokens_per_s=f("output_tokens_per_s"), output_tokens_per_s_per_chip=f("output_tokens_per_s_per_chip"),
        prefill_tokens_per_s=f("prefill_tokens_per_s"), mfu_prefill=f("mfu_prefill"), mfu_decode=f("mfu_decode"),
        mbu_decode=f("mbu_decode"), bound_prefill=BOUND_NAMES[int(f("bound_prefill"))],
        bound_decode=BOUND_NAMES[int(f("bound_decode"))], weights_bytes=f("weights_bytes"),
        kv_cache_bytes=f("kv_cache_bytes"), activation_bytes=f("activation_bytes"), capacity_bytes=f("capacity_bytes"),
        fits=bool(f("fits")), max_batch=c.max_batch, reason=reasons.text(int(f("code"))), ops=tuple(ops),
        efficiency_sources={k: v for k, v in c.efficiencies.sources.items() if model.moe is not None or not k.startswith("grouped_gemm")},
        efficiency=factors_used(c.efficiencies, c.rates, model.moe is not None),
        rates=dict(c.rates), graph_batch=None if at["graph_batch"] is None else int(at["graph_batch"]),
        graphed_share=at["graphed_share"], moe_ep=None if lay.moe_ep is None else int(lay.moe_ep),
        redundant_experts=int(lay.redundant),
        speculative=c.speculative, serving=served, weights_streamed=bool(f("streamed")),
        mbu_stream_decode=f("mbu_stream_decode") if bool(f("streamed")) else None)

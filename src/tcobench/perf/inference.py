"""Inference phases, vectorised: prefill -> TTFT, decode steps -> TPOT, continuous batching -> tokens/s.

Every argument of ``evaluate`` may be a NumPy array; results broadcast over all of them. Units: seconds,
bytes, FLOPs, tokens. Per-operator costs are in ``_layer_ops``; the equations are in docs/model.md.

Conventions (docs/model.md has the reasoning):
- TTFT: prefill of one request of ``input_len`` tokens on an otherwise idle replica.
- TPOT: one decode step at ``batch`` sequences per replica, at the mean context of the generation
  (input_len + output_len / 2), so it is the average over the growing context.
- Throughput: continuous batching in steady state; the ``batch`` sequences cost their prompts, prefilled
  together in chunks of ``prefill_chunk`` tokens, and ``output_len`` decode steps:
  tokens/s = batch x output_len / (batched prefill time + output_len x TPOT) per replica.
- Pipeline: a step is split into min(batch, pp) micro-batches; a token crosses every stage once.
- CUDA-graph padding (``graph_batches``): engines that replay decode steps from CUDA graphs captured at a few
  batch sizes pad the running batch up to the next one (TensorRT-LLM's ``cuda_graph_config.enable_padding``).
  Only steps with no prompt in their iteration run from a graph; the model counts the decode steps of a cycle
  that its prefill rounds do not share, and charges those at the padded batch (the padding sequences have no
  context, so attention is the real batch's). TPOT is the mean step.
- Static shapes (``engine.padding``, Gaudi's HPU graphs): a prompt prefills at its padded length (alone for TTFT,
  batched under load), and every decode step runs its matmuls at the padded batch and its attention over the padded
  KV positions (``Padding.decode_positions``: a paged cache's blocks padded to the block bucket, or the whole
  allocated cache of every padded sequence). Throughput, MFU and MBU count the real tokens.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tcobench.perf.chip import Chip
from tcobench.perf.deployment import Batch, Engine, Formats, Layout, Limits
from tcobench.perf.layer import (
    Pass, Split, causal_pairs, collectives, expected_experts, kv_read_per_chip, kv_share, layer_ops, model_flops, windowed,
)
from tcobench.perf.memory import memory_per_chip, streamed_weights
from tcobench.perf.reasons import Reason
from tcobench.perf.roofline import Phase
from tcobench.perf.transformer import Shape
from tcobench.perf.vec import Mask, Vec, isfinite, maximum, minimum, scalar, where



@dataclass(frozen=True)
class Result:
    """Arrays (broadcast over the inputs). Per replica unless the name says deployment or per chip."""

    ttft_s: Vec
    tpot_s: Vec
    e2e_s: Vec
    output_tokens_per_s: Vec  # whole deployment
    output_tokens_per_s_per_chip: Vec
    prefill_tokens_per_s: Vec  # whole deployment
    mfu_prefill: Vec
    mfu_decode: Vec
    mbu_decode: Vec
    bound_prefill: int | NDArray[np.intp]  # 0 compute, 1 memory, 2 communication
    bound_decode: int | NDArray[np.intp]
    weights_bytes: Vec  # per chip
    kv_cache_bytes: Vec
    activation_bytes: Vec
    capacity_bytes: Vec  # usable per chip
    fits: Mask
    code: int | NDArray[np.int32]  # 0 when valid, fits and meets the SLOs; else ``Reason`` flags (perf/reasons.py)
    replicas: Vec
    prefill: Phase | None = None  # per-operator detail when asked for
    decode: Phase | None = None
    graph_batch: Vec | None = None  # with graph_batches: the batch the graph-replayed decode steps run at
    graphed_share: Vec | None = None  # ... and the share of decode steps that do
    streamed: Mask = False  # the weights stream in from external memory every pass (wafer-scale, Chip.stream_bw)
    mbu_stream_decode: Vec | None = None  # where streamed: the weight stream's bytes / (decode step x stream bandwidth)

    @property
    def ok(self) -> Mask:
        return self.code == 0


ONE_CHIP, SIXTEEN_BIT, NO_LIMITS, PLAIN_ENGINE = Layout(), Formats(), Limits(), Engine()


def evaluate(s: Shape, chip: Chip, batch: Batch, layout: Layout = ONE_CHIP, formats: Formats = SIXTEEN_BIT, *,
             limits: Limits = NO_LIMITS, engine: Engine = PLAIN_ENGINE, detail: bool = False) -> Result:
    """Evaluate every configuration the records describe (their fields broadcast together); defaults: one chip,
    16-bit formats, no context limit or SLO, an engine without CUDA-graph padding. ``detail`` keeps the
    per-operator costs of the prefill and the decode step (``Result.prefill`` / ``Result.decode``)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _evaluate(s, chip, batch, layout, formats, limits, engine, detail)


def _evaluate(s: Shape, chip: Chip, batch: Batch, lay: Layout, fmt: Formats, limits: Limits, engine: Engine,
              detail: bool) -> Result:
    B, S_in, S_out = (scalar(x) for x in (batch.size, batch.input_len, batch.output_len))
    tp, pp, ep = (scalar(x) for x in (lay.tp, lay.pp, lay.ep))
    replica = tp * pp * ep
    chips = replica if lay.chips is None else scalar(lay.chips)
    lay = Layout(tp, pp, ep, chips, lay.two_d, None if lay.moe_ep is None else scalar(lay.moe_ep), scalar(lay.redundant))
    replicas = np.floor(chips / replica)
    split = Split.of(s, chip, lay)
    two_d = split.two_d

    kv_prompt = kv_share(s, tp)  # one request's prefill: KV heads split over tp, in either layout
    kv_per_chip = kv_share(s, tp, two_d) if split.any_2d else kv_prompt  # the batch's cache, in decode and in batched prefill

    # Prefill: one request of S_in tokens (causal attention: S_in^2 / 2 query-key pairs).
    pad = engine.padding
    S_pre = S_in if pad is None else pad.prompt(S_in)  # the length a prompt prefills at (padded to its bucket)
    pre = Phase(chip, detail, eager=True)  # engines capture CUDA graphs for decode steps only: a prefill runs eagerly
    local = bool(s.window_layers)  # the model has local-attention layers: their context is capped at its window
    layer_ops(pre, s, Pass(S_pre, 1.0, S_pre * S_pre / 2.0, S_pre, 1.0, S_pre, kv_prompt,
                           local_pairs=causal_pairs(s, S_pre, True) if local else None), lay, fmt, split)
    collectives(pre, s, S_pre, lay, fmt, split)
    ttft = pre.time

    # Decode: one step at B sequences, split into m micro-batches; per attention group B/(m ep) tokens.
    m = minimum(B, pp)
    t_group = B / (m * ep)
    ctx = S_in + S_out / 2.0
    dec = Phase(chip, detail)
    kv_read_elems = kv_read_per_chip(s, tp, kv_per_chip, engine.kv_per_query_head)
    if engine.spec_tokens > 0:  # speculative decoding: verify k drafts + 1 per sequence, then draft k for the next step
        dec = _speculative_step(s, chip, t_group, ctx, kv_per_chip, kv_read_elems, lay, fmt, split, engine, detail)
    else:
        near = t_group * windowed(s, ctx) if local else None
        t_run, positions = t_group, t_group * ctx  # tokens the step's matmuls run; KV positions its attention reads
        if pad is not None:  # static shapes: the padded batch, and the padded KV positions
            t_run = pad.batch(B) / (m * ep)
            positions = pad.decode_positions(t_group, t_run, S_in, S_out)
        layer_ops(dec, s, Pass(t_run, ep, positions, positions, t_run, t_run, kv_per_chip, kv_read_elems,
                               near, near), lay, fmt, split)
        collectives(dec, s, t_run, lay, fmt, split, two_d)
    # Each stage runs its L/pp layers for m micro-batches per step (m x L/pp layer-times), and a micro-batch
    # crosses pp stages (pp x L/pp): with m <= pp the step takes L layer-times of one micro-batch.
    tpot = dec.time / engine.tokens_per_step()

    # Prefill under load: engines batch the prompts of many requests into chunks of up to `prefill_chunk`
    # tokens (vLLM's max_num_batched_tokens); each attention group takes one chunk at a time, and with
    # pp > 1 the chunks flow through the stages as a pipeline (fill + drain of pp - 1 chunks).
    chunk = minimum(chip.prefill_chunk, B * S_pre / ep)
    rounds = B * S_pre / (chunk * ep)
    pch = Phase(chip, False, eager=True)
    layer_ops(pch, s, Pass(chunk, ep, chunk * S_pre / 2.0, chunk + maximum(S_pre - chunk, 0.0) / 2.0, chunk / S_pre,
                           chunk, kv_per_chip, None,
                           chunk * windowed(s, S_pre / 2.0) if local else None,
                           chunk + windowed(s, maximum(S_pre - chunk, 0.0) / 2.0) if local else None), lay, fmt, split)
    collectives(pch, s, chunk, lay, fmt, split, two_d)
    prefill_batch = pch.time * (rounds + pp - 1.0) / pp

    graph_batch = graphed = None
    if engine.graph_batches is not None and engine.spec_tokens == 0:  # decode steps with no prompt beside them replay a graph at the padded batch
        sizes = np.sort(np.asarray(engine.graph_batches, dtype=float))
        graph_batch = np.where(B <= sizes[-1], sizes[np.minimum(np.searchsorted(sizes, B), sizes.size - 1)], B)
        t_pad = graph_batch / (m * ep)
        padded = Phase(chip, False)
        near = t_group * windowed(s, ctx) if local else None
        layer_ops(padded, s, Pass(t_pad, ep, t_group * ctx, t_group * ctx, t_pad, t_pad, kv_per_chip, kv_read_elems,
                                  near, near), lay, fmt, split)
        collectives(padded, s, t_pad, lay, fmt, split, two_d)
        graphed = np.clip(1.0 - rounds / S_out, 0.0, 1.0)  # the other steps share an iteration with a prefill round
        tpot = graphed * padded.time + (1.0 - graphed) * tpot

    # Weight streaming (wafer-scale, MemoryX-style): where the weights do not fit the on-wafer memory and the
    # chip can stream them, every pass over the model (one decode step for the whole batch, one prefill or
    # prefill chunk) brings this chip's weights in over the external I/O once, overlapped with compute, so a
    # pass takes at least weights / stream bandwidth, and the batch amortises that stream.
    w_res, kv, act = memory_per_chip(s, B, S_in, S_out, lay, fmt, kv_per_chip, chip.prefill_chunk)
    capacity = chip.mem_cap * chip.mem_util
    streamed = np.logical_and(np.logical_not((w_res + kv + act) <= capacity), np.isfinite(chip.stream_bw))
    w = where(streamed, streamed_weights(s, w_res, pp), w_res)
    fits = (w + kv + act) <= capacity
    stream = where(streamed, w_res / chip.stream_bw, 0.0)
    bound_prefill = _stream_bound(pre.bound(), stream > ttft)  # the weight stream is memory traffic (from MemoryX)
    bound_decode = _stream_bound(dec.bound(), stream / engine.tokens_per_step() > tpot)
    ttft = maximum(ttft, stream)
    tpot = maximum(tpot, stream / engine.tokens_per_step())
    prefill_batch = maximum(pch.time, stream) * (rounds + pp - 1.0) / pp

    e2e = ttft + maximum(S_out - 1.0, 0.0) * tpot
    cycle = prefill_batch + S_out * tpot
    per_replica = B * S_out / cycle
    out_tps = per_replica * replicas
    per_chip = out_tps / chips
    prefill_tps = replicas * B * S_in / prefill_batch

    peak_replica = chip.peak * replica
    mfu_prefill = model_flops(s, S_in, S_in * S_in / 2.0, 1.0, causal_pairs(s, S_in, True)) / (ttft * peak_replica)
    mfu_decode = model_flops(s, B, B * ctx, B, B * windowed(s, ctx)) / (tpot * peak_replica)
    # bytes that must move per step: every body weight a token touches once, the LM head (the embedding
    # table is only looked up), and the whole KV cache read once
    wb, kvb, hb = fmt.weights, fmt.kv, fmt.head_bytes
    routed = s.moe_layers * expected_experts(s, B) * s.expert_params if s.moe_layers else 0.0
    touched = s.total_params - s.expert_total - s.head_params + routed
    if local:
        kv_positions = ctx * (s.layers - s.window_layers) + windowed(s, ctx) * s.window_layers
        must_move = touched * wb + s.lm_head_params * hb + B * kv_positions * s.kv_elems * kvb
    else:
        must_move = touched * wb + s.lm_head_params * hb + B * ctx * s.kv_elems * s.layers * kvb
    mbu_decode = must_move / (tpot * engine.tokens_per_step() * chip.mem_bw * replica)  # per step: a speculative one yields several
    # while weights stream, MBU against the on-wafer SRAM says little (the SRAM idles): the memory that binds is the
    # external stream, so its use is reported too, the same ratio with the stream's bytes and bandwidth (NaN elsewhere)
    mbu_stream = where(streamed, stream / (tpot * engine.tokens_per_step()), np.nan) if np.any(streamed) else None

    code = _reasons(s, chip, B, S_in, S_out, lay, split, limits, fits, ttft, tpot)

    return Result(ttft_s=ttft, tpot_s=tpot, e2e_s=e2e, output_tokens_per_s=out_tps, output_tokens_per_s_per_chip=per_chip,
                  prefill_tokens_per_s=prefill_tps, mfu_prefill=mfu_prefill, mfu_decode=mfu_decode, mbu_decode=mbu_decode,
                  bound_prefill=bound_prefill, bound_decode=bound_decode, weights_bytes=w, kv_cache_bytes=kv,
                  activation_bytes=act, capacity_bytes=capacity, fits=fits, code=code, replicas=replicas,
                  prefill=pre if detail else None, decode=dec if detail else None, graph_batch=graph_batch, graphed_share=graphed,
                  streamed=streamed, mbu_stream_decode=mbu_stream)


def _stream_bound(bound: int | NDArray[np.intp], streaming: Mask) -> int | NDArray[np.intp]:
    """``bound`` with "memory" (1) wherever the weight stream, not the operators, sets the pass's time."""
    if not np.any(streaming):
        return bound
    return np.asarray(np.where(streaming, 1, bound), dtype=np.intp)


def _speculative_step(s: Shape, chip: Chip, t_group: Vec, ctx: Vec, kv_per_chip: Vec, kv_read_elems: Vec, lay: Layout,
                      fmt: Formats, split: Split, engine: Engine, detail: bool) -> Phase:
    """One speculative step: the target verifies k drafts and its own next token for every sequence (k + 1 tokens
    each, the context's KV read once), and the draft proposes the next k, one token per sequence at a time. Its
    operators are the draft's with a ``draft_`` prefix, counted k times."""
    k = engine.spec_tokens
    v = float(k + 1)
    step = Phase(chip, detail)
    near = windowed(s, ctx) if s.window_layers else None
    layer_ops(step, s, Pass(t_group * v, lay.ep, t_group * v * ctx, t_group * ctx, t_group * v, t_group * v, kv_per_chip,
                            kv_read_elems, None if near is None else t_group * v * near,
                            None if near is None else t_group * near), lay, fmt, split)
    collectives(step, s, t_group * v, lay, fmt, split, split.two_d)
    ds = engine.draft if engine.draft is not None else mtp_shape(s)
    draft = Phase(chip, detail)
    kv_draft = kv_share(ds, lay.tp)
    dn = t_group * windowed(ds, ctx) if ds.window_layers else None
    layer_ops(draft, ds, Pass(t_group, lay.ep, t_group * ctx, t_group * ctx, t_group, t_group, kv_draft, None, dn, dn),
              lay, fmt, split)
    collectives(draft, ds, t_group, lay, fmt, split, split.two_d)
    step.time = step.time + k * draft.time
    step.by_bound = [a + k * b for a, b in zip(step.by_bound, draft.by_bound, strict=True)]
    step.ops.extend((f"draft_{name}", count * k, flops, nbytes, t * k, bound) for name, count, flops, nbytes, t, bound in draft.ops)
    return step


def mtp_shape(s: Shape) -> Shape:
    """A multi-token-prediction draft: one transformer layer of the target (MoE if the target's are), sharing its
    embedding and LM head."""
    moe = 1 if s.moe_layers else 0
    return dataclasses.replace(s, layers=1, dense_layers=1 - moe, moe_layers=moe, window_layers=0)


# the flags as plain ints: an IntFlag in NumPy or int arithmetic costs a Python-level call per operation
(_TP_HEADS, _TP_KV_HEADS, _LAYOUT_2D, _CHIPS_LAYOUT, _PP_LAYERS, _EP_EXPERTS, _NO_PEAK, _NO_LINK, _CONTEXT, _MEMORY, _TTFT_SLO,
 _TPOT_SLO) = (int(f) for f in (Reason.TP_HEADS, Reason.TP_KV_HEADS, Reason.LAYOUT_2D, Reason.CHIPS_LAYOUT, Reason.PP_LAYERS,
                                Reason.EP_EXPERTS, Reason.NO_PEAK, Reason.NO_LINK, Reason.CONTEXT, Reason.MEMORY,
                                Reason.TTFT_SLO, Reason.TPOT_SLO))


def _reasons(s: Shape, chip: Chip, B: Vec, S_in: Vec, S_out: Vec, lay: Layout, split: Split, limits: Limits, fits: Mask,
             ttft: Vec, tpot: Vec) -> int | NDArray[np.int32]:
    """``Reason`` flags of every configuration: an int32 array, or an int for one configuration."""
    # Boolean algebra over floats, bools and arrays alike, which NumPy's stubs cannot follow: typed Any here only.
    tp: Any = lay.tp
    pp: Any = lay.pp
    ep: Any = lay.ep
    replica: Any = lay.replica
    chips: Any = replica if lay.chips is None else lay.chips
    two_d: Any = split.two_d
    one_d = (not two_d) if isinstance(two_d, bool) else ~two_d
    scalar_case = all(isinstance(x, float) for x in (B, S_in, S_out, tp, pp, ep, chips, ttft, tpot))
    code: Any = 0 if scalar_case else np.zeros(np.broadcast(B, S_in, S_out, tp, pp, ep, chips, ttft, tpot).shape, dtype=np.int32)
    code |= where(one_d & (s.heads % tp != 0), _TP_HEADS, 0)
    if not s.kv_replicated:
        code |= where(one_d & (s.kv_heads % tp != 0) & (tp % s.kv_heads != 0), _TP_KV_HEADS, 0)
    if split.any_2d:
        code |= where(two_d & ((s.moe_layers > 0) | (tp % split.x != 0) | (s.heads % split.yz != 0)), _LAYOUT_2D, 0)
    code |= where((chips % replica != 0) | (chips < replica), _CHIPS_LAYOUT, 0)
    code |= where(pp > s.layers, _PP_LAYERS, 0)
    moe_ep: Any = ep if lay.moe_ep is None else lay.moe_ep
    extra: Any = lay.redundant  # redundant expert replicas: the physical experts are experts + redundant
    code |= where((ep > 1) & (s.moe_layers == 0) | (moe_ep > 1) & ((s.moe_layers == 0) | ((max(s.experts, 1) + extra) % moe_ep != 0)
                                                                  | ((tp * ep) % moe_ep != 0))
                  | (extra > 0) & ((s.moe_layers == 0) | (moe_ep == 1)), _EP_EXPERTS, 0)
    code |= where(isfinite(chip.peak), 0, _NO_PEAK)
    code |= where((replica > 1) & (isfinite(split.bw_pp) == False) | (tp * ep > 1) & (isfinite(split.bw_group) == False),  # noqa: E712
                  _NO_LINK, 0)
    code |= where(S_in + S_out > limits.max_context, _CONTEXT, 0)
    code |= where(fits, 0, _MEMORY)
    code |= where(ttft <= limits.slo_ttft, 0, _TTFT_SLO)
    code |= where(tpot <= limits.slo_tpot, 0, _TPOT_SLO)
    return code  # type: ignore[no-any-return]

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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tcobench.perf import comm
from tcobench.perf.chip import Chip, Vec
from tcobench.perf.memory import memory_per_chip
from tcobench.perf.reasons import Reason
from tcobench.perf.roofline import Phase
from tcobench.perf.transformer import Shape

LAYOUTS = {"1d": 0, "2d": 1}  # tensor-parallel layouts: Megatron-style 1D, 2D weight-stationary (docs/model.md)


def split_2d(s: Shape, tp: Vec) -> tuple[Vec, Vec]:
    """(x, yz) of the 2D weight-stationary layout on ``tp`` chips: d_model over x, d_ff and heads over yz.
    x = sqrt(tp x d_model / d_ff), to the nearest power of two within [1, tp], the split that minimises the
    per-chip traffic 2 T (d_model / x + d_ff / yz) (Pope et al. 2022, section 3.2.2)."""
    tp = np.asarray(tp, dtype=float)
    x = np.clip(2.0 ** np.round(0.5 * np.log2(tp * s.hidden / max(s.ffn_width, 1))), 1.0, tp)
    return x, tp / x


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
    bound_prefill: Vec  # 0 compute, 1 memory, 2 communication
    bound_decode: Vec
    weights_bytes: Vec  # per chip
    kv_cache_bytes: Vec
    activation_bytes: Vec
    capacity_bytes: Vec  # usable per chip
    fits: Vec
    code: Vec  # 0 when valid, fits and meets the SLOs; else ``Reason`` flags (perf/reasons.py)
    replicas: Vec
    prefill: Phase | None = None  # per-operator detail when asked for
    decode: Phase | None = None
    graph_batch: Vec = None  # with graph_batches: the batch the graph-replayed decode steps run at
    graphed_share: Vec = None  # ... and the share of decode steps that do

    @property
    def ok(self) -> Vec:
        return self.code == 0


def _layer_ops(ph: Phase, s: Shape, tokens: Vec, groups: Vec, pairs: Vec, kv_read: Vec, lm_tokens: Vec, tp: Vec, ep: Vec,
              wb: Vec, kvb: Vec, ab: Vec, kv_per_chip: Vec, write_kv: Vec, hb: Vec, kv_read_elems: Vec = None,
              h_mm: Vec = None, h_ew: Vec = None) -> None:
    """Add one forward pass over every layer (per chip) to ``ph``.

    tokens: tokens per attention group in this pass; groups: attention groups working at once (their
    tokens meet in the routed experts); pairs: (query, context) pairs per group for attention;
    kv_read: token positions whose K/V are read (FlashAttention-style: each once per pass, so the
    whole context in decode and the prompt itself in prefill); lm_tokens: tokens that reach the LM head; kv_per_chip: KV elements per token per layer on one chip;
    write_kv: tokens whose K/V are written to the cache; hb: bytes per LM-head weight, which runs at the
    chip's ``head_rate`` (16-bit when the body is quantised: ``precision.head_bytes``); kv_read_elems: KV elements the attention kernel
    reads per token position per layer on one chip (default ``kv_per_chip``; more when the kernel reads a
    KV head once per query head, see ``kv_read_per_chip``). h_mm / h_ew: hidden-state elements per token
    that a matmul reads or writes / that the elementwise ops touch, on one chip (default the whole hidden
    state, as 1D tensor parallelism replicates it; the 2D layout shards it: d_model / x and d_model / tp).
    """
    kv_read_elems = kv_per_chip if kv_read_elems is None else kv_read_elems
    L = s.layers
    h = s.hidden if h_mm is None else h_mm
    h_ew = s.hidden if h_ew is None else h_ew
    T = tokens
    mm = ph.chip.matmul_memory_eff  # the body's matmuls stream their weights at the compute precision's rate
    # attention block
    ph.op("qkv_proj", L, 2.0 * T * (s.attn_params - s.attn_out_params) / tp,
          (s.attn_params - s.attn_out_params) / tp * wb + T * (h + s.qkv_width / tp) * ab, memory_eff=mm)
    ph.op("attention", L, s.attn_flops_per_pair * pairs / tp,
          (kv_read * kv_read_elems + write_kv * kv_per_chip) * kvb + T * 2.0 * s.heads * s.head_dim / tp * ab,
          rate=ph.chip.attn_rate)
    ph.op("out_proj", L, 2.0 * T * s.attn_out_params / tp, s.attn_out_params / tp * wb + T * (s.heads * s.head_dim / tp + h) * ab,
          memory_eff=mm)
    # FFN: dense layers, then MoE layers (shared experts + router, then routed experts over ep)
    # the FFN's activation (SiLU/GELU, times the up projection when gated) is a kernel of its own between the two
    # matmuls: it reads the gate and up outputs (one input when not gated) and writes their product
    act_io = 3.0 if s.ffn_gated else 2.0
    if s.dense_layers:
        ph.op("ffn", s.dense_layers, 2.0 * T * s.dense_ffn_params / tp,
              s.dense_ffn_params / tp * wb + T * (h + 3.0 * s.ffn_width / tp) * ab, memory_eff=mm)
        ph.op("ffn_activation", s.dense_layers, 4.0 * T * s.ffn_width / tp, act_io * T * s.ffn_width / tp * ab)
    if s.moe_layers:
        ph.op("moe_shared_router", s.moe_layers, 2.0 * T * s.shared_params / tp, s.shared_params / tp * wb + T * h * ab,
              memory_eff=mm)
        routed = T * groups  # tokens meeting in the experts; their top-k assignments spread over ep chips
        touched = expected_experts(s, routed) / ep  # distinct experts each chip reads
        per_chip = routed * s.top_k / ep
        ph.op("moe_experts", s.moe_layers, 2.0 * per_chip * s.expert_params / tp,
              touched * s.expert_params / tp * wb + per_chip * (2.0 * h + 3.0 * s.expert_width / tp) * ab, memory_eff=mm)
        width = (per_chip * s.expert_width + T * s.shared_width) / tp  # routed and shared experts' intermediates
        ph.op("moe_activation", s.moe_layers, 4.0 * width, act_io * width * ab)
    # norms and residual adds: memory-bound streams of the hidden state
    ph.op("elementwise", L, 20.0 * T * h_ew, 8.0 * T * h_ew * ab)
    ph.op("lm_head", 1, 2.0 * lm_tokens * s.lm_head_params / tp, s.lm_head_params / tp * hb + lm_tokens * (s.hidden + 2.0 * s.vocab / tp) * ab,
          rate=ph.chip.head_rate, memory_eff=ph.chip.head_memory_eff)


def kv_share(s: Shape, tp: Vec, two_d: Vec = False) -> Vec:
    """KV-cache elements per token per layer that one chip holds. 1D: the KV heads are split over tp (an MLA
    latent, or KV heads fewer than tp, are repeated). 2D: sequences are split over the tp chips (batch-sharded
    attention), so a chip holds all heads of 1/tp of the tokens: kv_elems / tp on average."""
    one_d = s.kv_elems if s.kv_replicated else s.kv_elems / np.minimum(tp, s.kv_heads)
    if not np.any(two_d):
        return one_d
    return np.where(two_d, s.kv_elems / np.asarray(tp, dtype=float), one_d)


def kv_read_per_chip(s: Shape, tp: Vec, kv_per_chip: Vec, per_query_head: Vec) -> Vec:
    """KV elements a decode attention kernel reads per token position per layer on one chip.

    Once per KV head (``per_query_head`` false/0): the cached K and V themselves. Once per query head
    (true/1, e.g. TensorRT-LLM's pre-XQA kernel): K and V for each of the heads / tp query heads on the
    chip, i.e. the group size (heads / kv_heads) times more for GQA/MQA and the same for multi-head
    attention. MLA keeps one latent per token that every head reads; it is left as it is.
    """
    if s.kv_replicated:
        return kv_per_chip
    per_query = 2.0 * s.heads * s.head_dim / tp
    return np.where(np.asarray(per_query_head, dtype=bool), np.maximum(kv_per_chip, per_query), kv_per_chip)


def expected_experts(s: Shape, tokens: Vec) -> Vec:
    """Distinct experts a layer touches for ``tokens`` tokens with uniform top-k routing:
    E x (1 - (1 - k/E)^tokens) (each expert is missed by one token with probability 1 - k/E)."""
    return s.experts * (1.0 - (1.0 - s.top_k / s.experts) ** tokens)


def model_flops(s: Shape, tokens: Vec, pairs: Vec, lm_tokens: Vec) -> Vec:
    """FLOPs the model needs (not per chip): 2 per active matmul parameter per token, plus attention."""
    per_token = s.layers * s.attn_params + s.dense_layers * s.dense_ffn_params
    per_token += s.moe_layers * (s.shared_params + s.top_k * s.expert_params)
    return 2.0 * tokens * per_token + s.attn_flops_per_pair * pairs * s.layers + 2.0 * lm_tokens * s.lm_head_params


def _collectives(ph: Phase, s: Shape, chip: Chip, tokens: Vec, tp: Vec, pp: Vec, ep: Vec, ab: Vec, bw_group: Vec, bw_pp: Vec,
                 two_d: Vec = False, batch_sharded: Vec = False) -> None:
    """Collectives of one pass, per chip. 1D: an all-reduce of the hidden state after attention and after the
    FFN. 2D (``two_d``): per block, all-gather the input over yz, reduce-scatter the projection's partial sums
    over x, all-gather its activated output over x, reduce-scatter the block's output over yz; with
    ``batch_sharded`` attention (decode), q/k/v go to the chip that holds the sequence's KV and the attention
    output comes back, two all-to-alls per layer."""
    msg = tokens * s.hidden * ab
    one = np.where(two_d, 0.0, 1.0) if np.any(two_d) else 1.0
    ph.comm("tp_all_reduce", 2 * s.layers, one * comm.all_reduce(msg, tp, bw_group, chip.alpha), one * msg)
    if np.any(two_d):
        x, yz = split_2d(s, tp)
        on = np.where(two_d, 1.0, 0.0)
        d_in = s.hidden / x * tokens * ab  # the block's input (and output) slice, gathered over yz
        gated = 2.0 if s.ffn_gated else 1.0  # gate and up: both partial sums are reduced before the activation
        attn_in, attn_mid = s.qkv_width / yz * tokens * ab, s.heads * s.head_dim / yz * tokens * ab
        ffn_in, ffn_mid = gated * s.ffn_width / yz * tokens * ab, s.ffn_width / yz * tokens * ab
        ag_yz = comm.all_gather(d_in, yz, bw_group, chip.alpha)
        ph.comm("tp2d_all_gather_yz", 2 * s.layers, on * ag_yz, on * d_in)
        ph.comm("tp2d_reduce_scatter_yz", 2 * s.layers, on * ag_yz, on * d_in)
        for name, m_in, m_mid in (("attn", attn_in, attn_mid), ("ffn", ffn_in, ffn_mid)):
            t = comm.all_gather(m_in, x, bw_group, chip.alpha) + comm.all_gather(m_mid, x, bw_group, chip.alpha)
            ph.comm(f"tp2d_{name}_x", s.layers, on * t, on * (m_in + m_mid))
        a2a = on * np.where(batch_sharded, 1.0, 0.0)
        qkv, out = s.qkv_width / tp * tokens * ab, s.heads * s.head_dim / tp * tokens * ab  # each chip's share
        t = comm.all_to_all(qkv, tp, bw_group, chip.alpha) + comm.all_to_all(out, tp, bw_group, chip.alpha)
        ph.comm("attn_all_to_all", s.layers, a2a * t, a2a * (qkv + out))
    if s.moe_layers:
        a2a = tokens * s.top_k * s.hidden * ab
        ph.comm("ep_all_to_all", 2 * s.moe_layers, comm.all_to_all(a2a, ep, bw_group, chip.alpha), a2a)
    ph.comm("pp_send_recv", np.maximum(pp - 1, 0), np.where(pp > 1, comm.send_recv(msg, bw_pp, chip.alpha), 0.0), msg)


def evaluate(s: Shape, chip: Chip, *, batch: Vec, input_len: Vec, output_len: Vec, tp: Vec = 1, pp: Vec = 1, ep: Vec = 1,
             chips: Vec = None, weight_bytes: Vec = 2.0, kv_bytes: Vec = 2.0, act_bytes: Vec = 2.0, head_bytes: Vec = None,
             max_context: float = np.inf, slo_ttft: Vec = np.inf, slo_tpot: Vec = np.inf, kv_per_query_head: Vec = False,
             tp_layout: Vec = 0, graph_batches: Sequence[int] | None = None, detail: bool = False) -> Result:
    """Evaluate every configuration the (broadcast) arguments describe. ``chips`` defaults to tp x pp x ep.
    ``head_bytes``: bytes per embedding / LM-head weight (default: ``weight_bytes``, never below 16 bits).
    ``kv_per_query_head``: the runtime's decode attention reads a KV head once per query head (catalog
    runtime ``decode_attention = "per-query-head"``). ``tp_layout``: 0 Megatron-style 1D tensor parallelism,
    1 the 2D weight-stationary layout over the tp chips (``LAYOUTS``, ``split_2d``, ``kv_share``).
    ``graph_batches``: the batch sizes (per replica) the engine captured decode CUDA graphs at and pads the
    running batch up to; a batch above the largest runs unpadded (module docstring). None: no padding."""
    hb = np.maximum(weight_bytes, 2.0) if head_bytes is None else head_bytes
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _evaluate(s, chip, batch, input_len, output_len, tp, pp, ep, chips, weight_bytes, kv_bytes, act_bytes, hb,
                         max_context, slo_ttft, slo_tpot, kv_per_query_head, tp_layout, graph_batches, detail)


def _evaluate(s: Shape, chip: Chip, B: Vec, S_in: Vec, S_out: Vec, tp: Vec, pp: Vec, ep: Vec, chips: Vec, wb: Vec, kvb: Vec,
              ab: Vec, hb: Vec, max_context: float, slo_ttft: Vec, slo_tpot: Vec, per_q: Vec, layout: Vec,
              graph_batches: Sequence[int] | None, detail: bool) -> Result:
    B, S_in, S_out = (np.asarray(x, dtype=float) for x in (B, S_in, S_out))
    tp, pp, ep = (np.asarray(x, dtype=float) for x in (tp, pp, ep))
    replica = tp * pp * ep
    chips = replica if chips is None else np.asarray(chips, dtype=float)
    replicas = np.floor(chips / replica)

    two_d = np.asarray(layout) == LAYOUTS["2d"]
    kv_prompt = kv_share(s, tp)  # one request's prefill: KV heads split over tp, in either layout
    any_2d = bool(np.any(two_d))  # 1D-only sweeps skip the 2D arrays (perf_grid's speed)
    kv_per_chip = kv_share(s, tp, two_d) if any_2d else kv_prompt  # the batch's cache, in decode and in batched prefill
    x, yz = split_2d(s, tp) if any_2d else (1.0, tp)
    hid = dict(h_mm=np.where(two_d, s.hidden / x, s.hidden), h_ew=np.where(two_d, s.hidden / tp, s.hidden)) if any_2d else {}
    bw_group = comm.tier_bandwidth(chip, tp * ep)
    bw_pp = comm.tier_bandwidth(chip, replica)

    # Prefill: one request of S_in tokens (causal attention: S_in^2 / 2 query-key pairs).
    pre = Phase(chip, detail)
    _layer_ops(pre, s, S_in, 1.0, S_in * S_in / 2.0, S_in, 1.0, tp, ep, wb, kvb, ab, kv_prompt, S_in, hb, **hid)
    _collectives(pre, s, chip, S_in, tp, pp, ep, ab, bw_group, bw_pp, two_d)
    ttft = pre.time

    # Decode: one step at B sequences, split into m micro-batches; per attention group B/(m ep) tokens.
    m = np.minimum(B, pp)
    t_group = B / (m * ep)
    ctx = S_in + S_out / 2.0
    dec = Phase(chip, detail)
    kv_read_elems = kv_read_per_chip(s, tp, kv_per_chip, per_q)
    _layer_ops(dec, s, t_group, ep, t_group * ctx, t_group * ctx, t_group, tp, ep, wb, kvb, ab, kv_per_chip, t_group, hb,
               kv_read_elems, **hid)
    _collectives(dec, s, chip, t_group, tp, pp, ep, ab, bw_group, bw_pp, two_d, two_d)
    # Each stage runs its L/pp layers for m micro-batches per step (m x L/pp layer-times), and a micro-batch
    # crosses pp stages (pp x L/pp): with m <= pp the step takes L layer-times of one micro-batch.
    tpot = dec.time

    # Prefill under load: engines batch the prompts of many requests into chunks of up to `prefill_chunk`
    # tokens (vLLM's max_num_batched_tokens); each attention group takes one chunk at a time, and with
    # pp > 1 the chunks flow through the stages as a pipeline (fill + drain of pp - 1 chunks).
    chunk = np.minimum(chip.prefill_chunk, B * S_in / ep)
    rounds = B * S_in / (chunk * ep)
    pch = Phase(chip, False)
    _layer_ops(pch, s, chunk, ep, chunk * S_in / 2.0, chunk + np.maximum(S_in - chunk, 0.0) / 2.0, chunk / S_in,
               tp, ep, wb, kvb, ab, kv_per_chip, chunk, hb, **hid)
    _collectives(pch, s, chip, chunk, tp, pp, ep, ab, bw_group, bw_pp, two_d, two_d)
    prefill_batch = pch.time * (rounds + pp - 1.0) / pp

    graph_batch = graphed = None
    if graph_batches is not None:  # decode steps with no prompt beside them replay a graph at the padded batch
        sizes = np.sort(np.asarray(graph_batches, dtype=float))
        graph_batch = np.where(B <= sizes[-1], sizes[np.minimum(np.searchsorted(sizes, B), sizes.size - 1)], B)
        t_pad = graph_batch / (m * ep)
        padded = Phase(chip, False)
        _layer_ops(padded, s, t_pad, ep, t_group * ctx, t_group * ctx, t_pad, tp, ep, wb, kvb, ab, kv_per_chip, t_pad, hb,
                   kv_read_elems, **hid)
        _collectives(padded, s, chip, t_pad, tp, pp, ep, ab, bw_group, bw_pp, two_d, two_d)
        graphed = np.clip(1.0 - rounds / S_out, 0.0, 1.0)  # the other steps share an iteration with a prefill round
        tpot = graphed * padded.time + (1.0 - graphed) * tpot

    e2e = ttft + np.maximum(S_out - 1.0, 0.0) * tpot
    cycle = prefill_batch + S_out * tpot
    per_replica = B * S_out / cycle
    out_tps = per_replica * replicas
    per_chip = out_tps / chips
    prefill_tps = replicas * B * S_in / prefill_batch

    peak_replica = chip.peak * replica
    mfu_prefill = model_flops(s, S_in, S_in * S_in / 2.0, 1.0) / (ttft * peak_replica)
    mfu_decode = model_flops(s, B, B * ctx, B) / (tpot * peak_replica)
    # bytes that must move per step: every body weight a token touches once, the LM head (the embedding
    # table is only looked up), and the whole KV cache read once
    routed = s.moe_layers * expected_experts(s, B) * s.expert_params if s.moe_layers else 0.0
    touched = s.total_params - s.expert_total - s.head_params + routed
    must_move = touched * wb + s.lm_head_params * hb + B * ctx * s.kv_elems * s.layers * kvb
    mbu_decode = must_move / (tpot * chip.mem_bw * replica)

    w, kv, act = memory_per_chip(s, B, S_in, S_out, tp, pp, ep, wb, kvb, ab, kv_per_chip, chip.prefill_chunk, hb)
    capacity = chip.mem_cap * chip.mem_util
    fits = (w + kv + act) <= capacity

    code = np.zeros(np.broadcast(B, S_in, S_out, tp, pp, ep, chips, ttft, tpot).shape, dtype=np.int32)
    code |= np.where(~two_d & (np.mod(s.heads, tp) != 0), Reason.TP_HEADS, 0)
    if not s.kv_replicated:
        code |= np.where(~two_d & (np.mod(s.kv_heads, tp) != 0) & (np.mod(tp, s.kv_heads) != 0), Reason.TP_KV_HEADS, 0)
    if any_2d:
        code |= np.where(two_d & ((s.moe_layers > 0) | (np.mod(tp, x) != 0) | (np.mod(s.heads, yz) != 0)), Reason.LAYOUT_2D, 0)
    code |= np.where((np.mod(chips, replica) != 0) | (chips < replica), Reason.CHIPS_LAYOUT, 0)
    code |= np.where(pp > s.layers, Reason.PP_LAYERS, 0)
    code |= np.where((ep > 1) & ((s.moe_layers == 0) | (np.mod(max(s.experts, 1), ep) != 0)), Reason.EP_EXPERTS, 0)
    code |= np.where(np.isfinite(chip.peak), 0, Reason.NO_PEAK)
    code |= np.where((replica > 1) & ~np.isfinite(bw_pp) | (tp * ep > 1) & ~np.isfinite(bw_group), Reason.NO_LINK, 0)
    code |= np.where(S_in + S_out > max_context, Reason.CONTEXT, 0)
    code |= np.where(fits, 0, Reason.MEMORY)
    code |= np.where(ttft <= slo_ttft, 0, Reason.TTFT_SLO)
    code |= np.where(tpot <= slo_tpot, 0, Reason.TPOT_SLO)

    return Result(ttft_s=ttft, tpot_s=tpot, e2e_s=e2e, output_tokens_per_s=out_tps, output_tokens_per_s_per_chip=per_chip,
                  prefill_tokens_per_s=prefill_tps, mfu_prefill=mfu_prefill, mfu_decode=mfu_decode, mbu_decode=mbu_decode,
                  bound_prefill=pre.bound(), bound_decode=dec.bound(), weights_bytes=w, kv_cache_bytes=kv,
                  activation_bytes=act, capacity_bytes=capacity, fits=fits, code=code, replicas=replicas,
                  prefill=pre if detail else None, decode=dec if detail else None, graph_batch=graph_batch, graphed_share=graphed)

"""A slow, scalar re-statement of the inference model for tests only (no NumPy, one configuration).

It is written from the equations in docs/model.md, not by calling the vectorised code, so that the
property test comparing the two can catch a broadcasting or bookkeeping mistake in either.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from tcobench.perf.transformer import Shape


def roof(flops: float, nbytes: float, c: dict) -> float:
    return max(flops / (c["peak"] * c["ce"]), nbytes / (c["bw"] * c["me"])) + c["ovh"]


def most_loaded(s: Shape, tokens: float, n: float) -> float:
    """The busiest of n chips' expert load over the mean: tokens routed uniformly to top-k of E experts, E/n per
    chip; the load is a sum of hypergeometric counts, taken as normal; the expected largest of n normals is
    Blom's mean + Phi^-1((n - 3/8) / (n + 1/4)) standard deviations; never more than every token's k there."""
    if n <= 1 or tokens <= 0:
        return 1.0
    k, e = s.top_k, s.experts
    mean = tokens * k / n
    var = tokens * (k / n) * (1 - 1 / n) * (e - k) / (e - 1)
    top = mean + NormalDist().inv_cdf((n - 0.375) / (n + 0.25)) * math.sqrt(var)
    return min(max(top, min(tokens * k, 1.0)), tokens * min(k, e / n)) / mean


def split(s: Shape, tp: float) -> tuple[float, float]:
    """2D weight-stationary split: x = sqrt(tp d_model / d_ff) rounded to a power of two in [1, tp]."""
    x = 2.0 ** round(0.5 * math.log2(tp * s.hidden / s.ffn_width))
    x = min(max(x, 1.0), tp)
    return x, tp / x


def gather(m: float, n: float, c: dict) -> float:  # ring all-gather / reduce-scatter of m bytes over n chips
    return (n - 1) / n * m / c["bw_tp"] + (n - 1) * c["alpha"] if n > 1 else 0.0


def forward(s: Shape, c: dict, T: float, groups: float, pairs: float, kv_read: float, lm: float, tp: float, ep: float,
            wb: float, kvb: float, ab: float, per_query_head: bool = False, two_d: bool = False,
            batch_sharded: bool = False) -> float:
    """One pass over every layer, per chip. The LM head's weights stay 16-bit under quantised weights and it
    runs at the chip's 16-bit rate ``c["head_rate"]``. ``two_d``: the 2D weight-stationary layout (hidden
    state sharded d_model/x into the matmuls, d_model/tp in the elementwise ops; four gathers/scatters per
    block); ``batch_sharded``: each chip keeps the KV of 1/tp of the sequences (all heads)."""
    x, yz = split(s, tp)
    h_mm, h_ew = (s.hidden / x, s.hidden / tp) if two_d else (s.hidden, s.hidden)
    L = s.layers
    if batch_sharded:
        kvpc = s.kv_elems / tp
    else:
        kvpc = s.kv_elems if s.kv_replicated else s.kv_elems / min(tp, s.kv_heads)
    # read: a pre-XQA style kernel reads K and V once for each query head on the chip
    kv_in = max(kvpc, 2 * s.heads * s.head_dim / tp) if per_query_head and not s.kv_replicated else kvpc
    qkv = s.attn_params - s.attn_out_params
    attn = dict(c, peak=c["attn_rate"], ce=1.0)  # attention runs at the wider of activations and KV, >= 8-bit
    mm = dict(c, me=c["mm_me"])  # matmuls stream their weights at their own format's rate
    t = 0.0
    for _ in range(L):
        t += roof(2 * T * qkv / tp, qkv / tp * wb + T * (h_mm + s.qkv_width / tp) * ab, mm)
        t += roof(s.attn_flops_per_pair * pairs / tp, (kv_read * kv_in + T * kvpc) * kvb + T * 2 * s.heads * s.head_dim / tp * ab, attn)
        t += roof(2 * T * s.attn_out_params / tp, s.attn_out_params / tp * wb + T * (s.heads * s.head_dim / tp + h_mm) * ab, mm)
        t += roof(20 * T * h_ew, 8 * T * h_ew * ab, c)
    act = 3 if s.ffn_gated else 2  # the activation kernel reads gate and up (or one input), writes the product
    for _ in range(s.dense_layers):
        t += roof(2 * T * s.dense_ffn_params / tp, s.dense_ffn_params / tp * wb + T * (h_mm + 3 * s.ffn_width / tp) * ab, mm)
        t += roof(4 * T * s.ffn_width / tp, act * T * s.ffn_width / tp * ab, c)
    for _ in range(s.moe_layers):
        t += roof(2 * T * s.shared_params / tp, s.shared_params / tp * wb + T * h_mm * ab, mm)
        routed = T * groups
        distinct = s.experts * (1 - (1 - s.top_k / s.experts) ** routed)
        busiest = most_loaded(s, routed, ep)
        touched = min(distinct / ep * busiest, s.experts / ep)  # the busiest chip's experts, at most those it holds
        per_chip = routed * s.top_k / ep * busiest
        # the grouped GEMM's rate falls by gg_loss per halving of the tokens per expert below gg_full (>= gg_least)
        m = max(routed * s.top_k / distinct, c["gg_least"])
        grouped = dict(mm, ce=c["ce"] * min(1.0 - c["gg_loss"] * math.log2(c["gg_full"] / m), 1.0))
        t += roof(2 * per_chip * s.expert_params / tp,
                  touched * s.expert_params / tp * wb + per_chip * (2 * h_mm + 3 * s.expert_width / tp) * ab, grouped)
        width = per_chip * s.expert_width / tp + T * s.shared_width / tp
        t += roof(4 * width, act * width * ab, c)
        moved = (T + per_chip) * h_mm * ab  # tokens into expert order, and the k outputs summed back
        t += roof(0.0, moved, c) + roof(2 * per_chip * h_mm, moved, c)
    head = dict(c, peak=c["head_rate"], ce=1.0, me=c["head_me"])
    t += roof(2 * lm * s.lm_head_params / tp, s.lm_head_params / tp * max(wb, 2) + lm * (s.hidden + 2 * s.vocab / tp) * ab, head)
    # the tp group's ranks are adjacent: inside one switched domain its collectives get the scale-up link; a tp group
    # wider than the domain rings across domains with each domain's ranks pooling their NICs. An all-to-all cannot
    # pool (one NIC), and the expert exchange spans all tp x ep chips.
    bw = c["up_bw"] if tp <= c["domain"] else min(c["up_bw"], min(c["domain"], tp) * c["out_bw"])
    bw_a2a = c["up_bw"] if tp <= c["domain"] else c["out_bw"]
    bw_ep = c["up_bw"] if tp * ep <= c["domain"] else c["out_bw"]
    c = dict(c, bw_tp=bw)
    msg = T * s.hidden * ab
    if two_d:
        up = 2 if s.ffn_gated else 1
        for f_in, f_mid in ((s.qkv_width, s.heads * s.head_dim), (up * s.ffn_width, s.ffn_width)):  # attention, FFN
            t += L * (2 * gather(T * s.hidden / x * ab, yz, c)  # input gathered over yz, output scattered over yz
                      + gather(T * f_in / yz * ab, x, c) + gather(T * f_mid / yz * ab, x, c))
        if batch_sharded:
            for m in (T * s.qkv_width / tp * ab, T * s.heads * s.head_dim / tp * ab):
                t += L * ((tp - 1) / tp * m / bw_a2a + (tp - 1) * c["alpha"]) if tp > 1 else 0.0
    elif tp > 1:
        ring = 2 * (tp - 1) / tp * msg / bw + 2 * (tp - 1) * c["alpha"]
        # inside the scale-up domain a serving engine's one-shot kernel takes L + M / B1 where that is less
        one_shot = c.get("ar_lat", math.nan) + msg / c.get("ar_bw", math.nan) if tp <= c["domain"] else math.nan
        t += 2 * L * (min(ring, one_shot) if one_shot == one_shot else ring)
    if ep > 1 and s.moe_layers:
        sent = T * s.top_k * s.hidden * ab * most_loaded(s, T * ep, ep)
        # dispatch and combine, each one kernel to every peer at once: one latency, not a ring's ep - 1
        t += 2 * s.moe_layers * ((ep - 1) / ep * sent / bw_ep + c["alpha"])
    return t


def ttft_tpot_throughput(s: Shape, c: dict, B: float, S_in: float, S_out: float, tp: float, ep: float,
                         wb: float, kvb: float, ab: float, per_query_head: bool = False,
                         two_d: bool = False, graph_batches: list[int] | None = None) -> tuple[float, float, float]:
    """pp = 1, chips = tp x ep (one replica). With ``two_d`` the batch's KV is sharded by sequence over the
    tp chips (decode and batched prefill); one request's prefill keeps its KV heads split over tp.
    ``graph_batches``: decode steps with no prefill round beside them run at the next of these sizes up
    (padding sequences without context); TPOT is the mean over the steps."""
    # a prefill (one request's, or a batched chunk) launches its kernels eagerly: eager_overhead per operator where the
    # chip has one (never less than the graph-replay overhead); decode steps replay graphs
    eager = c.get("eager", math.nan)
    pc = dict(c, ovh=max(eager, c["ovh"])) if eager == eager else c
    ttft = forward(s, pc, S_in, 1, S_in * S_in / 2, S_in, 1, tp, ep, wb, kvb, ab, two_d=two_d)
    t_group = B / ep
    ctx = S_in + S_out / 2
    tpot = forward(s, c, t_group, ep, t_group * ctx, t_group * ctx, t_group, tp, ep, wb, kvb, ab, per_query_head,
                   two_d=two_d, batch_sharded=two_d)
    chunk = min(c["chunk"], B * S_in / ep)  # prompts of all B requests, prefilled together in chunks
    rounds = B * S_in / (chunk * ep)
    t_chunk = forward(s, pc, chunk, ep, chunk * S_in / 2, chunk + max(S_in - chunk, 0) / 2, chunk / S_in, tp, ep, wb, kvb, ab,
                      two_d=two_d, batch_sharded=two_d)
    if graph_batches:
        padded = min((g for g in graph_batches if g >= B), default=B)
        t_pad = forward(s, c, padded / ep, ep, t_group * ctx, t_group * ctx, padded / ep, tp, ep, wb, kvb, ab, per_query_head,
                        two_d=two_d, batch_sharded=two_d)
        graphed = min(max(1 - rounds / S_out, 0.0), 1.0)
        tpot = graphed * t_pad + (1 - graphed) * tpot
    tput = B * S_out / (rounds * t_chunk + S_out * tpot)
    assert math.isfinite(tput)
    return ttft, tpot, tput

"""Memory per chip: weights, KV cache, activations/workspace; all arrays broadcast."""

from __future__ import annotations

import numpy as np

from tcobench.perf.chip import Vec
from tcobench.perf.transformer import Shape


def memory_per_chip(s: Shape, B: Vec, S_in: Vec, S_out: Vec, tp: Vec, pp: Vec, ep: Vec, wb: Vec, kvb: Vec, ab: Vec,
                    kv_per_chip: Vec, chunk: Vec, hb: Vec) -> tuple[Vec, Vec, Vec]:
    """(weights, kv_cache, activations) in bytes on one chip.

    Weights: non-expert parameters split over tp x pp, routed experts over tp x pp x ep; the embedding
    table and an untied LM head at ``hb`` bytes each (``precision.head_bytes``), the rest at ``wb``.
    KV cache: every sequence at its full length (input + output), B / ep sequences per attention group,
    L / pp layers per stage. Activations: one prefill chunk of at most ``chunk`` tokens through the widest
    layer, plus fp32 logits for the batch.
    """
    body = (s.total_params - s.expert_total - s.head_params) / (tp * pp) + s.expert_total / (tp * pp * ep)
    weights = body * wb + s.head_params / (tp * pp) * hb
    kv = (B / ep) * (S_in + S_out) * (s.layers / pp) * kv_per_chip * kvb
    tokens = np.minimum(B * S_in, chunk)
    widest = np.maximum(s.qkv_width, 3.0 * max(s.ffn_width, s.ffn_act_width)) / tp
    act = tokens * (2.0 * s.hidden + widest) * ab + B * s.vocab / tp * 4.0
    return weights, kv, act


def max_batch(s: Shape, S_in: Vec, S_out: Vec, tp: Vec, pp: Vec, ep: Vec, wb: Vec, kvb: Vec, ab: Vec, kv_per_chip: Vec, chunk: Vec,
              capacity: Vec, hb: Vec, limit: int = 1 << 20) -> int:
    """The largest batch per replica whose weights, KV cache and activations fit in ``capacity`` bytes
    per chip (0 when not even one sequence fits). Memory grows with the batch, so bisect."""
    def fits(b: int) -> bool:
        w, kv, act = memory_per_chip(s, float(b), S_in, S_out, tp, pp, ep, wb, kvb, ab, kv_per_chip, chunk, hb)
        return bool(w + kv + act <= capacity)

    if not fits(1):
        return 0
    lo, hi = 1, limit
    if fits(hi):
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo

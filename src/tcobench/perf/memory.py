"""Memory per chip: weights, KV cache, activations/workspace; all arrays broadcast."""

from __future__ import annotations

import math

from tcobench.perf.deployment import Formats, Layout
from tcobench.perf.transformer import Shape
from tcobench.perf.vec import Mask, Vec, maximum, minimum, where


def streamed_weights(s: Shape, resident: Vec, pp: Vec) -> Vec:
    """Bytes held on chip while weights stream layer by layer: the layer being computed and the next one
    arriving (double buffering), out of ``resident`` bytes for this chip's L / pp layers."""
    return 2.0 * resident / maximum(s.layers / pp, 1.0)


def memory_per_chip(s: Shape, B: Vec, S_in: Vec, S_out: Vec, lay: Layout, fmt: Formats, kv_per_chip: Vec,
                    chunk: Vec, *, streamed: Mask | bool = False) -> tuple[Vec, Vec, Vec]:
    """(weights, kv_cache, activations) in bytes on one chip, for ``B`` sequences per replica.

    Weights: non-expert parameters split over tp x pp, routed experts (with ``lay.redundant`` replicas, (experts +
    redundant) / experts of them) over tp x pp x ep; the embedding
    table and an untied LM head at ``fmt.head_bytes`` each (``precision.head_bytes``), the rest at
    ``fmt.weights``. KV cache: every sequence at its full length (input + output), B / ep sequences per
    attention group, L / pp layers per stage. Activations: one prefill chunk of at most ``chunk`` tokens
    through the widest layer, plus fp32 logits for the batch. ``streamed``: the weights stream in from
    external memory layer by layer (``streamed_weights``), so only two layers' worth is held at a time.
    """
    tp, pp, ep = lay.tp, lay.pp, lay.ep
    replicated = 1.0 + lay.redundant / max(s.experts, 1)  # redundant experts are copies of some: more weights a chip
    body = (s.total_params - s.expert_total - s.head_params) / (tp * pp) + s.expert_total * replicated / (tp * pp * ep)
    weights = body * fmt.weights + s.head_params / (tp * pp) * fmt.head_bytes
    weights = where(streamed, streamed_weights(s, weights, pp), weights)
    if s.window_layers:  # local layers keep only the last `window` tokens
        held = (s.layers - s.window_layers) * (S_in + S_out) + s.window_layers * minimum(S_in + S_out, s.window)
        kv = (B / ep) * held / pp * kv_per_chip * fmt.kv
    else:
        kv = (B / ep) * (S_in + S_out) * (s.layers / pp) * kv_per_chip * fmt.kv
    tokens = minimum(B * S_in, chunk)
    widest = max(s.qkv_width, 3.0 * max(s.ffn_width, s.ffn_act_width)) / tp
    act = tokens * (2.0 * s.hidden + widest) * fmt.activations + B * s.vocab / tp * 4.0
    return weights, kv, act


def max_batch(s: Shape, S_in: float, S_out: float, lay: Layout, fmt: Formats, kv_per_chip: float, chunk: float,
              capacity: float, limit: int = 1 << 20, *, streamed: bool = False) -> int:
    """The largest batch per replica (at most ``limit``) whose weights, KV cache and activations fit in
    ``capacity`` bytes per chip; 0 when not even one sequence fits.

    Memory is affine in the batch on either side of the batch whose prompts fill one prefill chunk
    (B x S_in = chunk), so the largest batch is where the line of its piece crosses the capacity; the
    answer is then stepped to the exact integer boundary of ``memory_per_chip`` itself, so rounding in the
    line cannot move it.
    """
    def used(b: float) -> float:
        w, kv, act = memory_per_chip(s, b, S_in, S_out, lay, fmt, kv_per_chip, chunk, streamed=streamed)
        return float(w + kv + act)

    if not used(1.0) <= capacity:
        return 0
    if used(float(limit)) <= capacity:
        return limit
    knee = min(max(chunk / S_in, 1.0), float(limit))  # where the activations stop growing with the batch
    lo = knee if used(knee) <= capacity else 1.0
    hi = float(limit) if lo == knee else knee
    m_lo, m_hi = used(lo), used(hi)
    guess = lo + (capacity - m_lo) * (hi - lo) / (m_hi - m_lo) if m_hi > m_lo else lo
    b = min(max(int(math.floor(guess)), 1), limit - 1)
    while b + 1 < limit and used(float(b + 1)) <= capacity:
        b += 1
    while b > 1 and not used(float(b)) <= capacity:
        b -= 1
    return b

"""A decoder transformer reduced to the handful of sizes the operator costs need.

Weights are counted with ``catalog.params`` (the same code that reconciles with published totals);
this module only regroups them by operator and adds the attention and KV-cache sizes.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from tcobench.catalog.params import attention_params, count_params, ffn_params, moe_layer_count, shared_expert_params
from tcobench.catalog.schema import Model
from tcobench.errors import InputError


@dataclass(frozen=True)
class Shape:
    layers: int
    hidden: int
    heads: int
    kv_heads: int  # KV heads to shard over TP (1 for MLA: the latent is shared by every head)
    kv_replicated: bool  # MLA: every TP rank keeps the whole latent KV
    head_dim: int  # query/output head size
    vocab: int
    attn_params: int  # per layer: all attention projections
    attn_out_params: int  # per layer: the output projection (part of attn_params)
    qkv_width: int  # elements per token written by the QKV projection
    kv_elems: int  # KV-cache elements per token per layer, all heads
    attn_flops_per_pair: int  # FLOPs per (query token, context token) pair per layer, all heads
    dense_layers: int
    dense_ffn_params: int  # per dense layer
    ffn_width: int  # intermediate width of a dense layer
    ffn_gated: bool  # gate and up projections (SwiGLU/GeGLU)
    moe_layers: int
    experts: int
    top_k: int
    expert_params: int  # one routed expert
    expert_width: int
    shared_params: int  # per MoE layer: shared experts + router
    shared_width: int  # per MoE layer: intermediate width of the shared experts, all of them
    lm_head_params: int  # the output projection (tied or not, it is a matmul)
    head_params: int  # stored once: the embedding table(s) and an untied LM head (kept 16-bit when quantised)
    total_params: int
    expert_total: int  # all routed experts of all layers
    active_params: int
    window: float = math.inf  # tokens a local-attention layer attends to (and caches)
    window_layers: int = 0  # layers that attend locally

    @property
    def ffn_act_width(self) -> int:
        """Intermediate width a token's FFN activations take (dense, or top-k experts + shared)."""
        return self.ffn_width if self.moe_layers == 0 else self.top_k * self.expert_width


@functools.lru_cache(maxsize=512)
def shape(m: Model) -> Shape:
    """The sizes of ``m`` (a frozen, hashable record, so each model is reduced once per process)."""
    if m.encoder:
        raise InputError(f"model {m.id!r} is an encoder ({m.family}); the inference model covers decoders only")
    p = count_params(m)
    gated = m.ffn == "gated"
    d = m.head_size
    if m.mla is not None:
        a = m.mla
        kv_elems = a.kv_lora_rank + a.qk_rope_head_dim  # compressed latent + decoupled rotary key
        # absorbed MLA decode: scores over (kv_lora + rope) and values over kv_lora, per head
        pair = 2 * m.heads * (2 * a.kv_lora_rank + a.qk_rope_head_dim)
        qkv_width = m.heads * (a.qk_nope_head_dim + a.qk_rope_head_dim) + kv_elems
        out_params, kv_heads, replicated, d = m.heads * a.v_head_dim * m.hidden, 1, True, a.v_head_dim
    else:
        kv_elems = 2 * m.kv_head_count * d
        pair = 4 * m.heads * d  # QK^T and PV: 2 FLOPs per multiply-add each
        qkv_width = (m.heads + 2 * m.kv_head_count) * d
        out_params, kv_heads, replicated = m.heads * d * m.hidden, m.kv_head_count, False
    moe = m.moe
    if moe is None:
        dense_layers, moe_layers, experts, top_k, expert_params, expert_width, shared, shared_width = m.layers, 0, 0, 0, 0, 0, 0, 0
    else:
        moe_layers = moe_layer_count(m)  # the first dense_layers, and any interleaved between MoE ones, are dense
        dense_layers = m.layers - moe_layers
        experts, top_k, expert_width = moe.experts, moe.top_k, moe.expert_ffn_hidden
        expert_params = ffn_params(m.hidden, expert_width, gated, m.mlp_bias)
        shared = shared_expert_params(m) + moe.experts * m.hidden
        shared_width = moe.shared_experts * (moe.shared_expert_ffn_hidden or expert_width)
    return Shape(
        layers=m.layers, hidden=m.hidden, heads=m.heads, kv_heads=kv_heads, kv_replicated=replicated, head_dim=d,
        vocab=m.vocab, attn_params=attention_params(m), attn_out_params=out_params, qkv_width=qkv_width,
        kv_elems=kv_elems, attn_flops_per_pair=pair, dense_layers=dense_layers,
        dense_ffn_params=ffn_params(m.hidden, m.ffn_hidden, gated, m.mlp_bias), ffn_width=m.ffn_hidden, ffn_gated=gated,
        moe_layers=moe_layers, experts=experts, top_k=top_k, expert_params=expert_params, expert_width=expert_width,
        shared_params=shared, shared_width=shared_width, lm_head_params=m.vocab * m.hidden, head_params=p.embedding + p.lm_head, total_params=p.total, expert_total=p.expert_ffn,
        active_params=p.active, window=math.inf if m.window is None else float(m.window), window_layers=m.local_layers,
    )

"""Parameter counts derived from a model's architecture (no published totals are used here).

The counts follow each family's reference implementation (Hugging Face ``transformers`` modelling
code): projection weights and biases, norms (RMSNorm: a scale; LayerNorm: scale and shift) incl. per-head
query/key norms, token, position and segment embeddings, attention sinks, MoE routers, shared experts (and
their gate) and MoE layers interleaved with dense ones, and DeepSeek's multi-head latent attention.
``tests/unit/catalog/test_params.py`` and ``test_hf.py`` reconcile them with the published totals.
"""

from __future__ import annotations

from dataclasses import dataclass

from tcobench.catalog.schema import Model


@dataclass(frozen=True, slots=True)
class ParamCount:
    """Parameters by part. ``expert_ffn`` holds every routed expert; ``active`` counts top-k of them."""

    embedding: int  # token (+ position, segment) embeddings and their norm
    attention: int  # all layers
    dense_ffn: int  # all dense FFN layers, plus shared experts and routers in MoE layers
    expert_ffn: int  # all routed experts of all MoE layers
    norms: int  # per-layer and final norms
    lm_head: int  # 0 when tied to the embedding
    other: int  # pooler etc.
    active_expert_ffn: int  # routed expert parameters one token touches

    @property
    def total(self) -> int:
        return self.embedding + self.attention + self.dense_ffn + self.expert_ffn + self.norms + self.lm_head + self.other

    @property
    def active(self) -> int:
        """Parameters one token uses: everything except the routed experts it is not sent to."""
        return self.total - self.expert_ffn + self.active_expert_ffn

    def active_by(self, convention: str) -> int:
        """Active parameters under a publisher's convention (see Model.active_params_convention)."""
        return self.active - self.embedding if convention == "no-input-embedding" else self.active


def attention_params(m: Model) -> int:
    """One layer's attention projections (and their biases)."""
    h, heads = m.hidden, m.heads
    if m.mla is not None:
        a = m.mla
        qk = a.qk_nope_head_dim + a.qk_rope_head_dim
        if a.q_lora_rank:
            q = h * a.q_lora_rank + a.q_lora_rank + a.q_lora_rank * heads * qk  # down, its RMSNorm, up
        else:
            q = h * heads * qk
        kv = h * (a.kv_lora_rank + a.qk_rope_head_dim) + a.kv_lora_rank + a.kv_lora_rank * heads * (a.qk_nope_head_dim + a.v_head_dim)
        return q + kv + heads * a.v_head_dim * h
    d = m.head_size
    q_out, kv_out = heads * d, 2 * m.kv_head_count * d
    qkv_bias = m.attention_bias if m.qkv_bias is None else m.qkv_bias
    weights = h * (q_out + kv_out) + q_out * h
    biases = (q_out + kv_out if qkv_bias else 0) + (h if m.attention_bias else 0)
    return weights + biases


def ffn_params(h: int, inner: int, gated: bool, bias: bool) -> int:
    """One FFN: up (and gate) plus down projection."""
    mats = 3 if gated else 2
    return mats * h * inner + ((2 if gated else 1) * inner + h if bias else 0)


def moe_layer_count(m: Model) -> int:
    """Layers whose FFN is the MoE block: every ``layer_step``-th layer after the first ``dense_layers``.

    Layer i (0-based) is MoE when i >= dense_layers and (i + 1) % layer_step == 0, as in transformers'
    Llama 4 (interleave_moe_layer_step) and Qwen-MoE (decoder_sparse_step) decoders; the rest are dense.
    """
    if m.moe is None:
        return 0
    step, first = m.moe.layer_step, m.moe.dense_layers
    return m.layers // step - first // step


def shared_expert_params(m: Model) -> int:
    """One MoE layer's shared experts, and the gate on their output where the model has one (0 without MoE)."""
    if m.moe is None:
        return 0
    moe = m.moe
    width = moe.shared_expert_ffn_hidden or moe.expert_ffn_hidden
    shared = moe.shared_experts * ffn_params(m.hidden, width, m.ffn == "gated", m.mlp_bias)
    return shared + (m.hidden if moe.shared_expert_gate else 0)


def count_params(m: Model) -> ParamCount:
    h, L = m.hidden, m.layers
    gated = m.ffn == "gated"
    norm = h if m.norm == "rmsnorm" else 2 * h

    embedding = m.vocab * h
    if m.position == "learned":
        embedding += (m.max_context + m.position_offset) * h
    embedding += m.token_types * h
    if m.embedding_norm:
        embedding += norm

    attention = L * (attention_params(m) + (m.heads if m.attention_sinks else 0))
    norms = L * m.norms_per_layer * norm + norm  # final norm
    if m.qk_norm:  # one norm over head_dim for the queries and one for the keys, shared by the heads
        norms += L * 2 * m.head_size * (norm // h)

    dense_ffn = expert_ffn = active_expert = 0
    if m.moe is None:
        dense_ffn = L * ffn_params(h, m.ffn_hidden, gated, m.mlp_bias)
    else:
        moe = m.moe
        moe_layers = moe_layer_count(m)
        one_expert = ffn_params(h, moe.expert_ffn_hidden, gated, m.mlp_bias)
        router = moe.experts * h + (moe.experts if moe.router_bias else 0)
        dense_ffn = (L - moe_layers) * ffn_params(h, m.ffn_hidden, gated, m.mlp_bias)
        dense_ffn += moe_layers * (router + shared_expert_params(m))
        expert_ffn = moe_layers * moe.experts * one_expert
        active_expert = moe_layers * moe.top_k * one_expert

    lm_head = 0 if m.tied_embeddings or m.encoder else m.vocab * h
    lm_head += m.vocab if m.lm_head_bias else 0
    other = (h * h + h) if m.pooler else 0
    return ParamCount(embedding, attention, dense_ffn, expert_ffn, norms, lm_head, other, active_expert)

"""One pass of a transformer over some tokens, per chip: the operators and collectives it costs.

``layer_ops`` adds the operators of every layer (matmuls, attention, activation, elementwise, LM head) to a
``roofline.Phase``; ``collectives`` adds the tensor-, expert- and pipeline-parallel traffic. A ``Pass`` says
which tokens the pass carries and what they attend to; a ``Split`` what the layout leaves on each chip.
Inference (prefill, decode steps) is built from these passes; training will be too. Equations: docs/model.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from tcobench.perf import comm
from tcobench.perf.chip import Chip
from tcobench.perf.deployment import Formats, Layout
from tcobench.perf.roofline import Phase
from tcobench.perf.transformer import Shape
from tcobench.perf.vec import Mask, Vec, maximum, minimum, truthy, where


@dataclass(frozen=True, slots=True)
class Pass:
    """One forward pass, per attention group.

    tokens: tokens per attention group; groups: attention groups working at once (their tokens meet in the
    routed experts); pairs: (query, context) pairs per group for attention; kv_read: token positions whose K/V
    are read (FlashAttention-style: each once per pass, so the whole context in decode and the prompt itself
    in prefill); lm_tokens: tokens that reach the LM head; write_kv: tokens whose K/V are written to the cache;
    kv_per_chip: KV elements per token per layer on one chip (``kv_share``); kv_read_elems: KV elements the
    attention kernel reads per token position per layer on one chip (default ``kv_per_chip``; more when the
    kernel reads a KV head once per query head, see ``kv_read_per_chip``). local_pairs / local_kv_read: the same
    as pairs / kv_read in the model's local-attention layers, whose context is capped at ``Shape.window``
    (``windowed``); needed only when the model has such layers.
    """

    tokens: Vec
    groups: Vec
    pairs: Vec
    kv_read: Vec
    lm_tokens: Vec
    write_kv: Vec
    kv_per_chip: Vec
    kv_read_elems: Vec | None = None
    local_pairs: Vec | None = None  # pairs and positions read in a local-attention layer (``Shape.window``)
    local_kv_read: Vec | None = None


@dataclass(frozen=True, slots=True)
class Split:
    """What a layout leaves on each chip, worked out once per evaluation.

    h_mm / h_ew: hidden-state elements per token that a matmul reads or writes / that the elementwise ops touch
    on one chip (the whole hidden state in 1D tensor parallelism, which replicates it; the 2D layout shards it:
    d_model / x and d_model / tp). x, yz: the 2D split of tp (``split_2d``). bw_group / bw_pp: per-direction
    bandwidth of the link tier the tp x ep group (the expert exchange) / the whole replica crosses. bw_tp: what a
    ring collective over one tensor-parallel group gets (its tp chips are adjacent: inside a scale-up domain, that
    domain's share for tp chips; across domains, the chips of a domain pool their NICs, ``comm.ring_bandwidth``);
    bw_tp_a2a: an all-to-all over the tp group, which cannot pool NICs (``comm.tier_bandwidth``).
    """

    two_d: Mask
    any_2d: bool  # 1D-only sweeps skip the 2D arrays (perf_grid's speed)
    x: Vec
    yz: Vec
    h_mm: Vec
    h_ew: Vec
    bw_group: Vec
    bw_pp: Vec
    bw_tp: Vec
    bw_tp_a2a: Vec

    @classmethod
    def of(cls, s: Shape, chip: Chip, lay: Layout) -> Split:
        two_d = truthy(lay.two_d)
        any_2d = two_d if isinstance(two_d, bool) else bool(np.any(two_d))
        x, yz = split_2d(s, lay.tp) if any_2d else (1.0, lay.tp)
        h_mm = np.where(two_d, s.hidden / x, s.hidden) if any_2d else s.hidden
        h_ew = np.where(two_d, s.hidden / lay.tp, s.hidden) if any_2d else s.hidden
        return cls(two_d, any_2d, x, yz, h_mm, h_ew, comm.tier_bandwidth(chip, lay.tp * lay.ep, lay.replica),
                   comm.tier_bandwidth(chip, lay.replica), comm.ring_bandwidth(chip, lay.tp, 1.0, lay.replica),
                   comm.tier_bandwidth(chip, lay.tp, lay.replica))


def split_2d(s: Shape, tp: Vec) -> tuple[Vec, Vec]:
    """(x, yz) of the 2D weight-stationary layout on ``tp`` chips: d_model over x, d_ff and heads over yz.
    x = sqrt(tp x d_model / d_ff), to the nearest power of two within [1, tp], the split that minimises the
    per-chip traffic 2 T (d_model / x + d_ff / yz) (Pope et al. 2022, section 3.2.2)."""
    tp = np.asarray(tp, dtype=float)
    x = np.clip(2.0 ** np.round(0.5 * np.log2(tp * s.hidden / max(s.ffn_width, 1))), 1.0, tp)
    return x, tp / x


def layer_ops(ph: Phase, s: Shape, p: Pass, lay: Layout, fmt: Formats, split: Split,
              norm_memory_eff: Vec | None = None, capacity: float | None = None) -> None:
    """Add one forward pass ``p`` over every layer, per chip, to ``ph``: the attention block, the FFN (dense or
    MoE), norms and residual adds, and the LM head. The embedding and LM head weights run at
    ``fmt.head_bytes`` and the chip's ``head_rate`` (16-bit when the body is quantised: ``precision.head_bytes``).
    ``norm_memory_eff``: the fraction of the bandwidth the two norms' kernels reach, when not the chip's
    ``memory_eff`` (a training stack running PyTorch's eager norm kernels: perf/training.py).
    ``capacity``: the routed experts' inputs dropped and padded to ``capacity`` x their balanced share of the
    assignments (Megatron-Core's ``moe_pad_expert_input_to_capacity``): every chip computes exactly that share, so it
    replaces ``routing_imbalance``; None: dropless routing.
    """
    tp, ep = lay.tp, lay.ep
    wb, kvb, ab, hb = fmt.weights, fmt.kv, fmt.activations, fmt.head_bytes
    kv_per_chip = p.kv_per_chip
    kv_read_elems = kv_per_chip if p.kv_read_elems is None else p.kv_read_elems
    L = s.layers
    h, h_ew = split.h_mm, split.h_ew
    T, groups, pairs, kv_read, write_kv, lm_tokens = p.tokens, p.groups, p.pairs, p.kv_read, p.write_kv, p.lm_tokens
    mm = ph.chip.matmul_memory_eff  # the body's matmuls stream their weights at the compute precision's rate
    # attention block
    ph.op("qkv_proj", L, 2.0 * T * (s.attn_params - s.attn_out_params) / tp,
          (s.attn_params - s.attn_out_params) / tp * wb + T * (h + s.qkv_width / tp) * ab, memory_eff=mm)
    qo = T * 2.0 * s.heads * s.head_dim / tp * ab
    if s.window_layers:  # local layers attend to at most the last `window` tokens
        lp = pairs if p.local_pairs is None else p.local_pairs
        lr = kv_read if p.local_kv_read is None else p.local_kv_read
        ph.op("attention", L - s.window_layers, s.attn_flops_per_pair * pairs / tp,
              (kv_read * kv_read_elems + write_kv * kv_per_chip) * kvb + qo, rate=ph.chip.attn_rate)
        ph.op("attention_local", s.window_layers, s.attn_flops_per_pair * lp / tp,
              (lr * kv_read_elems + write_kv * kv_per_chip) * kvb + qo, rate=ph.chip.attn_rate)
    else:
        ph.op("attention", L, s.attn_flops_per_pair * pairs / tp,
              (kv_read * kv_read_elems + write_kv * kv_per_chip) * kvb + qo, rate=ph.chip.attn_rate)
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
        # the routed experts are split over moe_ep of the tp x ep chips of a stage, each tensor-parallel over the rest
        moe_ep = ep if lay.moe_ep is None else lay.moe_ep
        moe_tp = tp if lay.moe_ep is None else tp * ep / lay.moe_ep
        routed = T * groups  # tokens meeting in the experts; their top-k assignments spread over moe_ep chips
        distinct = expected_experts(s, routed)
        # the most-loaded of the moe_ep chips sets the layer's time: its share of the assignments, and of the
        # distinct experts read (at most the experts it holds; at batch 1 a chip with a token reads a whole expert);
        # its grouped GEMM runs at the rate of the tokens each expert holds on average
        # with redundant experts a chip holds (experts + redundant) / moe_ep copies, and a hot expert's tokens are split
        # over its copies, so the copies read and the tokens per copy follow the physical count (EPLB's replicas)
        held = (s.experts + lay.redundant) / moe_ep
        copies = distinct * (1.0 + lay.redundant / max(s.experts, 1))  # the physical experts the pass reads
        busiest = routing_imbalance(s, routed, moe_ep) if capacity is None else capacity
        touched = minimum(copies / moe_ep * busiest, held)  # expert copies the busiest chip reads
        per_chip = routed * s.top_k / moe_ep * busiest
        per_expert = where(copies > 0, routed * s.top_k / maximum(copies, 1e-30), 0.0)  # an empty pass: no work
        if capacity is not None:  # padded: every expert holds capacity x its balanced share, routed or not
            per_expert, touched = routed * s.top_k / max(s.experts, 1) * capacity, held
        rate = ph.chip.peak * ph.chip.compute_eff * grouped_gemm_share(ph.chip, per_expert)
        ph.op("moe_experts", s.moe_layers, 2.0 * per_chip * s.expert_params / moe_tp,
              touched * s.expert_params / moe_tp * wb + per_chip * (2.0 * h + 3.0 * s.expert_width / moe_tp) * ab,
              rate=rate, memory_eff=mm)
        width = per_chip * s.expert_width / moe_tp + T * s.shared_width / tp  # routed and shared experts' intermediates
        ph.op("moe_activation", s.moe_layers, 4.0 * width, act_io * width * ab)
        # the tokens are copied into expert order before the grouped GEMMs and their k outputs summed back into token
        # order after them, two passes over the routed hidden states (``moe_routing_bytes``)
        permute, unpermute = moe_routing_bytes(T, per_chip, h, ab)
        ph.op("moe_permute", s.moe_layers, 0.0, permute)
        ph.op("moe_unpermute", s.moe_layers, 2.0 * per_chip * h, unpermute)
    # norms and residual adds: memory-bound streams of the hidden state, 8 elements per hidden element: each norm reads
    # and writes it (4), each residual add likewise (4); the norms' half at ``norm_memory_eff`` where one is given
    ew = None if norm_memory_eff is None else 8.0 / (4.0 / norm_memory_eff + 4.0 / ph.chip.memory_eff)
    ph.op("elementwise", L, 20.0 * T * h_ew, 8.0 * T * h_ew * ab, memory_eff=ew)
    ph.op("lm_head", 1, 2.0 * lm_tokens * s.lm_head_params / tp, s.lm_head_params / tp * hb + lm_tokens * (s.hidden + 2.0 * s.vocab / tp) * ab,
          rate=ph.chip.head_rate, memory_eff=ph.chip.head_memory_eff)




def kv_share(s: Shape, tp: Vec, two_d: Mask = False) -> Vec:
    """KV-cache elements per token per layer that one chip holds. 1D: the KV heads are split over tp (an MLA
    latent, or KV heads fewer than tp, are repeated). 2D: sequences are split over the tp chips (batch-sharded
    attention), so a chip holds all heads of 1/tp of the tokens: kv_elems / tp on average."""
    one_d = s.kv_elems if s.kv_replicated else s.kv_elems / minimum(tp, s.kv_heads)
    if two_d is False or not np.any(two_d):
        return one_d
    return np.where(two_d, s.kv_elems / np.asarray(tp, dtype=float), one_d)


def kv_read_per_chip(s: Shape, tp: Vec, kv_per_chip: Vec, per_query_head: Vec | Mask) -> Vec:
    """KV elements a decode attention kernel reads per token position per layer on one chip.

    Once per KV head (``per_query_head`` false/0): the cached K and V themselves. Once per query head
    (true/1, e.g. TensorRT-LLM's pre-XQA kernel): K and V for each of the heads / tp query heads on the
    chip, i.e. the group size (heads / kv_heads) times more for GQA/MQA and the same for multi-head
    attention. MLA keeps one latent per token that every head reads; it is left as it is.
    """
    if s.kv_replicated:
        return kv_per_chip
    per_query = 2.0 * s.heads * s.head_dim / tp
    return where(truthy(per_query_head), maximum(kv_per_chip, per_query), kv_per_chip)


def moe_routing_bytes(tokens: Vec, assignments: Vec, h: Vec, ab: Vec) -> tuple[Vec, Vec]:
    """Bytes of the two memory passes around an MoE layer's grouped GEMMs on one chip, for ``tokens`` tokens whose
    ``assignments`` (token, expert) pairs the chip computes, ``h`` hidden elements each at ``ab`` bytes: the permute
    reads the tokens and writes one copy per assignment, grouped by expert; the unpermute reads the assignments'
    outputs and writes each token's weighted sum. As the engines run them: TensorRT-LLM's expandInputRowsKernel and
    finalizeMoeRoutingKernel (cpp/tensorrt_llm/kernels/mixtureOfExperts/moe_kernels.cu), vLLM's moe_permute and
    moe_unpermute (CUTLASS path), SGLang's ep_scatter / ep_gather around DeepGEMM (DeepEP path). Every stack is
    charged both: vLLM's Triton fused_moe reads its rows by index inside the GEMM and runs only the unpermute
    (moe_sum), so there the permute is one pass too many. Returns (permute, unpermute) bytes."""
    moved = (tokens + assignments) * h * ab
    return moved, moved


def expected_experts(s: Shape, tokens: Vec) -> Vec:
    """Distinct experts a layer touches for ``tokens`` tokens with uniform top-k routing:
    E x (1 - (1 - k/E)^tokens) (each expert is missed by one token with probability 1 - k/E)."""
    return s.experts * (1.0 - (1.0 - s.top_k / s.experts) ** tokens)


def grouped_gemm_share(chip: Chip, m: Vec) -> Vec:
    """The fraction of the chip's GEMM rate an MoE layer's grouped expert GEMM reaches at ``m`` tokens per expert:
    1 - loss x log2(full / m), at most 1, and held at its value at ``least`` tokens below that (Chip.gg_*, from the
    catalog's [efficiency] grouped_gemm_* figures: DeepGEMM's grouped GEMMs lose 0.08 of their rate per halving
    of the tokens per expert from 4096 down to 256, the fewest it lists)."""
    m = maximum(m, chip.gg_least)
    return minimum(1.0 - chip.gg_loss * np.log2(chip.gg_full / m), 1.0)


def routing_imbalance(s: Shape, tokens: Vec, n: Vec) -> Vec:
    """Expected load of the most-loaded of ``n`` chips that split the routed experts evenly, over the mean load,
    for ``tokens`` tokens routed uniformly at random to top-k distinct experts (a lower bound: trained routers are
    more skewed). A token's assignments on one chip are hypergeometric (E experts, E/n on the chip, k drawn):
    variance k (1/n)(1 - 1/n)(E - k)/(E - 1); over independent tokens the load is close to normal, and the
    largest of n normal loads is the mean plus z_n standard deviations, z_n = Phi^-1((n - 0.375)/(n + 0.25))
    (Blom 1958; exact for n = 1, 1.433 against 1.424 for n = 8), at least one assignment and at most every token's
    top-k on that chip. Against a simulation of the routing it falls 6-13 % short of the busiest chip's excess."""
    n = np.asarray(n, dtype=float)
    if np.all(n <= 1) or not s.experts:
        return 1.0
    k, e = float(s.top_k), float(s.experts)
    mean = tokens * k / n
    sd = np.sqrt(tokens * k / n * (1.0 - 1.0 / n) * (e - k) / max(e - 1.0, 1.0))
    z = _normal_quantile((n - 0.375) / (n + 0.25))
    # at least one assignment on some chip (the normal tail undercounts a handful of tokens), at most all of them
    most = minimum(maximum(mean + z * sd, minimum(tokens * k, 1.0)), tokens * np.minimum(k, e / n))
    return where((n > 1) & (mean > 0), most / maximum(mean, 1e-30), 1.0)


_normal_quantile = np.vectorize(NormalDist().inv_cdf, otypes=[float])


def model_flops(s: Shape, tokens: Vec, pairs: Vec, lm_tokens: Vec, local_pairs: Vec | None = None) -> Vec:
    """FLOPs the model needs (not per chip): 2 per active matmul parameter per token, plus attention
    (``local_pairs`` in the local-attention layers)."""
    per_token = s.layers * s.attn_params + s.dense_layers * s.dense_ffn_params
    per_token += s.moe_layers * (s.shared_params + s.top_k * s.expert_params)
    attn = s.attn_flops_per_pair * pairs * s.layers
    if s.window_layers and local_pairs is not None:
        attn = s.attn_flops_per_pair * (pairs * (s.layers - s.window_layers) + local_pairs * s.window_layers)
    return 2.0 * tokens * per_token + attn + 2.0 * lm_tokens * s.lm_head_params


def windowed(s: Shape, context: Vec) -> Vec:
    """A per-token context capped at the model's local-attention window."""
    return minimum(context, s.window)


def causal_pairs(s: Shape, n: Vec, window: bool = False) -> Vec:
    """(query, key) pairs of a causal pass over n tokens: n^2 / 2, or with a window W, W n - W^2 / 2 once n > W."""
    full = n * n / 2.0
    if not window or not s.window_layers:
        return full
    return where(n <= s.window, full, s.window * n - s.window * s.window / 2.0)


def collectives(ph: Phase, s: Shape, tokens: Vec, lay: Layout, fmt: Formats, split: Split, batch_sharded: Mask = False,
                capacity: float | None = None) -> None:
    """Collectives of one pass of ``tokens`` tokens per attention group, per chip. 1D: an all-reduce of the hidden
    state after attention and after the FFN. 2D (``split.two_d``): per block, all-gather the input over yz,
    reduce-scatter the projection's partial sums over x, all-gather its activated output over x, reduce-scatter
    the block's output over yz; with ``batch_sharded`` attention (decode), q/k/v go to the chip that holds the
    sequence's KV and the attention output comes back, two all-to-alls per layer. ``capacity``: as ``layer_ops``'s
    (each chip sends capacity x its balanced share to every expert, so every group receives the same)."""
    tp, pp, ep, ab = lay.tp, lay.pp, lay.ep, fmt.activations
    chip, two_d, bw_group, bw_pp, bw_tp = ph.chip, split.two_d, split.bw_group, split.bw_pp, split.bw_tp
    msg = tokens * s.hidden * ab
    one = np.where(two_d, 0.0, 1.0) if split.any_2d else 1.0
    ph.comm("tp_all_reduce", 2 * s.layers, one * comm.all_reduce(msg, tp, bw_tp, chip.alpha, comm.one_shot(chip, tp)),
            one * msg)
    if np.any(np.asarray(chip.cores) > 1):  # tensor parallelism over a chip's cores: their die-to-die stage as well
        ph.comm("tp_core_all_reduce", 2 * s.layers, one * comm.core_all_reduce(msg, chip.cores, chip.core_bw, chip.alpha),
                one * msg)
    if split.any_2d:
        x, yz = split.x, split.yz
        on = np.where(two_d, 1.0, 0.0)
        d_in = s.hidden / x * tokens * ab  # the block's input (and output) slice, gathered over yz
        gated = 2.0 if s.ffn_gated else 1.0  # gate and up: both partial sums are reduced before the activation
        attn_in, attn_mid = s.qkv_width / yz * tokens * ab, s.heads * s.head_dim / yz * tokens * ab
        ffn_in, ffn_mid = gated * s.ffn_width / yz * tokens * ab, s.ffn_width / yz * tokens * ab
        ag_yz = comm.all_gather(d_in, yz, bw_tp, chip.alpha)
        ph.comm("tp2d_all_gather_yz", 2 * s.layers, on * ag_yz, on * d_in)
        ph.comm("tp2d_reduce_scatter_yz", 2 * s.layers, on * ag_yz, on * d_in)
        for name, m_in, m_mid in (("attn", attn_in, attn_mid), ("ffn", ffn_in, ffn_mid)):
            t = comm.all_gather(m_in, x, bw_tp, chip.alpha) + comm.all_gather(m_mid, x, bw_tp, chip.alpha)
            ph.comm(f"tp2d_{name}_x", s.layers, on * t, on * (m_in + m_mid))
        a2a = on * where(batch_sharded, 1.0, 0.0)
        qkv, out = s.qkv_width / tp * tokens * ab, s.heads * s.head_dim / tp * tokens * ab  # each chip's share
        t = comm.all_to_all(qkv, tp, split.bw_tp_a2a, chip.alpha) + comm.all_to_all(out, tp, split.bw_tp_a2a, chip.alpha)
        ph.comm("attn_all_to_all", s.layers, a2a * t, a2a * (qkv + out))
    if s.moe_layers:  # the group that receives the most-loaded experts' tokens ends the exchange between the ep groups
        # each token goes to its top-k experts in the format their GEMMs read (fp8 for an fp8 model) and comes back
        # from them in 16 bits (``precision.dispatch_bytes``); both exchanges send to every peer at once
        skew = routing_imbalance(s, tokens * ep, ep) if capacity is None else capacity
        load = tokens * s.top_k * s.hidden * skew  # elements the busiest group gets
        sent, back = load * fmt.dispatch_bytes, load * ab
        ph.comm("ep_dispatch", s.moe_layers, comm.exchange(sent, ep, bw_group, chip.alpha), sent)
        ph.comm("ep_combine", s.moe_layers, comm.exchange(back, ep, bw_group, chip.alpha), back)
    ph.comm("pp_send_recv", maximum(pp - 1, 0.0), where(pp > 1, comm.send_recv(msg, bw_pp, chip.alpha), 0.0), msg)

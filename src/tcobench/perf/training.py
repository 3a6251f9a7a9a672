"""Training steps, vectorised: a transformer's forward and backward passes over micro-batches, scheduled on a
pipeline, with the data-parallel gradient reduction and the optimizer step -> step time, tokens/s, MFU, HFU and
memory per chip.

The operators are inference's (``layer.layer_ops``: one forward pass over ``micro_batch x seq_len / cp`` tokens
per chip) and so are the efficiency factors and the collectives' alpha-beta costs. What training adds
(docs/training.md has the equations and their sources):

- backward = 2 x forward for the matmuls and the memory-bound operators (a gradient for the input and one for
  the weights), ``attention_backward`` x forward for the attention core (FlashAttention-2 recomputes the scores);
  activation recomputation adds the attention core's forward (selective) or the whole forward (full);
- tensor (+ sequence) parallel collectives as in inference, twice (forward and backward) and again under full
  recomputation; expert all-to-alls likewise; context parallelism's ring exchange of K and V per layer, hidden
  under the attention core where it is shorter;
- pipeline: 1F1B, or interleaved over ``vpp`` virtual stages per chip: ``(m + (pp - 1) / vpp)`` stage times for
  ``m`` micro-batches (Narayanan et al. 2021, section 2.2), the last stage carrying the LM head;
- data parallelism over ``dp x cp`` chips per stage (experts over ``dp x cp / ep``): gradients reduced (ZeRO-0:
  all-reduce; ZeRO-1/2: reduce-scatter + all-gather of the weights; ZeRO-3: plus the weights gathered for every
  micro-batch's forward and backward; hybrid sharding over ``zero_group`` ranks: those within the shard group, then
  an all-reduce of each chip's shard across the ``dp / zero_group`` replicas, on the tier they span), hidden under the last micro-batch's backward and the first one's forward
  where the framework overlaps them (``Framework``);
- the optimizer step: memory-bound, over the parameters (or the shard) a chip updates;
- an eager stack (``Framework.eager_kernels_*``): each pass takes at least its kernel launches x the chip's
  ``eager_overhead`` (the host queues kernels ahead of the GPU; ``_host_floor``);
- fp8 training with a framework naming an fp8 recipe (Transformer Engine's): the recipe's separate casts and
  transposes as memory-bound work (``_fp8_ops``; the cast-transposes at the chip's measured ``fp8_cast_transpose``
  rate where it has one), each weight cast once per step, its Linear inputs saved in fp8 and its fp8 weight copies in
  memory;
- PyTorch FSDP (``Framework.fsdp_*_bytes``): its own passes over the full weights (each all-gather's output, any
  copy out of it) and gradients (assembly, cast to the reduce dtype, divides, the reduce-scatter's read) every
  micro-batch, as memory-bound work in the forward and backward passes (``_fsdp_time``);
- MoE layers on a Megatron-Core stack: the token permutation as the eager ops it runs unfused (``_permute_ops``) and
  the experts' inputs padded to a capacity (``Framework.moe_permute_fused``, ``moe_capacity``); in fp8, the routed
  experts' Linear layers' casts (``_fp8_ops``);
- memory: weights, gradients, optimizer state (sharded by ZeRO stage), activations held by the schedule
  (Korthikanti et al. 2022), fp32 logits.

Every field of ``Parallel`` and ``TrainBatch`` may be a NumPy array, as in ``inference.evaluate``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tcobench.perf import comm
from tcobench.perf.chip import Chip
from tcobench.perf.deployment import Formats, Layout
from tcobench.perf.layer import (Pass, Split, causal_pairs, collectives, kv_share, layer_ops, model_flops,
                                 routing_imbalance)
from tcobench.perf.reasons import Reason
from tcobench.perf.remat import Remat, elements, saved_share
from tcobench.perf.roofline import COMM, COMPUTE, MEMORY, Phase
from tcobench.perf.stacks import Fp8Recipe, Framework, fp8_recipes
from tcobench.perf.transformer import Shape
from tcobench.perf.vec import Mask, Vec, isfinite, maximum, minimum, scalar, where

RECOMPUTE = ("none", "selective", "full", "custom")  # index = the code ``step`` takes; custom: a ``Remat`` policy
UNIFORM_RECOMPUTE = RECOMPUTE[:3]  # the modes that need no per-tensor policy: those a search or a sweep takes
ZERO_STAGES = (0, 1, 2, 3)  # 3 is FSDP's full sharding


@dataclass(frozen=True, slots=True)
class Parallel:
    """A training layout: ``tp`` tensor (with sequence parallelism when ``sequence_parallel``) x ``pp`` pipeline
    (``vpp`` virtual stages per chip: the interleaved schedule) x ``cp`` context x ``dp`` data parallel chips;
    experts over ``ep`` of the data-parallel chips (Megatron's expert parallelism, carved out of dp x cp).
    ``zero``: 0 (replicated optimizer), 1 (optimizer state sharded: Megatron's distributed optimizer), 2 (and
    gradients), 3 (and weights: FSDP). ``zero_group``: the data-parallel ranks the ZeRO stage shards over (hybrid
    sharding: PyTorch HSDP, a JAX 2D mesh; the ``dp / zero_group`` groups replicate each other); 0, or ``dp``
    itself, shards over the whole data-parallel group."""

    tp: Vec = 1.0
    pp: Vec = 1.0
    dp: Vec = 1.0
    cp: Vec = 1.0
    ep: Vec = 1.0
    vpp: Vec = 1.0
    zero: Vec = 1.0
    sequence_parallel: Mask = True
    zero_group: Vec = 0.0

    @property
    def chips(self) -> Vec:
        return self.tp * self.pp * self.cp * self.dp


@dataclass(frozen=True, slots=True)
class TrainBatch:
    """``global_batch`` sequences of ``seq_len`` tokens per optimizer step, ``micro_batch`` sequences per forward
    pass on one pipeline (gradient accumulation over global / (micro x dp) micro-batches)."""

    micro_batch: Vec
    global_batch: Vec
    seq_len: Vec


# Names of the parts of a step (``TrainResult.parts``), in the order the breakdown prints them.
PARTS = ("forward", "backward", "recompute", "host_offload", "tp_comm", "ep_comm", "cp_comm", "pp_bubble", "pp_send_recv",
         "dp_comm", "optimizer")


@dataclass(frozen=True)
class TrainResult:
    """Arrays broadcast over the inputs; per chip unless the name says otherwise. ``parts``: seconds of one step on
    the critical path by kind (``PARTS``), summing to ``step_time_s``."""

    step_time_s: Vec
    tokens_per_s: Vec  # the whole job
    mfu: Vec  # model FLOPs (3 x forward) / (step time x chips x peak)
    hfu: Vec  # ... with the recomputed FLOPs
    model_flops_per_step: Vec  # the whole job
    microbatches: Vec  # per pipeline per step
    bubble_share: Vec  # of the step
    weights_bytes: Vec
    grads_bytes: Vec
    optimizer_bytes: Vec
    activation_bytes: Vec
    capacity_bytes: Vec
    fits: Mask
    code: int | NDArray[np.int32]  # 0: valid and fits; else ``Reason`` flags
    parts: dict[str, Vec]
    forward: Phase | None = None  # per-operator detail of one micro-batch's forward pass on one chip (all layers)
    comm_bytes: dict[str, Vec] | None = None  # bytes per chip per step by collective, with detail

    @property
    def ok(self) -> Mask:
        return self.code == 0


def activation_elems(s: Shape) -> tuple[float, float]:
    """Activation elements one token keeps per layer for its backward pass, averaged over the layers:
    (split by tensor parallelism, replicated without sequence parallelism). The inputs of the two norms and of the
    two blocks (4 h), q, k and v, the attention output, and the FFN's intermediates (gate and up outputs and their
    product when gated; top-k experts' and the shared experts' in an MoE layer, with the routed copies of the
    input). FlashAttention keeps no score matrix. Korthikanti et al. 2022 count 34 h bytes for GPT-3's layer with
    dropout masks and no FlashAttention, besides the scores; this count gives 32 h bytes for that layer."""
    per_ffn = 3.0 if s.ffn_gated else 2.0
    attn = s.qkv_width + s.heads * s.head_dim
    dense = per_ffn * s.ffn_width
    moe = per_ffn * (s.top_k * s.expert_width + s.shared_width) + s.top_k * s.hidden
    ffn = (s.dense_layers * dense + s.moe_layers * moe) / max(s.layers, 1)
    return attn + ffn, 4.0 * s.hidden


def step(s: Shape, chip: Chip, par: Parallel, batch: TrainBatch, fmt: Formats, fw: Framework, *,
         recompute: Vec = 1.0, detail: bool = False, attention: tuple[float, float] | None = None,
         remat: Remat | None = None, host_bw: float | None = None) -> TrainResult:
    """One optimizer step of every configuration the records describe (their fields broadcast together).
    ``recompute``: 0 none, 1 selective, 2 full, 3 custom (``RECOMPUTE``): per-tensor placement by ``remat``
    (``perf.remat``; None: its defaults, every tensor rematerialised). ``host_bw``: bytes/s each way between a chip
    and its host's memory, over which offloaded tensors travel (None: no figure, the transfers are not charged).
    ``fmt``: the compute format's bytes in ``weights`` (bf16: 2, fp8: 1) and the activations' in ``activations``.
    ``attention``: the (forward, backward) FLOP/s of the framework's attention kernel on this chip
    (``attention_rates``); None: the chip's attention rate."""
    if attention is not None:  # the attention core's forward (and its recomputation) at the kernel's forward rate
        chip = replace(chip, attn_rate=attention[0])
    bwd_ratio = 1.0 if attention is None else attention[0] / attention[1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _step(s, chip, par, batch, fmt, fw, scalar(recompute), detail, bwd_ratio, remat or Remat(), host_bw)


def _step(s: Shape, chip: Chip, par: Parallel, batch: TrainBatch, fmt: Formats, fw: Framework, rc: Vec,
          detail: bool, bwd_ratio: float, policy: Remat, host_bw: float | None) -> TrainResult:
    tp, pp, dp, cp, ep, vpp, zero, zg = (scalar(x) for x in (par.tp, par.pp, par.dp, par.cp, par.ep, par.vpp, par.zero,
                                                             par.zero_group))
    mb, gb, seq = (scalar(x) for x in (batch.micro_batch, batch.global_batch, batch.seq_len))
    sp = par.sequence_parallel
    chips = tp * pp * cp * dp
    L = float(s.layers)
    ab = fmt.activations
    m = gb / (dp * mb)  # micro-batches per pipeline per step
    T = mb * seq / cp  # tokens one chip's pass carries

    # One micro-batch's forward pass over all the layers, per chip (the pipeline divides it below).
    lay = Layout(tp, 1.0, ep)
    split = Split.of(s, chip, lay)
    kvc = kv_share(s, tp)
    local = bool(s.window_layers)
    pairs = mb * causal_pairs(s, seq) / cp
    lpairs = mb * causal_pairs(s, seq, True) / cp if local else None
    custom = bool(np.any(np.asarray(rc) >= 3))
    full = (rc >= 2) & (rc < 3)  # full recomputation (custom: the policy's share of it)
    fwd = Phase(chip, detail or custom)  # custom: the operators' own times, to leave out those whose outputs are kept
    moe_cap = fw.moe_capacity if fw.moe_capacity > 0 else None  # padded experts (None: dropless)
    layer_ops(fwd, s, Pass(T, ep, pairs, T, T, 0.0, kvc, None, lpairs, T if local else None), lay, fmt, split,
              norm_memory_eff=_norm_eff(chip, fw), capacity=moe_cap)
    _eager_ops(fwd, s, T, tp, kvc, split, fw, ab)
    _permute_ops(fwd, s, T, ep, split, fw, ab)
    recipe = fp8_recipes()[fw.fp8_recipe] if fw.fp8_recipe else None
    fp8 = where(fmt.weights < 2.0, 1.0, 0.0) if recipe is not None else 0.0  # the recipe runs in fp8 training only
    t_before = fwd.time
    t_f8b_layer = _fp8_ops(fwd, s, T, tp, sp, recipe, fp8, _assignments(s, T, ep, fw), fw.fp8_mlp)
    t_f8f = fwd.time - t_before  # the forward pass's separate casts (all layers)
    collectives(fwd, s, T, lay, fmt, split, capacity=moe_cap)
    t_fc = fwd.by_bound[COMPUTE] + fwd.by_bound[MEMORY]  # forward operators
    t_fcomm = fwd.by_bound[COMM]  # forward tp all-reduces and expert all-to-alls
    attn_flops = s.attn_flops_per_pair * (pairs * (L - s.window_layers) + (lpairs if lpairs is not None else 0.0) * s.window_layers) / tp
    t_attn = attn_flops / chip.attn_rate  # the attention core's forward, at its compute rate
    t_head = 2.0 * T * s.lm_head_params / tp / chip.head_rate  # the LM head's forward (on the last stage)

    # Backward, recomputation, and the collectives each repeats.
    # the attention core's backward: attention_backward x its forward FLOPs, at the kernel's backward rate
    # the fp8 recipe's casts and transposes: the backward pass's own (``_fp8_ops``), not 2 x the forward's
    bw_mem = chip.mem_bw * chip.memory_eff
    t_f8b = L * t_f8b_layer
    t_bc = 2.0 * (t_fc - t_attn - t_f8f) + fw.attention_backward * t_attn * bwd_ratio + t_f8b
    t_core = t_attn  # the attention core's forward, as recomputed by selective recomputation
    scores: Vec = 0.0
    if fw.attention == "unfused":
        # Scores materialised: batched GEMMs over the whole s x s square (masked, not skipped), and the score matrix
        # written and read by each kernel between them (docs/training.md, 'Unfused attention'); backward: 2 x the
        # GEMMs, and its own passes over the scores.
        scores = L * s.heads / tp * mb * seq * seq / cp  # score elements per micro-batch on one chip, all layers
        bw = chip.mem_bw * chip.memory_eff
        t_fc = t_fc + t_attn + scores * fw.unfused_forward_bytes / bw
        t_core = 2.0 * t_attn + scores * fw.unfused_forward_bytes / bw
        t_bc = 2.0 * (t_fc - t_core - t_f8f) + 4.0 * t_attn + scores * fw.unfused_backward_bytes / bw + t_f8b
    t_kept: Vec = 0.0  # custom: forward time and FLOPs of the operators whose outputs the policy keeps
    f_kept: Vec = 0.0
    for name, count, flops, _nbytes, t_op, _bound in fwd.ops if custom else ():
        share = saved_share(s, policy, name)
        t_kept, f_kept = t_kept + share * t_op, f_kept + share * flops * count
    t_rc = where(rc >= 3, t_fc - t_kept, where(rc >= 2, t_fc, where(rc >= 1, t_core, 0.0)))
    comm_passes = 2.0 + where(rc >= 2, 1.0, 0.0)
    t_ep_fwd = _ep_time(s, T, ep, split, chip, ab)
    t_tp = (t_fcomm - t_ep_fwd) * comm_passes * (1.0 - fw.tp_comm_overlap)
    t_ep = t_ep_fwd * comm_passes
    # context parallel: each layer gathers the other cp - 1 chips' K and V (ring), and reduce-scatters their
    # gradients in the backward pass; hidden under the attention core where shorter
    bw_cp = comm.tier_bandwidth(chip, tp * cp, chips)
    kv_msg = T * cp * kvc * fmt.kv
    t_cp_layer = comm.all_gather(kv_msg, cp, bw_cp, chip.alpha)
    t_cp = L * (maximum(t_cp_layer - t_attn / L, 0.0) + maximum(t_cp_layer - fw.attention_backward * t_attn / L, 0.0))
    t_cp = where(cp > 1, t_cp, 0.0)
    # custom: tensors offloaded to host memory leave in the forward pass and come back in the backward pass, over the
    # chip's host link; where the framework overlaps the transfers, only what outlasts the pass is exposed
    def per_chip(names: tuple[str, ...]) -> Vec:  # elements per token per layer on one chip
        out: Vec = 0.0
        for n in names:
            e, split_tp = elements(s, n)
            out = out + e / (tp if split_tp else where(sp, tp, 1.0))
        return out

    t_off: Vec = 0.0
    offloaded = policy.named("offload")
    if custom and offloaded and host_bw is not None:
        one_way = L * T * per_chip(offloaded) * ab / host_bw
        t_off = (maximum(one_way - t_fc, 0.0) + maximum(one_way - t_bc - t_rc, 0.0)) if fw.overlap_offload else 2.0 * one_way
        t_off = where(rc >= 3, t_off, 0.0)
    # FSDP's passes over the full weights (forward and backward) and gradients (backward), memory-bound, all layers
    t_fsdp_f, t_fsdp_b = _fsdp_time(s, tp, ep, zero, fw, bw_mem)
    t_fc, t_bc = t_fc + t_fsdp_f, t_bc + t_fsdp_b
    # an eager stack's host issues each pass's kernels at eager_overhead apiece, queued ahead of the GPU: a pass whose
    # kernels are shorter than their launches takes the host's time instead (a recomputed forward launches its own)
    if fw.eager_kernels_forward or fw.eager_kernels_backward:
        host_f, host_b = _host_floor(chip, L, fw)
        t_rc = where(full, maximum(t_rc, host_f), t_rc)
        t_fc, t_bc = maximum(t_fc, host_f), maximum(t_bc, host_b)
    # passes over the logits beside the loss (the last stage's, after the backward pass: outside the forward and
    # backward passes that FSDP's gathers hide under)
    t_lp = T * s.vocab / tp * fw.logit_passes_bytes / bw_mem
    t_mb = t_fc + t_bc + t_rc + t_off + t_tp + t_ep + t_cp + t_lp  # one micro-batch, all layers, on one chip

    # Pipeline: the layers split over pp stages (the last also runs the LM head), m micro-batches, 1F1B or
    # interleaved over vpp virtual stages.
    head = (3.0 + where(full, 1.0, 0.0)) * t_head
    t_stage = where(pp > 1, (t_mb - head - t_lp) / pp + head + t_lp, t_mb)
    bubble = (pp - 1.0) / vpp * t_stage
    bw_pp = comm.tier_bandwidth(chip, chips)
    p2p_msg = T * s.hidden * ab / where(sp, tp, 1.0)
    t_p2p = where(pp > 1, 2.0 * (pp - 1.0) * comm.send_recv(p2p_msg, bw_pp, chip.alpha), 0.0)  # fill and drain
    t_pipe = m * t_stage + bubble + t_p2p

    # Data parallelism over dp x cp chips of a stage (the routed experts over dp x cp / ep).
    dense_p = (s.total_params - s.expert_total) / (tp * pp)
    expert_p = s.expert_total / (tp * pp * ep)
    n_d, n_e = dp * cp, dp * cp / ep
    # rings over the data-parallel ranks (tp apart) pool the NICs of the ranks that share a scale-up domain
    bw_dp = comm.ring_bandwidth(chip, dp * cp, tp, chips)
    a = chip.alpha
    # Hybrid sharding: ZeRO shards over g of the dp ranks (x cp; the experts' share of them), r = dp / g replicas.
    g = where((zg > 0.0) & (zg < dp), zg, dp)
    r = dp / g
    n_s, n_se = g * cp, maximum(n_e / r, 1.0)
    bw_s = comm.ring_bandwidth(chip, g * cp, tp, chips)  # the shard group: g x cp ranks, tp apart
    bw_r = comm.ring_bandwidth(chip, r, tp * cp * g, chips)  # the replicas of one shard, a shard group apart

    has_experts = s.expert_total > 0  # a dense model runs no expert collectives (nor pays their latency)

    def gather(nbytes_per_param: float | Vec, n1: Vec, n2: Vec, bw: Vec) -> Vec:  # all-gather (or reduce-scatter)
        experts = comm.all_gather(expert_p * nbytes_per_param, n2, bw, a) if has_experts else 0.0
        return comm.all_gather(dense_p * nbytes_per_param, n1, bw, a) + experts

    t_rs = gather(fw.grad_reduce_bytes, n_d, n_e, bw_dp)  # over the whole data-parallel group
    t_rs_s = gather(fw.grad_reduce_bytes, n_s, n_se, bw_s)  # within the shard group
    # each chip's gradient shard all-reduced with its peers in the other replicas (0 without hybrid sharding)
    t_rep = comm.all_reduce(dense_p / n_s * fw.grad_reduce_bytes, r, bw_r, a)
    if has_experts:
        t_rep = t_rep + comm.all_reduce(expert_p / n_se * fw.grad_reduce_bytes, n_e / n_se, bw_r, a)
    t_ag = gather(fw.param_gather_bytes, n_s, n_se, bw_s)
    t_grad = where(zero >= 1, t_rs_s + t_rep, 2.0 * t_rs)  # ZeRO-0: all-reduce (reduce-scatter + all-gather)
    sharded = (zero >= 1) | fw.optimizer_sharded  # the optimizer state sharded over the data-parallel ranks
    t_params = where(sharded, t_ag, 0.0)
    fwd_stage = (t_fc + t_tp / comm_passes) / pp
    bwd_stage = (t_bc + t_tp / comm_passes) / pp
    exposed_grad = maximum(t_grad - bwd_stage, 0.0) if fw.overlap_grad_reduce else t_grad
    exposed_params = maximum(t_params - fwd_stage, 0.0) if fw.overlap_param_gather else t_params
    # ZeRO-3: the weights are gathered again for every micro-batch's forward and backward, prefetched under compute
    z3 = where(zero >= 3, maximum(2.0 * m * t_ag - m * (t_fc + t_bc) / pp, 0.0), 0.0)
    t_dp = exposed_grad + exposed_params + z3

    # Optimizer: read the fp32 master weights, moments and main gradients, write the first three and the weights.
    shard_d, shard_e = where(sharded, n_s, 1.0), where(sharded, n_se, 1.0)
    rw = 2.0 * fw.optimizer_bytes + fw.grad_bytes + (fw.weight_bytes if fw.master_weights else 2.0 * fw.weight_bytes)
    t_opt = (dense_p / shard_d + expert_p / shard_e) * rw / (chip.mem_bw * chip.memory_eff)

    # the fp8 recipe casts each weight to its fp8 copy and transpose once per step (before the first micro-batch), with
    # the same fp8_cast_transpose_fused kernel as the inputs: at the chip's measured cast-transpose rate where it has one
    bw_wcast = chip.mem_bw * where(isfinite(chip.fp8_cast_transpose_eff), chip.fp8_cast_transpose_eff, chip.memory_eff)
    t_wcast = fp8 * (dense_p + expert_p) * (recipe.weight_cast_bytes if recipe is not None else 0.0) / bw_wcast

    step_time = t_pipe + t_dp + t_opt + t_wcast
    tokens = gb * seq
    fwd_flops = model_flops(s, tokens, gb * causal_pairs(s, seq), tokens, gb * causal_pairs(s, seq, True) if local else None)
    model_step = 3.0 * fwd_flops
    attn_all = s.attn_flops_per_pair * gb * (causal_pairs(s, seq) * (L - s.window_layers)
                                             + (causal_pairs(s, seq, True) if local else 0.0) * s.window_layers)
    recomputed = where(rc >= 3, fwd_flops * (1.0 - f_kept / where(fwd.flops > 0, fwd.flops, 1.0)),
                       where(rc >= 2, fwd_flops, where(rc >= 1, attn_all, 0.0)))
    peak_all = chips * chip.peak
    mfu = model_step / (step_time * peak_all)
    hfu = (model_step + recomputed) / (step_time * peak_all)

    # Memory per chip.
    # 16-bit weights (the stack's weight_bytes), plus an 8-bit copy in fp8 training (the recipe's fp8 copies where the
    # framework names one); a stack with fp8 parameters keeps only the fp8 copies in fp8 training
    copies = recipe.weight_copy_bytes if recipe is not None else fmt.weights
    w_bytes = where(fmt.weights < 2.0, copies + (0.0 if fw.fp8_params else fw.weight_bytes), fw.weight_bytes)
    zero_w, zero_g = where(zero >= 3, 1.0, 0.0), where(zero >= 2, 1.0, 0.0)
    weights = dense_p * w_bytes / where(zero_w > 0, n_s, 1.0) + expert_p * w_bytes / where(zero_w > 0, n_se, 1.0)
    grads = dense_p * fw.grad_bytes / where(zero_g > 0, n_s, 1.0) + expert_p * fw.grad_bytes / where(zero_g > 0, n_se, 1.0)
    opt = dense_p * fw.optimizer_bytes / shard_d + expert_p * fw.optimizer_bytes / shard_e
    split_e, repl_e = activation_elems(s)
    full_layer = T * (split_e / tp + repl_e / where(sp, tp, 1.0)) * ab
    if recipe is not None:  # the recipe's Linear layers keep their inputs in fp8, not in 16 bits
        split_8, repl_8 = fp8_saved_elems(s)
        full_layer = full_layer - fp8 * T * (split_8 / tp + repl_8 / where(sp, tp, 1.0)) * (ab - recipe.saved_input_bytes)
    kept = where(rc >= 2, T * s.hidden / where(sp, tp, 1.0) * ab, full_layer)  # full recompute keeps each layer's input
    if custom:  # the tensors the policy keeps on device (the layer input among them, unless offloaded)
        kept = where(rc >= 3, T * per_chip(policy.named("device")) * ab, kept)
    held = L / pp * minimum(m, pp) * where(vpp > 1, 1.0 + (pp - 1.0) / (pp * vpp), 1.0)  # layers' activations in flight
    logits = T * s.vocab / tp * fw.logits_bytes  # the loss's logits and their gradient, on the last stage
    if fw.attention == "unfused":  # without recomputation the softmax output, dropout mask and output stay (Korthikanti)
        kept = kept + where(rc >= 1, 0.0, scores / L * fw.unfused_stored_bytes)
    acts = held * kept + where(rc >= 2, full_layer, 0.0) + logits
    capacity = chip.mem_cap * chip.mem_util
    fits = (weights + grads + opt + acts) <= capacity

    code = _reasons(s, chip, tp, pp, dp, cp, ep, vpp, mb, gb, seq, split, bw_dp, bw_pp, bw_cp, fits)
    parts = {"forward": m * (t_fc / pp + t_lp) + t_wcast, "backward": m * (t_bc / pp), "recompute": m * (t_rc / pp),
             "host_offload": m * t_off / pp, "tp_comm": m * t_tp / pp, "ep_comm": m * t_ep / pp, "cp_comm": m * t_cp / pp,
             "pp_bubble": bubble,
             "pp_send_recv": t_p2p, "dp_comm": t_dp, "optimizer": t_opt}
    # the LM head runs on the last stage only: the pipeline's share of it goes with the forward and backward parts
    head_extra = where(pp > 1, m * head * (1.0 - 1.0 / pp), 0.0)
    parts["forward"] = parts["forward"] + head_extra / (3.0 + where(full, 1.0, 0.0))
    parts["backward"] = parts["backward"] + head_extra * 2.0 / (3.0 + where(full, 1.0, 0.0))
    parts["recompute"] = parts["recompute"] + where(full, head_extra / 4.0, 0.0)
    comm_bytes = None
    if detail:
        msg = T * s.hidden * ab
        comm_bytes = {"tp_comm": where(tp > 1, m * 2.0 * L * msg * comm_passes, 0.0),
                      "cp_comm": where(cp > 1, m * 2.0 * L * kv_msg, 0.0),
                      "pp_send_recv": where(pp > 1, 2.0 * m * p2p_msg, 0.0),
                      "dp_comm": (dense_p + expert_p) * (where(zero >= 1, fw.grad_reduce_bytes + fw.param_gather_bytes,
                                                                  2.0 * fw.grad_reduce_bytes
                                                                  + where(sharded, fw.param_gather_bytes, 0.0)))
                      + where((zero >= 1) & (r > 1), 2.0 * (dense_p / n_s + expert_p / n_se) * fw.grad_reduce_bytes, 0.0)}
        if s.moe_layers:
            comm_bytes["ep_comm"] = where(ep > 1, m * 2.0 * s.moe_layers * T * s.top_k * s.hidden * ab * comm_passes, 0.0)
    return TrainResult(step_time_s=step_time, tokens_per_s=tokens / step_time, mfu=mfu, hfu=hfu, model_flops_per_step=model_step,
                       microbatches=m, bubble_share=bubble / step_time, weights_bytes=weights, grads_bytes=grads,
                       optimizer_bytes=opt, activation_bytes=acts, capacity_bytes=capacity, fits=fits, code=code,
                       parts=parts, forward=fwd if detail else None, comm_bytes=comm_bytes)


def _eager_ops(ph: Phase, s: Shape, T: Vec, tp: Vec, kvc: Vec, split: Split, fw: Framework, ab: float | Vec) -> None:
    """The framework's eager elementwise kernels beyond ``layer_ops``'s (``Framework.eager_*``), one forward pass over
    every layer: memory-bound streams; the backward pass costs them twice, as every memory-bound operator."""
    q, k = s.heads * s.head_dim / tp, kvc / 2.0  # query and key elements per token on one chip
    ffn = s.dense_layers * s.ffn_width / tp / max(s.layers, 1)  # dense FFN intermediates, averaged over the layers
    nbytes = fw.eager_hidden_bytes * split.h_ew + fw.eager_qk_bytes * (q + k) + fw.eager_ffn_bytes * ffn
    if fw.eager_repeat_kv and not s.kv_replicated and s.kv_heads < s.heads:  # read K and V, write them per query head
        nbytes = nbytes + (kvc + 2.0 * q) * ab
    if fw.eager_hidden_bytes or fw.eager_qk_bytes or fw.eager_ffn_bytes or fw.eager_repeat_kv:
        ph.op("eager_elementwise", s.layers, 0.0, T * nbytes)


def _fsdp_time(s: Shape, tp: Vec, ep: Vec, zero: Vec, fw: Framework, bw: Vec) -> tuple[Vec, Vec]:
    """Seconds of one micro-batch's forward and backward pass, all layers on one chip, that PyTorch FSDP's own passes
    over the full (unsharded) weights and gradients take (``Framework.fsdp_gather_bytes``, ``fsdp_reduce_bytes``),
    streamed at ``bw`` bytes/s. At ZeRO-2 and 3 (FSDP's SHARD_GRAD_OP and FULL_SHARD) every micro-batch gathers the
    weights for its forward pass and reduces its gradients; ZeRO-3 gathers them again before the backward pass. The
    weights a chip gathers are a pipeline-stage-sized share of ``params / tp`` (the routed experts' ``/ ep``), counted
    here over all the layers as ``t_fc`` and ``t_bc`` are; below ZeRO-2 nothing is charged (not read)."""
    if not (fw.fsdp_gather_bytes or fw.fsdp_reduce_bytes):
        return 0.0, 0.0
    params = (s.total_params - s.expert_total) / tp + s.expert_total / (tp * ep)
    sharded = where(zero >= 2, 1.0, 0.0)
    gather = params * fw.fsdp_gather_bytes / bw
    reduce = params * fw.fsdp_reduce_bytes / bw
    return sharded * gather, sharded * (where(zero >= 3, gather, 0.0) + reduce)


def _assignments(s: Shape, T: Vec, ep: Vec, fw: Framework) -> Vec:
    """(token, expert) pairs the busiest chip computes per MoE layer, for ``T`` tokens per chip routed over ``ep``
    chips, as ``layer.layer_ops`` counts them: top-k per token, times the routing skew or the padded capacity."""
    if not s.moe_layers:
        return 0.0
    return T * s.top_k * (fw.moe_capacity if fw.moe_capacity > 0 else routing_imbalance(s, T * ep, ep))


def _permute_ops(ph: Phase, s: Shape, T: Vec, ep: Vec, split: Split, fw: Framework, ab: float | Vec) -> None:
    """Megatron-Core's unfused token permutation (``Framework.moe_permute_fused`` False: moe_utils.permute and
    unpermute, core_r0.11 / core_r0.12), beyond the one pass each way ``layer.moe_routing_bytes`` charges, one forward
    pass over the MoE layers (the backward pass costs it twice, as every memory-bound operator). With ``A``
    assignments and ``T`` tokens of ``h`` elements: the permute's ``index_select`` reads and writes A rows (2A, against
    T + A); the unpermute multiplies the A outputs by their routing weights (2A), zero-fills a T-row output (T) and
    ``scatter_add_``s the A rows into it (A + 2T): 3A + 3T against T + A. With more than one local expert the received
    rows are also regrouped by local expert after the dispatch and before the combine (a copy each: 4A)."""
    if not s.moe_layers or fw.moe_permute_fused:
        return
    a = _assignments(s, T, ep, fw)
    extra = 3.0 * a + T + where(s.experts / ep > 1.0, 4.0 * a, 0.0)
    ph.op("moe_permute_eager", s.moe_layers, 0.0, extra * split.h_mm * ab)


def _norm_eff(chip: Chip, fw: Framework) -> Vec | None:
    """The fraction of the memory bandwidth the stack's norms reach: the chip's measured ``eager_norm_eff`` where the
    stack runs PyTorch's eager norm kernels (``Framework.eager_norm``) and the chip has that figure (else its
    ``memory_eff``); None for any other stack, whose norms stream at ``memory_eff`` as every elementwise operator."""
    if not fw.eager_norm:
        return None
    return where(isfinite(chip.eager_norm_eff), chip.eager_norm_eff, chip.memory_eff)


def _host_floor(chip: Chip, layers: float, fw: Framework) -> tuple[Vec, Vec]:
    """Seconds the host spends launching one micro-batch's forward and backward kernels, all layers, where the
    framework runs eagerly (``Framework.eager_kernels_*``). PyTorch queues CUDA kernels asynchronously
    (docs/notes/cuda.rst, 'Asynchronous execution'), so the host's launches overlap the GPU's work and a pass takes
    the longer of the two; the rate is the chip's measured ``eager_overhead`` per tiny kernel launched back to back."""
    per = Phase(chip, eager=True).launch_cost()
    return layers * fw.eager_kernels_forward * per, layers * fw.eager_kernels_backward * per


def fp8_saved_elems(s: Shape) -> tuple[float, float]:
    """Of ``activation_elems``, the elements that are inputs of Linear layers, which an fp8 recipe keeps in fp8:
    (split by tensor parallelism: the attention output, the dense FFN's activation output; replicated without
    sequence parallelism: the two norms' outputs, the QKV and FC1 inputs). The norms' inputs, q, k, v and FC1's
    output stay 16-bit. In an MoE layer the routed experts' FC1 and FC2 are TE Linear layers (Megatron-Core's
    SequentialMLP): each keeps its input, the routed copy of the token and the activation output, in fp8."""
    ffn = (s.dense_layers * s.ffn_width + s.moe_layers * s.top_k * (s.hidden + s.expert_width)) / max(s.layers, 1)
    return s.heads * s.head_dim + ffn, 2.0 * s.hidden


def _fp8_ops(ph: Phase, s: Shape, T: Vec, tp: Vec, sp: Mask, recipe: Fp8Recipe | None, fp8: Vec,
             assignments: Vec = 0.0, mlp: str = "te-layernorm-mlp") -> Vec:
    """The fp8 recipe's separate casts and transposes of one micro-batch (perf/data/training.toml [fp8_recipe]):
    the forward pass's are added to ``ph`` as one memory-bound operator per layer; returns the backward pass's seconds
    per layer on one chip. The cast-transposes (fp8_cast_transpose_fused and its bgrad / dgelu variants: 16 bits in,
    the fp8 tensor and its fp8 transpose out) run at the chip's measured ``fp8_cast_transpose_eff`` fraction of the
    bandwidth where it has one (catalog efficiency; docs/training.md, 'Transformer Engine's fused memory-bound
    kernels'), the plain casts and the fp8 transposes at ``memory_eff``. Forward: the attention projection's input cast (with its transpose without sequence
    parallelism); the QKV and FC1 inputs are cast inside the norm. Backward: each Linear's output gradient cast and
    transposed (row-parallel ones under sequence parallelism cast on the chip's share, and transposed after the
    all-gather), and the fp8 transposes of the weight gradients' inputs (the gathered QKV and FC1 inputs, and the
    projection's under sequence parallelism). The dense FFN depends on the stack's ``mlp`` (``Framework.fp8_mlp``):
    Transformer Engine's LayerNormMLP casts FC2's input inside the activation (its transpose made in the backward
    pass) and FC1's output gradient inside the GELU backward (separate after a gated activation's); Megatron-Core's
    MLP runs its own activation in 16 bits, so FC2, a TE Linear, casts its input as the projection does (one more
    operator, ``fp8_cast_fc2``, on the dense layers) and FC1 casts and transposes its output gradient after any
    activation. The routed experts' FC1 and FC2 (Megatron-Core's SequentialMLP of TE Linear modules, or TE's
    GroupedLinear) are plain Linear layers on the ``assignments`` rows: no norm or activation casts their inputs, so
    each Linear casts and transposes its input in the forward pass (fp8_cast_transpose_fused: the fp8 input and its
    transpose saved, none transposed again) and its output gradient in the backward pass; the dense FC1's and FC2's
    terms above count the dense layers only."""
    if recipe is None or (isinstance(fp8, float) and fp8 == 0.0):  # no recipe, or not an fp8 run: no operator at all
        return 0.0
    chip = ph.chip
    mem, cte = chip.memory_eff, where(isfinite(chip.fp8_cast_transpose_eff), chip.fp8_cast_transpose_eff, chip.memory_eff)

    def eff(total: Vec, ct_part: Vec) -> Vec:
        """One operator's bandwidth fraction: its cast-transpose bytes at ``cte``, the rest at ``memory_eff``."""
        return where(total > 0.0, total / ((total - ct_part) / mem + ct_part / cte + where(total > 0.0, 0.0, 1.0)), mem)

    full = _fp8_bytes(s, T, tp, sp, recipe.cast_bytes, recipe.cast_transpose_bytes, recipe.transpose_bytes, assignments, mlp)
    ctp = _fp8_bytes(s, T, tp, sp, 0.0, recipe.cast_transpose_bytes, 0.0, assignments, mlp)  # bytes linear in c, ct, tr
    (fwd, fc2, exp_fwd, bwd), (fwd_ct, fc2_ct, exp_ct, bwd_ct) = full, ctp
    ph.op("fp8_cast", s.layers * fp8, 0.0, fwd, memory_eff=eff(fwd, fwd_ct))  # fp8 (0 or 1) as the count: bf16 pays none
    if mlp == "mcore-mlp" and s.dense_layers:
        ph.op("fp8_cast_fc2", s.dense_layers * fp8, 0.0, fc2, memory_eff=eff(fc2, fc2_ct))
    if s.moe_layers:
        ph.op("fp8_cast_experts", s.moe_layers * fp8, 0.0, exp_fwd, memory_eff=eff(exp_fwd, exp_ct))
    return fp8 * ((bwd - bwd_ct) / mem + bwd_ct / cte) / chip.mem_bw


def _fp8_bytes(s: Shape, T: Vec, tp: Vec, sp: Mask, c: float, ct: float, tr: float, assignments: Vec,
               mlp: str) -> tuple[Vec, Vec, Vec, Vec]:
    """The bytes ``_fp8_ops`` counts, for cast, cast-transpose and transpose costs of ``c``, ``ct`` and ``tr`` bytes per
    element: the forward ``fp8_cast`` operator's, ``fp8_cast_fc2``'s and ``fp8_cast_experts``' (per layer they run
    on), and the backward pass's per layer averaged over the layers."""
    sp = sp & (tp > 1)  # Megatron turns sequence parallelism off without tensor parallelism (arguments.py)
    h = float(s.hidden)
    hs = h / where(sp, tp, 1.0)  # a row-parallel output's gradient on one chip before the all-gather
    a = s.heads * s.head_dim / tp  # the attention output per token: the projection's input
    q = s.qkv_width / tp
    f = s.dense_layers * s.ffn_width / tp / max(s.layers, 1)  # dense FFN intermediates, averaged over the layers
    gate = 2.0 if s.ffn_gated else 1.0  # FC1's output per intermediate element
    fwd = a * where(sp, c, ct)
    row_grad = where(sp, hs * c + h * tr, h * ct)  # the projection's and FC2's output gradients
    dense = s.dense_layers / max(s.layers, 1)  # the layers whose FC1 and FC2 are the dense FFN's (the rest: experts')
    if mlp == "mcore-mlp":  # FC2's input: cast (and transposed without sequence parallelism) by FC2 itself
        fc1_grad = gate * f * ct
        fc2_in_t = where(sp, f * tr, 0.0)
    else:  # LayerNormMLP: FC2's input cast inside the activation, transposed for the weight gradient
        fc1_grad = 2.0 * f * ct if s.ffn_gated else 0.0
        fc2_in_t = f * tr
    bwd = q * ct + (1.0 + dense) * row_grad + fc1_grad + (1.0 + dense) * h * tr + where(sp, a * tr, 0.0) + fc2_in_t
    fc2 = T * s.ffn_width / tp * where(sp, c, ct)
    if not s.moe_layers:
        return T * fwd, fc2, 0.0, T * bwd
    fe = s.expert_width / tp  # an expert's intermediates per assignment on one chip (experts tensor-parallel over tp)
    return (T * fwd, fc2, assignments * (h + fe) * ct,
            T * bwd + s.moe_layers / max(s.layers, 1) * assignments * (h + gate * fe) * ct)


def _ep_time(s: Shape, T: Vec, ep: Vec, split: Split, chip: Chip, ab: float | Vec) -> Vec:
    """The forward pass's expert all-to-alls (two per MoE layer, as ``layer.collectives`` counts them)."""
    if not s.moe_layers:
        return 0.0
    return 2.0 * s.moe_layers * comm.all_to_all(T * s.top_k * s.hidden * ab, ep, split.bw_group, chip.alpha)


(_TP_HEADS, _TP_KV_HEADS, _PP_LAYERS, _EP_EXPERTS, _NO_PEAK, _NO_LINK, _MEMORY, _BATCH, _SEQUENCE) = (
    int(f) for f in (Reason.TP_HEADS, Reason.TP_KV_HEADS, Reason.PP_LAYERS, Reason.EP_EXPERTS,
                     Reason.NO_PEAK, Reason.NO_LINK, Reason.MEMORY, Reason.BATCH, Reason.SEQUENCE))


def _reasons(s: Shape, chip: Chip, tp: Vec, pp: Vec, dp: Vec, cp: Vec, ep: Vec, vpp: Vec, mb: Vec, gb: Vec, seq: Vec,
             split: Split, bw_dp: Vec, bw_pp: Vec, bw_cp: Vec, fits: Mask) -> int | NDArray[np.int32]:
    # Boolean algebra over floats and arrays alike, which NumPy's stubs cannot follow: typed Any here only.
    v: dict[str, Any] = {"tp": tp, "pp": pp, "dp": dp, "cp": cp, "ep": ep, "vpp": vpp, "mb": mb, "gb": gb, "seq": seq}
    scalar_case = all(isinstance(x, float) for x in v.values()) and isinstance(fits, (bool, np.bool_))
    code: Any = 0 if scalar_case else np.zeros(np.broadcast(*v.values(), fits).shape, dtype=np.int32)
    tp, pp, dp, cp, ep, vpp, mb, gb, seq = (v[k] for k in ("tp", "pp", "dp", "cp", "ep", "vpp", "mb", "gb", "seq"))
    code |= where(s.heads % tp != 0, _TP_HEADS, 0)
    if not s.kv_replicated:
        code |= where((s.kv_heads % tp != 0) & (tp % s.kv_heads != 0), _TP_KV_HEADS, 0)
    code |= where(pp * vpp > s.layers, _PP_LAYERS, 0)
    code |= where((ep > 1) & ((s.moe_layers == 0) | (max(s.experts, 1) % ep != 0) | ((dp * cp) % ep != 0)), _EP_EXPERTS, 0)
    code |= where(isfinite(chip.peak), 0, _NO_PEAK)
    link = ((tp * ep > 1) & (isfinite(split.bw_group) == False) | (dp * cp > 1) & (isfinite(bw_dp) == False)  # noqa: E712
            | (pp > 1) & (isfinite(bw_pp) == False) | (cp > 1) & (isfinite(bw_cp) == False))  # noqa: E712
    code |= where(link, _NO_LINK, 0)
    code |= where((gb % (dp * mb) != 0) | (gb < dp * mb), _BATCH, 0)
    code |= where((cp > 1) & (seq % (2 * cp) != 0), _SEQUENCE, 0)
    code |= where(fits, 0, _MEMORY)
    return code if scalar_case else np.asarray(code, dtype=np.int32)

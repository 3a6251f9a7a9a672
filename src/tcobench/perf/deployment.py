"""How a model is deployed and asked: the small frozen records the model core takes.

    Layout    how one replica is split over chips (tp, pp, ep, the tensor-parallel layout) and how many chips run
    Formats   bytes per element of the weights, the KV cache, the activations that move, and the LM head
    Batch     the sequences a replica runs at once and their input and output lengths
    Limits    the model's context limit and the latency targets a configuration must meet
    Engine    traits of the serving stack that change the cost of a step

Every numeric field may be a float or a NumPy array; ``evaluate`` broadcasts them all together, so one record
can describe one configuration or a whole grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tcobench.perf import precision as prec
from tcobench.perf.transformer import Shape
from tcobench.perf.vec import Mask, Vec

TP_LAYOUTS = ("1d", "2d")  # Megatron-style 1D tensor parallelism; 2D weight-stationary (docs/model.md)


@dataclass(frozen=True, slots=True)
class Layout:
    """One replica on tp x pp x ep chips; ``chips`` in all (a multiple of the replica; default one replica).

    Attention runs in ``ep`` groups of ``tp`` tensor-parallel chips per pipeline stage (data-parallel attention when
    ep > 1); the routed experts of an MoE model are split over ``moe_ep`` of the stage's tp x ep chips, each expert
    tensor-parallel over the other tp x ep / moe_ep (default moe_ep = ep: experts over the attention groups, each
    split over its tp chips). TensorRT-LLM's ``--tp 8 --ep 8`` on 8 GPUs is tp=8, ep=1, moe_ep=8; SGLang's
    ``--tp 8 --dp 8 --enable-dp-attention --ep 8`` is tp=1, ep=8.
    ``redundant``: replicas of routed experts beyond the model's own, spread over the moe_ep chips so that each holds
    (experts + redundant) / moe_ep (DeepSeek-V3 report section 3.4; EPLB's ``num_replicas``, SGLang's
    ``--ep-num-redundant-experts``): 256 + 32 experts over 72 chips is 4 a chip.
    ``two_d``: the 2D weight-stationary layout of Pope et al. 2022 over the tp chips (true/1) instead of 1D."""

    tp: Vec = 1.0
    pp: Vec = 1.0
    ep: Vec = 1.0
    chips: Vec | None = None
    two_d: Mask = False
    moe_ep: Vec | None = None
    redundant: Vec = 0.0

    @property
    def replica(self) -> Vec:
        return self.tp * self.pp * self.ep


@dataclass(frozen=True, slots=True)
class Formats:
    """Bytes per element: weights, KV cache, activations between operators, embedding / LM head weights, and the
    tokens an expert-parallel dispatch sends to their experts (``dispatch``: default the activations')."""

    weights: Vec = 2.0
    kv: Vec = 2.0
    activations: Vec = 2.0
    head: Vec | None = None  # default: the weights' bytes, never below 16 bits (``precision.head_bytes``)
    dispatch: Vec | None = None  # default: ``activations``

    @classmethod
    def of(cls, weights: str, kv: str | None = None, activations: str | None = None) -> Formats:
        """From format names (``precision.BYTES``); ``kv`` and ``activations`` default to ``weights``. Tokens are
        dispatched to their experts in the format the expert GEMMs read (``precision.dispatch_bytes``)."""
        act = activations or weights
        return cls(prec.BYTES[weights], prec.BYTES[kv or weights], prec.activation_bytes(act), prec.head_bytes(weights),
                   prec.dispatch_bytes(act))

    @property
    def dispatch_bytes(self) -> Vec:
        return self.activations if self.dispatch is None else self.dispatch

    @property
    def head_bytes(self) -> Vec:
        return np.maximum(self.weights, 2.0) if self.head is None else self.head


@dataclass(frozen=True, slots=True)
class Batch:
    """``size`` sequences per replica, ``input_len`` prompt tokens and ``output_len`` generated tokens each."""

    size: Vec
    input_len: Vec
    output_len: Vec


@dataclass(frozen=True, slots=True)
class Limits:
    """Context limit (tokens) and latency targets (seconds); infinity for none."""

    max_context: float = np.inf
    slo_ttft: Vec = np.inf
    slo_tpot: Vec = np.inf


# Decode steps over which a paged cache's padded block count is averaged (the context grows by one token a step and
# the padding jumps at every bucket boundary): midpoints of this many equal slices of the generation.
PAD_SAMPLES = 64


@dataclass(frozen=True, slots=True)
class Padding:
    """Static shapes (Gaudi's HPU graphs run a few padded shapes; catalog runtime buckets, docs/model.md 'Runtimes').

    Each bucket is (min, step) and pads a value v to max(min, min(round_up(v, step), the next power of two from
    min)); a step of 0 pads nothing (``bucket``). ``batch_*``: the running batch of a decode step (sequences);
    ``prompt_*``: a prompt's length (tokens); ``block_*``: the KV-cache blocks of ``block_size`` tokens that a decode
    step's paged attention reads, totalled over the batch. ``allocated``: the attention reads, for every sequence of
    the padded batch, the whole cache the engine allocated for it, ``total_len`` tokens (NaN: the padded prompt plus
    the output length). Fields may be arrays (one value per candidate stack in a search)."""

    batch_min: Vec = 1.0
    batch_step: Vec = 0.0
    prompt_min: Vec = 1.0
    prompt_step: Vec = 0.0
    block_min: Vec = 1.0
    block_step: Vec = 0.0
    block_size: Vec = 1.0
    allocated: Mask = False
    total_len: Vec = np.nan

    def batch(self, b: Vec) -> Vec:
        return bucket(b, self.batch_min, self.batch_step)

    def prompt(self, n: Vec) -> Vec:
        return bucket(n, self.prompt_min, self.prompt_step)

    def decode_positions(self, seqs: Vec, padded_seqs: Vec, input_len: Vec, output_len: Vec) -> Vec:
        """KV positions a decode step's attention reads for ``seqs`` sequences (``padded_seqs`` after the batch
        bucket), averaged over the generation's steps: the allocated cache of every padded sequence, or each
        sequence's context in whole blocks with the batch's total padded to the block bucket; where nothing pads,
        the mean context (input_len + output_len / 2) of each real sequence, as without padding."""
        seqs, padded_seqs, input_len, output_len = (np.asarray(x, dtype=float) for x in (seqs, padded_seqs, input_len, output_len))
        frac = (np.arange(PAD_SAMPLES) + 0.5) / PAD_SAMPLES  # (K,): where in the generation each sampled step is
        ctx = input_len[..., None] + output_len[..., None] * frac  # (..., K)
        size = np.asarray(self.block_size, dtype=float)[..., None]
        blocks = seqs[..., None] * np.ceil(ctx / size)
        paged = (bucket(blocks, np.asarray(self.block_min, dtype=float)[..., None],
                        np.asarray(self.block_step, dtype=float)[..., None]) * size).mean(axis=-1)
        plain = seqs * (input_len + output_len / 2.0)
        paged = np.where(np.asarray(self.block_step) > 0, paged, plain)
        total = np.where(np.isnan(self.total_len), self.prompt(input_len) + output_len, self.total_len)
        out = np.where(self.allocated, padded_seqs * total, paged)
        return float(out) if out.ndim == 0 else out


def bucket(v: Vec, lo: Vec, step: Vec) -> Vec:
    """``v`` padded up to its bucket: max(lo, min(round_up(v, step), lo x 2^ceil(log2(v / lo)))), as
    vllm-hpu-extension's ``find_bucket`` (linear bucketing); ``v`` itself where ``step`` is 0 (no bucket)."""
    v, lo, step = (np.asarray(x, dtype=float) for x in (v, lo, step))
    with np.errstate(divide="ignore", invalid="ignore"):
        multiple = np.ceil(v / step) * step
        power = lo * np.exp2(np.ceil(np.log2(np.maximum(v, lo) / lo)))
    padded = np.maximum(lo, np.minimum(multiple, power))
    out = np.where(step > 0, padded, v)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True, slots=True)
class Engine:
    """Serving-stack traits. ``kv_per_query_head``: decode attention reads a KV head once per query head
    (catalog runtime ``decode_attention = "per-query-head"``). ``graph_batches``: the batch sizes (per replica)
    decode CUDA graphs were captured at, the running batch padded up to the next (None: no padding).
    ``padding``: a static-shape engine's buckets (``Padding``): prompts prefill at their padded length and every
    decode step runs at the padded batch and reads the padded KV positions.

    Speculative decoding: ``spec_tokens`` draft tokens per step, each accepted with probability ``acceptance``
    (an input: it depends on the model, the draft and the text), drafted by ``draft`` (a smaller model on the same
    chips) or, when None, by multi-token-prediction layers (one transformer layer of the target per draft token,
    sharing its LM head, as DeepSeek-V3's MTP module)."""

    kv_per_query_head: Mask = False
    graph_batches: Sequence[int] | None = None
    spec_tokens: int = 0
    acceptance: float = 0.0
    draft: Shape | None = None
    padding: Padding | None = None  # static shapes (HPU graphs over padded buckets); None: nothing padded

    def tokens_per_step(self) -> float:
        """Tokens a verification step yields on average: (1 - a^(k+1)) / (1 - a) for k drafts accepted with
        probability a each, the target's own token included (Leviathan et al. 2023, eq. 1); 1 without drafts."""
        k, a = self.spec_tokens, self.acceptance
        if k <= 0:
            return 1.0
        return float(k + 1) if a >= 1.0 else (1.0 - a ** (k + 1)) / (1.0 - a)

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


@dataclass(frozen=True, slots=True)
class Engine:
    """Serving-stack traits. ``kv_per_query_head``: decode attention reads a KV head once per query head
    (catalog runtime ``decode_attention = "per-query-head"``). ``graph_batches``: the batch sizes (per replica)
    decode CUDA graphs were captured at, the running batch padded up to the next (None: no padding).

    Speculative decoding: ``spec_tokens`` draft tokens per step, each accepted with probability ``acceptance``
    (an input: it depends on the model, the draft and the text), drafted by ``draft`` (a smaller model on the same
    chips) or, when None, by multi-token-prediction layers (one transformer layer of the target per draft token,
    sharing its LM head, as DeepSeek-V3's MTP module)."""

    kv_per_query_head: Mask = False
    graph_batches: Sequence[int] | None = None
    spec_tokens: int = 0
    acceptance: float = 0.0
    draft: Shape | None = None

    def tokens_per_step(self) -> float:
        """Tokens a verification step yields on average: (1 - a^(k+1)) / (1 - a) for k drafts accepted with
        probability a each, the target's own token included (Leviathan et al. 2023, eq. 1); 1 without drafts."""
        k, a = self.spec_tokens, self.acceptance
        if k <= 0:
            return 1.0
        return float(k + 1) if a >= 1.0 else (1.0 - a ** (k + 1)) / (1.0 - a)

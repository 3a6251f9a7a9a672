"""Validated, frozen catalog records: Source, Hardware, System, Model, CostBasis, Workload, Runtime.

The catalog data files are TOML; each ``[hardware.<id>]``, ``[system.<id>]``, ``[model.<id>]``,
``[cost.<id>]``, ``[workload.<id>]``, ``[runtime.<id>]`` and ``[source.<id>]`` table is validated into one of these records. Numbers are Figures in SI units
(see ``fields.py``); unknown figures are ``None``. Unknown keys are errors (typos never pass).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tcobench.catalog.fields import (
    Bandwidth, Bytes, Count, Dollars, Flops, LinkBandwidth, Number, Seconds, Watts, parser,
)
from tcobench.catalog.formats import Precision
from tcobench.errors import close_matches
from tcobench.records import Figure

ID = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")
Rate: TypeAlias = Annotated[Figure, parser("USD/s", dated=True, positive=True)]

# Whole numbers of a model's shape: an int (never true, never 4096.0 or 1e17, which pydantic would otherwise take
# as 1 and 4096 and 10^17) within bounds about 100 times past the largest published model (118 layers, a 25,600
# hidden size, a 262,144-token vocabulary, a 10 M-token context), so that a typo cannot become a model of 10^17
# layers. A count that may be 0 (an offset, dense layers before the MoE ones) says so.
Layers: TypeAlias = Annotated[int, Field(strict=True, ge=1, le=10_000)]
Width: TypeAlias = Annotated[int, Field(strict=True, ge=1, le=10_000_000)]  # hidden sizes, head sizes, ranks
Heads: TypeAlias = Annotated[int, Field(strict=True, ge=1, le=100_000)]  # attention heads, experts
Vocab: TypeAlias = Annotated[int, Field(strict=True, ge=1, le=100_000_000)]
Tokens: TypeAlias = Annotated[int, Field(strict=True, ge=1, le=1_000_000_000)]  # contexts, windows, lengths
SomeLayers: TypeAlias = Annotated[int, Field(strict=True, ge=0, le=10_000)]
SomeHeads: TypeAlias = Annotated[int, Field(strict=True, ge=0, le=100_000)]
# The activations a Hugging Face config names (transformers' activations.py, ACT2CLS), and the catalog's own.
ACTIVATIONS = ("gelu", "gelu_10", "gelu_accurate", "gelu_fast", "gelu_new", "gelu_python", "gelu_pytorch_tanh",
               "laplace", "leaky_relu", "linear", "mish", "prelu", "quick_gelu", "relu", "relu2", "relu6", "sigmoid",
               "silu", "swish", "tanh", "xielu")


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class WithFigures(Record):
    """A record whose sourced numbers are listed by ``figures()``: Hardware, System, Efficiency, CostBasis.

    The other records have no ``figures()``: the loader checks the sources a Model, Workload or Runtime cites
    field by field, and tells the two apart by ``hasattr(rec, "figures")``.
    """

    def figures(self) -> dict[str, Figure]:
        """Every known figure keyed by its dotted path ('memory.bandwidth', 'peak_dense.bf16', 'cloud[0].rate', ...),
        in the order of the fields; unknown (None) figures are left out."""
        return dict(_walk(self, ""))


class Source(Record):
    id: str
    title: str
    url: str | None = None
    locator: str | None = None  # table, page, section
    accessed: str | None = None
    note: str | None = None


class Memory(Record):
    type: str | None = None
    capacity: Bytes | None = None
    bandwidth: Bandwidth | None = None


class Sram(Record):
    capacity: Bytes | None = None
    bandwidth: Bandwidth | None = None


class Link(Record):
    name: str | None = None
    bandwidth: LinkBandwidth | None = None  # per direction, per chip
    domain: Count | None = None  # chips reachable on this tier (scale-up domain size)
    # A torus (TPU ICI) instead of a switch: its dimensions, the links (ports) per chip that share ``bandwidth``, and
    # the slice size from which its axes have wraparound links (perf/comm.py, tier_bandwidth). None: a switch.
    torus_dims: Count | None = None
    links: Count | None = None
    wrap_from: Count | None = None
    # A full mesh (every pair of chips in the domain has its own links: MI300X's xGMI, Gaudi's RoCE ports) instead of a
    # switch: a group of k chips reaches only its k - 1 peers' links, (k - 1) / (domain - 1) of ``bandwidth``.
    mesh: bool = False


class Cores(Record):
    """TensorCores a chip exposes as separate devices (TPU7x: two, each its own JAX device, no megacore) and the
    die-to-die link between them. A stack whose tensor parallelism counts cores (``Runtime.tensor_parallel``) adds an
    intra-chip reduce-scatter and all-gather over ``bandwidth`` to every tensor-parallel all-reduce (perf/comm.py,
    ``core_all_reduce``). Unset: one device per chip (megacore chips such as TPU v4 and v5p are one device)."""

    count: Count | None = None
    bandwidth: LinkBandwidth | None = None  # per direction, between the chip's cores


class Power(Record):
    tdp: Watts | None = None


class Price(Record):
    purchase: Dollars | None = None


class CloudRate(Record):
    provider: str
    rate: Figure  # USD per chip-second
    date: str
    source: str
    note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _rate(cls, raw: object) -> object:
        if isinstance(raw, dict) and not isinstance(raw.get("rate"), Figure):
            from tcobench.catalog.fields import _figure

            fig = {k: raw[k] for k in ("source", "date", "note") if k in raw}
            if "rate" not in raw:
                raise ValueError("missing 'rate' (e.g. rate = \"$2.49/h\", per chip-hour)")
            raw = {**raw, "rate": _figure({**fig, "value": raw["rate"]}, unit="USD/s", dated=True, positive=True)}
        return raw


class Efficiency(WithFigures):
    """What a well-tuned inference stack reaches on a chip, used by the roofline (perf/efficiency.py).

    As a catalog table ``[efficiency.<id>]`` the id is ``default``, a hardware kind (``gpu``, ``tpu``,
    ...) or a hardware id; the most specific one that sets a field wins, field by field.
    """

    id: str = ""
    compute: Number | None = None  # fraction of dense peak FLOP/s reached by large matmuls
    compute_at: dict[Precision, Number] = Field(default_factory=dict)  # per-precision overrides of `compute`
    memory: Number | None = None  # fraction of peak memory bandwidth reached by streaming reads
    # per-precision overrides of `memory` for the matmuls of that compute precision (their weight streaming)
    memory_at: dict[Precision, Number] = Field(default_factory=dict)
    # per-precision fraction of dense peak FLOP/s large matmuls hold under a sustained, power-saturated load (the
    # clock settled at the power limit, as in a training run): the training step uses it in place of `compute` /
    # `compute_at`; a chip without it trains at `compute` (whose source then must be a sustained measurement)
    sustained_at: dict[Precision, Number] = Field(default_factory=dict)
    overhead: Seconds | None = None  # fixed cost per operator (kernel launch / dispatch), seconds
    # fixed cost per operator of a pass launched kernel by kernel from the host (no CUDA graph): engines capture
    # graphs for decode steps only, so a prefill pays this instead of `overhead` (perf/roofline.py Phase.eager)
    eager_overhead: Seconds | None = None
    # fraction of peak memory bandwidth PyTorch's own normalization kernels (F.layer_norm, nn.RMSNorm) reach run
    # eagerly at training shapes, bytes as the kernel moves them: the norms of a training stack that calls them
    # (perf/training.py Framework.eager_norm) run at this instead of `memory`
    eager_norm: Number | None = None
    # fraction of peak memory bandwidth Transformer Engine's fp8 cast-transpose kernel (16-bit in, the fp8 tensor and
    # its fp8 transpose out: 4 bytes per element) reaches on tensors larger than the L2 cache: the fp8 recipe's
    # cast-transposes (perf/training.py _fp8_ops) run at this instead of `memory`
    fp8_cast_transpose: Number | None = None
    collective_latency: Seconds | None = None  # alpha of the alpha-beta collective model, seconds
    # fraction of the scale-up link's per-direction bandwidth the collective library's ring reaches on large messages
    # (its bus bandwidth over the link's): the beta of the alpha-beta model is link bandwidth x this
    collective_bandwidth: Number | None = None
    # a whole small-message all-reduce inside one scale-up domain, as serving engines' custom one-shot kernels run it
    # (every chip reads its peers' buffers directly): the latency term of an all-reduce never exceeds it there
    allreduce_latency: Seconds | None = None
    allreduce_bandwidth: Bandwidth | None = None  # bytes/s that kernel's time grows by per byte of the message
    memory_utilization: Number | None = None  # fraction of memory capacity the serving engine may use
    prefill_chunk: Count | None = None  # tokens per prefill chunk (bounds activation memory)
    # an MoE layer's grouped expert GEMM at m tokens per expert reaches `compute` x (1 - grouped_gemm_loss x
    # log2(grouped_gemm_full / m)), at most `compute`, and below grouped_gemm_least tokens per expert (the
    # fewest measured) holds that point's rate (perf/layer.py grouped_gemm_share)
    grouped_gemm_full: Count | None = None  # tokens per expert from which the grouped GEMM runs at `compute`
    grouped_gemm_loss: Number | None = None  # fraction of `compute` lost per halving of tokens per expert
    grouped_gemm_least: Count | None = None  # the fewest tokens per expert the curve was measured at
    note: str | None = None
    origin: str = ""

    @model_validator(mode="after")
    def _fractions(self) -> Efficiency:
        """Fractions of a peak reached: above 0 (at 0 every time would be infinite) and at most 1."""
        fractions = {"compute": self.compute, "memory": self.memory, "memory_utilization": self.memory_utilization,
                     "collective_bandwidth": self.collective_bandwidth,
                     "grouped_gemm_loss": self.grouped_gemm_loss,
                     **{f"compute_at.{k}": v for k, v in self.compute_at.items()},
                     **{f"memory_at.{k}": v for k, v in self.memory_at.items()},
                     **{f"sustained_at.{k}": v for k, v in self.sustained_at.items()}}
        for name, fig in fractions.items():
            if fig is not None and any(not 0 < v <= 1 for v in fig.range):
                raise ValueError(f"{name} = {fig.text}: a fraction of the peak reached; expected more than 0 and at "
                                 "most 1")
        return self


class Bucket(Record):
    """One padded dimension of a static-shape engine (HPU graphs over a few shapes): a value v runs at the smallest
    bucket >= v, the buckets being ``min``, 2 ``min``, 4 ``min``, ... below ``step`` and the multiples of ``step``
    from there, so v pads to max(min, min(round_up(v, step), the next power of two from min)) (vllm-hpu-extension's
    ``find_bucket``); ``min`` = ``step`` gives plain multiples of ``step`` (TGI on Gaudi's ``round_up``). Units:
    sequences for a batch, tokens for a prompt, KV-cache blocks for ``kv_block_bucket``."""

    min: Annotated[int, Field(strict=True, ge=1, le=1_000_000)]
    step: Annotated[int, Field(strict=True, ge=1, le=1_000_000)]
    source: str  # a [source.<id>] that shows the default (engine code at the version the stack ran)
    note: str | None = None


class Runtime(Record):
    """A serving stack's kernel traits that change operator costs, independent of the chip.

    ``decode_attention``: how the decode-step attention kernel reads a grouped-query (GQA/MQA) KV cache.
    ``per-kv-head``: the query heads sharing a KV head are processed together, so each KV head's cache is
    read once per step (FlashDecoding-style and TensorRT-LLM's XQA kernels). ``per-query-head``: one thread
    block per query head, each reading its KV head's cache itself, so the cache is read once per query head
    (TensorRT-LLM's masked multi-head attention kernel before XQA). Multi-head models read the same either way.
    ``allreduce``: "one-shot" lets the efficiency fields ``allreduce_latency`` / ``allreduce_bandwidth`` (perf/comm.py)
    apply; "ring" keeps the collective library's ring whatever the message size.
    ``context_attention``: the format attention's matmuls run in. ``kv-format``: the wider of the activations'
    and the KV cache's, at least fp8 (FP8 context attention for fp8/fp4 models). ``16-bit``: the engine's
    fp16/bf16 type whatever the cache (TensorRT-LLM's context FMHA before it had an FP8 kernel).
    Static shapes (Gaudi's HPU graphs): ``decode_batch_bucket`` pads the running batch of a decode step,
    ``prompt_bucket`` a prompt's length; ``decode_kv`` says which KV positions a decode step's attention reads:
    ``paged``, each sequence's own context, in ``block_size``-token blocks whose total over the batch is padded to
    ``kv_block_bucket`` where one is given (vllm-fork's flat paged attention); ``allocated``, the whole cache the
    engine allocated for every sequence of the padded batch, ``max_total_tokens`` each (None: the padded prompt +
    the output length), masked but read (TGI on Gaudi and optimum-habana's static-shape generation).
    """

    id: str = ""
    name: str
    decode_attention: Literal["per-kv-head", "per-query-head"]
    context_attention: Literal["kv-format", "16-bit"] = "kv-format"
    context_attention_source: str | None = None  # a [source.<id>] for a context_attention other than the default
    # how tensor-parallel all-reduces run inside a scale-up domain: "one-shot" (a custom kernel over peer memory for
    # small messages, the ring for large: vLLM, SGLang, TensorRT-LLM) or "ring" (the collective library's ring only)
    allreduce: Literal["one-shot", "ring"] = "one-shot"
    allreduce_source: str | None = None  # a [source.<id>] for an allreduce other than the default
    # what a deployment's tensor parallelism counts: "chips" (one rank per chip) or "cores" (every core of a chip that
    # exposes its cores as devices, ``Hardware.cores``, is a rank: vLLM TPU on TPU7x runs --tensor-parallel-size 2 on
    # one chip); a layout's tp stays in chips and the all-reduce adds the intra-chip stage
    tensor_parallel: Literal["chips", "cores"] = "chips"
    tensor_parallel_source: str | None = None  # a [source.<id>] for a tensor_parallel other than the default
    source: str  # a [source.<id>] that shows the kernel's behaviour
    note: str | None = None
    # the stack's own time outside its engine steps, measured against a real server (benchmarks/vllm_frontend.py),
    # which the serving simulation adds to every request: ``frontend``, seconds per request between the client and
    # the engine (HTTP, tokenising, the first event); ``held_streams``, the share of streams whose first token reaches
    # the client only with the last (the API process behind the engine)
    frontend: Seconds | None = None
    held_streams: Number | None = None
    # the engine's cap on the sequences it runs at once when the deployment does not set one (vLLM's max_num_seqs
    # default): ``batch="auto"`` and a finite run's waves stop there instead of at as many as fit in memory
    max_num_seqs: Number | None = None
    decode_batch_bucket: Bucket | None = None
    prompt_bucket: Bucket | None = None
    kv_block_bucket: Bucket | None = None
    block_size: Tokens | None = None  # tokens per KV-cache block, with kv_block_bucket
    decode_kv: Literal["paged", "allocated"] = "paged"
    decode_kv_source: str | None = None  # a [source.<id>] for decode_kv "allocated"
    max_total_tokens: Tokens | None = None  # with decode_kv "allocated": the length every sequence's cache is padded to
    origin: str = ""

    @model_validator(mode="after")
    def _static_shapes(self) -> Runtime:
        """The static-shape fields that go together: blocks with a block size, an allocated cache with its source."""
        if (self.kv_block_bucket is None) != (self.block_size is None):
            raise ValueError("kv_block_bucket and block_size go together (the bucket counts blocks of block_size tokens)")
        if self.kv_block_bucket is not None and self.decode_kv != "paged":
            raise ValueError("kv_block_bucket pads a paged cache's blocks; decode_kv 'allocated' reads the whole cache")
        if self.decode_kv == "allocated" and self.decode_kv_source is None:
            raise ValueError("decode_kv = 'allocated' needs decode_kv_source (a [source.<id>] showing the engine reads "
                             "its whole allocated cache)")
        if self.max_total_tokens is not None and self.decode_kv != "allocated":
            raise ValueError("max_total_tokens is the allocated cache's length: give it with decode_kv = 'allocated'")
        return self

    def static_shapes(self) -> bool:
        """Whether the stack pads any shape (a bucket or an allocated cache)."""
        return (self.decode_batch_bucket is not None or self.prompt_bucket is not None
                or self.kv_block_bucket is not None or self.decode_kv == "allocated")

    @model_validator(mode="after")
    def _sourced_traits(self) -> Runtime:
        if self.tensor_parallel != "chips" and self.tensor_parallel_source is None:
            raise ValueError(f"tensor_parallel = {self.tensor_parallel!r} needs tensor_parallel_source (a [source.<id>] "
                             "showing that the engine's tensor-parallel ranks are the chip's cores)")
        return self

class Hardware(WithFigures):
    id: str
    name: str
    vendor: str
    kind: Literal["gpu", "tpu", "wafer", "ipu", "lpu", "asic", "cpu"]
    released: int | None = None
    peak_dense: dict[Precision, Flops] = Field(default_factory=dict)
    peak_sparse: dict[Precision, Flops] = Field(default_factory=dict)
    memory: Memory = Memory()
    sram: Sram = Sram()
    scale_up: Link = Link()
    scale_out: Link = Link()
    external_io: Link = Link()
    cores: Cores = Cores()
    power: Power = Power()
    price: Price = Price()
    cloud: tuple[CloudRate, ...] = ()
    efficiency: Efficiency = Efficiency()
    note: str | None = None
    origin: str = ""  # the file it was loaded from

    def peak(self, precision: str) -> Figure | None:
        """Dense peak at ``precision``; fp16 and bf16 share tensor-core rates where only one is given."""
        peaks: dict[str, Figure] = {str(k): v for k, v in self.peak_dense.items()}
        fig = peaks.get(precision)
        if fig is None and precision in ("bf16", "fp16"):
            fig = peaks.get("fp16" if precision == "bf16" else "bf16")
        return fig


class Network(Record):
    name: str | None = None
    bandwidth: LinkBandwidth | None = None  # per chip, per direction


class System(WithFigures):
    id: str
    name: str
    accelerator: str
    chips: Count
    scale_up_domain: Count | None = None
    network: Network = Network()
    price: Dollars | None = None
    power: Watts | None = None
    note: str | None = None
    origin: str = ""


class Moe(Record):
    experts: Heads
    top_k: Heads
    expert_ffn_hidden: Width
    shared_experts: SomeHeads = 0
    dense_layers: SomeLayers = 0  # the first N layers use the dense FFN (DeepSeek)
    # After those, every layer_step-th layer is MoE (layers step-1, 2*step-1, ...; 0-based) and the others use the
    # dense FFN: Llama 4 Maverick's interleave_moe_layer_step = 2, Qwen-MoE's decoder_sparse_step.
    layer_step: Layers = 1
    shared_expert_ffn_hidden: Width | None = None  # None: expert_ffn_hidden (Qwen2-MoE: wider)
    shared_expert_gate: bool = False  # Qwen2-MoE: a sigmoid gate, Linear(hidden, 1), on the shared expert's output
    router_bias: bool = False

    @model_validator(mode="after")
    def _k(self) -> Moe:
        if self.top_k > self.experts:
            raise ValueError(f"top_k={self.top_k} is larger than experts={self.experts}")
        return self


class Mla(Record):
    """Multi-head latent attention (DeepSeek-V2/V3): low-rank Q and a compressed, shared KV latent."""

    q_lora_rank: Width | None = None
    kv_lora_rank: Width
    qk_nope_head_dim: Width
    qk_rope_head_dim: Width
    v_head_dim: Width


class Model(Record):
    id: str
    name: str
    family: str
    source: str  # where the architecture comes from (config.json / paper table)
    layers: Layers
    hidden: Width
    heads: Heads
    kv_heads: Heads | None = None  # None: = heads (MHA)
    head_dim: Width | None = None  # None: hidden // heads
    ffn: Literal["dense", "gated"]
    ffn_hidden: Width
    activation: str = "gelu"  # one of ACTIVATIONS
    vocab: Vocab
    tied_embeddings: bool = False
    max_context: Tokens
    position: Literal["rope", "learned", "alibi", "none"] = "rope"
    position_offset: Annotated[int, Field(strict=True, ge=0, le=1_000_000_000)] = 0  # OPT stores max_context + 2
    norm: Literal["rmsnorm", "layernorm"] = "rmsnorm"
    norms_per_layer: Annotated[int, Field(strict=True, ge=0, le=100)] = 2  # 1 for parallel attention+FFN (GPT-J)
    attention_bias: bool = False  # biases on Q, K, V and output projections
    qkv_bias: bool | None = None  # None: same as attention_bias (Qwen2: QKV only)
    mlp_bias: bool = False  # biases on the FFN projections, routed experts' included (gpt-oss)
    qk_norm: bool = False  # a norm over head_dim on each query and key head (Qwen3, Gemma 3)
    attention_sinks: bool = False  # one learned softmax logit per query head per layer (gpt-oss)
    # local attention: ``window_layers`` of the layers (None: all) attend to at most the last ``window`` tokens and keep
    # only those in the KV cache (sliding windows: Mistral 7B v0.1, Gemma 2/3, gpt-oss; Llama 4's chunked attention is
    # costed as a window of its chunk, an upper bound)
    window: Tokens | None = None
    window_layers: SomeLayers | None = None
    lm_head_bias: bool = False
    embedding_norm: bool = False  # BLOOM's word_embeddings_layernorm
    encoder: bool = False  # BERT-style bidirectional encoder (no KV cache, no decode)
    token_types: SomeHeads = 0  # BERT segment embeddings
    pooler: bool = False  # BERT pooler dense layer
    moe: Moe | None = None
    mla: Mla | None = None
    published_params: Number | None = None
    published_active_params: Number | None = None
    # What the publisher counted as "active": everything a token touches ("all"), or that minus the
    # input embedding table, which a token only indexes ("no-input-embedding"; DeepSeek-V3's 37B).
    active_params_convention: Literal["all", "no-input-embedding"] = "all"
    note: str | None = None
    origin: str = ""

    @property
    def kv_head_count(self) -> int:
        return self.kv_heads or self.heads

    @property
    def head_size(self) -> int:
        return self.head_dim or self.hidden // self.heads

    @field_validator("activation")
    @classmethod
    def _activation(cls, v: str) -> str:
        if v not in ACTIVATIONS:
            hint = close_matches(v, ACTIVATIONS)
            raise ValueError(f"unknown activation {v!r}; expected one of {', '.join(ACTIVATIONS)}"
                             + (f"; did you mean {hint[0]!r}?" if hint else ""))
        return v

    @model_validator(mode="after")
    def _shape(self) -> Model:
        if self.heads % self.kv_head_count:
            raise ValueError(f"heads={self.heads} is not a multiple of kv_heads={self.kv_heads}")
        if self.head_dim is None and self.hidden % self.heads and self.mla is None:
            raise ValueError(f"hidden={self.hidden} is not divisible by heads={self.heads}; give head_dim")
        if self.window_layers is not None and (self.window is None or self.window_layers > self.layers):
            raise ValueError(f"window_layers={self.window_layers} needs a window and at most layers={self.layers} layers")
        return self

    @property
    def local_layers(self) -> int:
        """Layers that attend within ``window`` (0 without a window)."""
        return 0 if self.window is None else self.layers if self.window_layers is None else self.window_layers


Years: TypeAlias = Seconds
EnergyPrice: TypeAlias = Annotated[Figure, parser("USD/J", dated=True)]
HostingPrice: TypeAlias = Annotated[Figure, parser("USD/W/s", dated=True)]


class CostBasis(WithFigures):
    """The assumptions that turn owned hardware into a cost per second; every one a sourced Figure.

    ``utilisation`` is average power draw as a fraction of the chip's (or system's) rated power;
    ``hosting`` is colocation rent per watt of provisioned IT power; ``maintenance`` and
    ``cost_of_capital`` are fractions of the purchase price per year.
    """

    id: str
    name: str
    amortisation: Years
    cost_of_capital: Number
    utilisation: Number
    pue: Number
    electricity: EnergyPrice
    hosting: HostingPrice
    maintenance: Number
    note: str | None = None
    origin: str = ""

    @model_validator(mode="after")
    def _ranges(self) -> CostBasis:
        for name, lo, hi in (("amortisation", 1e-9, None), ("utilisation", 0.0, 1.0), ("pue", 1.0, None),
                             ("cost_of_capital", 0.0, None), ("maintenance", 0.0, None)):
            fig: Figure = getattr(self, name)
            for value in fig.range:
                if value < lo or (hi is not None and value > hi):
                    bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
                    raise ValueError(f"{name} = {value:g} is out of range; expected {bound}")
        return self


class Workload(Record):
    """A named request shape: prompt and generation lengths in tokens, with where they come from."""

    id: str
    name: str
    input_len: Tokens
    output_len: Tokens
    source: str
    note: str | None = None
    origin: str = ""


def _walk(obj: BaseModel, prefix: str) -> Iterator[tuple[str, Figure]]:
    """(dotted path, figure) of every Figure in ``obj``: its fields, nested records, dict values and tuple items."""
    for name in type(obj).model_fields:
        value = getattr(obj, name)
        path = f"{prefix}{name}"
        if isinstance(value, Figure):
            yield path, value
        elif isinstance(value, BaseModel):
            yield from _walk(value, path + ".")
        elif isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, Figure):
                    yield f"{path}.{k}", v
        elif isinstance(value, tuple):
            for i, v in enumerate(value):
                if isinstance(v, BaseModel):
                    yield from _walk(v, f"{path}[{i}].")

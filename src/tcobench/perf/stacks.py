"""What each training stack does, as ``perf/data/training.toml`` states it with its sources: the frameworks' traits
(gradient and optimizer bytes, overlap, fp8 recipe, eager kernels, MoE dispatch), Transformer Engine's fp8 recipes, the
measured attention-kernel rates by chip, head dim and sequence length, and the chips' host links. ``perf/training.py``
prices a step with them; ``framework`` is the lookup a user's ``--framework`` goes through.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, TypeVar

import numpy as np

from tcobench.errors import CatalogError, InputError, close_matches

R = TypeVar("R")


@dataclass(frozen=True)
class Framework:
    """Traits of a training stack (``perf/data/training.toml``)."""

    id: str
    title: str
    grad_bytes: float
    grad_reduce_bytes: float
    param_gather_bytes: float
    optimizer_bytes: float
    overlap_grad_reduce: bool
    overlap_param_gather: bool
    tp_comm_overlap: float
    attention_backward: float
    source: str
    attention: str = "flash"  # "flash" (FlashAttention-style, no score matrix) or "unfused" (scores materialised)
    unfused_forward_bytes: float = 0.0  # unfused: bytes moved per score element in the forward pass, and backward
    unfused_backward_bytes: float = 0.0
    unfused_stored_bytes: float = 0.0  # unfused: bytes per score element kept for the backward pass (no recomputation)
    attention_kernel: str = ""  # the flash kernel the stack runs ([kernel.<id>]); "": the chip's attention rate
    # eager-mode elementwise kernels the stack's model code runs beyond those ``layer.layer_ops`` charges (norms,
    # residual adds and the FFN activation at one read and one write each): forward bytes per token per layer, per
    # hidden element, per query and key element (rotary embeddings computed in fp32 by separate kernels), per FFN
    # intermediate element; ``eager_repeat_kv``: grouped K and V copied out to every query head before the kernel
    eager_hidden_bytes: float = 0.0
    eager_qk_bytes: float = 0.0
    eager_ffn_bytes: float = 0.0
    eager_repeat_kv: bool = False
    # the stack's two norms per layer are PyTorch's own normalization kernels (F.layer_norm, nn.RMSNorm), launched
    # eagerly: they run at the chip's measured ``eager_norm`` fraction of the memory bandwidth (catalog efficiency),
    # not at ``memory`` (docs/training.md, 'Eager norm kernels'); False: fused or compiled norms (Transformer Engine,
    # Apex, Triton), or not read
    eager_norm: bool = False
    # kernels the host launches one by one (no CUDA graph, no compiler) per layer and micro-batch, in the forward and
    # the backward pass, counted from the stack's model and sharding code; 0: not an eager stack, or not counted. The
    # host queues them ahead of the GPU at the chip's ``eager_overhead`` each, so a pass takes the longer of the two
    # (``_host_floor``)
    eager_kernels_forward: float = 0.0
    eager_kernels_backward: float = 0.0
    # bytes per logit (token x vocabulary entry on the last stage) the loss holds when the backward pass starts: fp32
    # logits and their fp32 gradient (8) unless the stack's loss is stated to keep less
    logits_bytes: float = 8.0
    # bytes read and written per logit on the last stage, per micro-batch, by passes over the logits that the stack
    # runs beside the loss and its gradient (train metrics computed from every micro-batch's logits), memory-bound;
    # 0: none read in the stack's code
    logit_passes_bytes: float = 0.0
    # the fp8 recipe the stack's Linear layers run with precision fp8 ([fp8_recipe.<id>]); "": none read
    fp8_recipe: str = ""
    # the dense FFN the stack builds in fp8 runs (``FP8_MLPS``): "te-layernorm-mlp", Transformer Engine's LayerNormMLP
    # (te.TransformerLayer), which casts FC2's input inside its activation and FC1's output gradient inside the GELU
    # backward; "mcore-mlp", Megatron-Core's MLP (TELayerNormColumnParallelLinear, Megatron's own bias-activation
    # fusion, TERowParallelLinear), whose FC2 casts its 16-bit input and FC1 its output gradient in separate kernels
    fp8_mlp: str = "te-layernorm-mlp"
    # bytes per parameter of the weights the stack keeps between steps (16-bit copies: 2); ``master_weights``: a
    # separate fp32 master copy counted in ``optimizer_bytes`` (False: the parameters are themselves the fp32 copy the
    # optimizer updates, and ``optimizer_bytes`` counts only its moments)
    weight_bytes: float = 2.0
    master_weights: bool = True
    # in fp8 runs the Linear layers' weights are themselves fp8 (Transformer Engine's fp8_model_init): no 16-bit copy is
    # kept beside them, the fp8 recipe's copies (``weight_copy_bytes``) are the weights; bf16 runs keep ``weight_bytes``
    fp8_params: bool = False
    # the optimizer shards its fp32 master weights and moments over the data-parallel ranks at ZeRO stage 0 too, and
    # all-gathers the updated 16-bit weights after the step (DeepSpeed's BF16_Optimizer)
    optimizer_sharded: bool = False
    # transfers of offloaded activations to and from host memory run under the pass that writes (reads) them
    overlap_offload: bool = False
    # MoE layers. ``moe_permute_fused``: the token permutation around the experts runs as one fused pass each way (the
    # engines' kernels, ``layer.moe_routing_bytes``); False: as Megatron-Core's eager PyTorch ops when
    # ``moe_permute_fusion`` is off (``_permute_ops``). ``moe_capacity``: the experts' inputs dropped and padded to this
    # capacity factor x their balanced share (Megatron-Core's ``moe_pad_expert_input_to_capacity``); 0: dropless
    moe_permute_fused: bool = True
    moe_capacity: float = 0.0
    # PyTorch FSDP's own passes over the full (unsharded) weights and gradients, every micro-batch, at ZeRO stage 2 and
    # 3 (FSDP's sharded strategies): bytes per parameter read and written in the chip's memory beside the collectives'
    # network time. ``fsdp_gather_bytes``: per all-gather of the weights (the forward's; ZeRO-3 gathers them again
    # before the backward), the collective's write of the gathered weights and any copy out of its buffer;
    # ``fsdp_reduce_bytes``: per reduction of the gradients (their assembly into one buffer, the cast to the reduce
    # dtype, the divides, the reduce-scatter's read of its input). Memory-bound kernels, charged on the compute stream
    # (``_fsdp_time``); 0: not read
    fsdp_gather_bytes: float = 0.0
    fsdp_reduce_bytes: float = 0.0


FP8_MLPS = ("te-layernorm-mlp", "mcore-mlp")  # ``Framework.fp8_mlp``'s values


@dataclass(frozen=True)
class Fp8Recipe:
    """What an fp8 training recipe's Linear layers do beside the GEMMs (``perf/data/training.toml``
    [fp8_recipe.<id>]), in bytes per element: a separate cast, a fused cast and transpose, an fp8 transpose, the
    weights' cast once per step and the fp8 copies kept beside them, a Linear input kept for the backward pass."""

    id: str
    title: str
    cast_bytes: float
    cast_transpose_bytes: float
    transpose_bytes: float
    weight_cast_bytes: float
    weight_copy_bytes: float
    saved_input_bytes: float
    source: str


@dataclass(frozen=True)
class KernelRates:
    """One attention kernel's measured forward and backward FLOP/s at one head dim, by tokens per sequence, on the
    chips it applies to (``perf/data/training.toml`` [[kernel.<id>.rates]]). Where a source gives only the
    forward+backward rate (``forward_backward``: 3.5 x the forward FLOPs over both passes' time), both passes take it,
    which reproduces the measured time of the pair for a stack whose ``attention_backward`` is 2.5, as the kernel
    benchmarks count."""

    hardware: tuple[str, ...]
    head_dim: float
    seq: tuple[float, ...]
    forward: tuple[float, ...]  # FLOP/s, one per seq
    backward: tuple[float, ...]  # FLOP/s, one per seq
    source: str


@dataclass(frozen=True)
class Kernel:
    """Measured forward and backward FLOP/s of one attention kernel, by chip, head dim and sequence length
    (``perf/data/training.toml`` [kernel.<id>]; FLOPs as the kernel benchmarks count them: causal pairs only)."""

    id: str
    title: str
    source: str
    rates: tuple[KernelRates, ...]

    def on(self, hardware_id: str, head_dim: float) -> KernelRates | None:
        """The figures for ``hardware_id`` at the head dim nearest ``head_dim`` (nearest on log2: the tile's work per
        byte scales with it; a tie takes the larger); None where the kernel has no figures for that chip."""
        sets = [r for r in self.rates if hardware_id in r.hardware]
        if not sets:
            return None
        return min(sets, key=lambda r: (abs(float(np.log2(r.head_dim / max(head_dim, 1.0)))), -r.head_dim))


@functools.cache
def _data() -> dict[str, Any]:
    return tomllib.loads(resources.files("tcobench.perf").joinpath("data/training.toml").read_text(encoding="utf-8"))


def _records(kind: str, build: Callable[[str, dict[str, Any]], R]) -> dict[str, R]:
    """``perf/data/training.toml``'s [kind.<id>] tables, each built by ``build(id, table)``; a key missing or unknown
    (TypeError) or a value of the wrong kind (KeyError, ValueError) is a CatalogError naming the table: the file is
    ours, so it is a packaging error."""
    out: dict[str, R] = {}
    for rid, t in _data().get(kind, {}).items():
        try:
            out[rid] = build(rid, t)
        except (KeyError, TypeError, ValueError) as e:
            raise CatalogError(f"perf/data/training.toml [{kind}.{rid}]: {e}") from None
    return out


@functools.cache
def frameworks() -> dict[str, Framework]:
    out = _records("framework", lambda fid, t: Framework(id=fid, **t))
    for fid in out:
        if out[fid].attention_kernel and out[fid].attention_kernel not in kernels():
            raise CatalogError(f"perf/data/training.toml [framework.{fid}]: attention_kernel "
                               f"{out[fid].attention_kernel!r} has no [kernel.{out[fid].attention_kernel}]")
        if out[fid].fp8_mlp not in FP8_MLPS:
            near = close_matches(out[fid].fp8_mlp, FP8_MLPS)
            raise CatalogError(f"perf/data/training.toml [framework.{fid}]: fp8_mlp {out[fid].fp8_mlp!r} is not a known "
                               f"fp8 MLP; expected one of {', '.join(FP8_MLPS)}"
                               + (f"; did you mean {near[0]!r}?" if near else ""))
        if out[fid].fp8_recipe and out[fid].fp8_recipe not in fp8_recipes():
            raise CatalogError(f"perf/data/training.toml [framework.{fid}]: fp8_recipe {out[fid].fp8_recipe!r} has no "
                               f"[fp8_recipe.{out[fid].fp8_recipe}]; expected one of {', '.join(fp8_recipes())}")
    return out


@functools.cache
def fp8_recipes() -> dict[str, Fp8Recipe]:
    return _records("fp8_recipe", lambda rid, t: Fp8Recipe(id=rid, **t))


def _kernel_rates(where: str, t: dict[str, Any]) -> KernelRates:
    """One [[kernel.<id>.rates]] table: ``hardware`` (chip ids), ``head_dim``, ``seq`` ascending, and either
    ``forward`` and ``backward`` or ``forward_backward`` (TFLOP/s, one per seq), and its ``source``."""
    known = {"hardware", "head_dim", "seq", "forward", "backward", "forward_backward", "source"}
    extra = sorted(set(t) - known)
    if extra:
        hint = close_matches(extra[0], known)
        raise CatalogError(f"{where}: unknown key {extra[0]!r}; expected {', '.join(sorted(known))}"
                           + (f"; did you mean {hint[0]!r}?" if hint else ""))
    split = "forward" in t or "backward" in t
    if split == ("forward_backward" in t) or (split and not ("forward" in t and "backward" in t)):
        raise CatalogError(f"{where}: expected forward and backward lists, or one forward_backward list; got "
                           f"{', '.join(k for k in ('forward', 'backward', 'forward_backward') if k in t) or 'none'}")
    try:
        hw = tuple(str(h) for h in t["hardware"])
        head_dim = float(t["head_dim"])
        seq = tuple(float(x) for x in t["seq"])
        fwd, bwd = ((t["forward"], t["backward"]) if split else (t["forward_backward"], t["forward_backward"]))
        fwd, bwd = tuple(float(x) * 1e12 for x in fwd), tuple(float(x) * 1e12 for x in bwd)
        source = str(t["source"])
    except (KeyError, TypeError, ValueError) as e:
        raise CatalogError(f"{where}: {e!r}; expected hardware, head_dim, seq, the rates and source") from None
    if not hw or head_dim <= 0 or not (len(seq) == len(fwd) == len(bwd) >= 1) or list(seq) != sorted(seq):
        raise CatalogError(f"{where}: expected a non-empty hardware list, head_dim > 0, and seq and the rates as lists "
                           "of one length, seq ascending")
    return KernelRates(hw, head_dim, seq, fwd, bwd, source)


@functools.cache
def kernels() -> dict[str, Kernel]:
    out: dict[str, Kernel] = {}
    for kid, t in _data().get("kernel", {}).items():
        sets = tuple(_kernel_rates(f"perf/data/training.toml [[kernel.{kid}.rates]] #{i + 1}", r)
                     for i, r in enumerate(t.get("rates", [])))
        seen: set[tuple[str, float]] = set()
        for r in sets:
            for hw in r.hardware:
                if (hw, r.head_dim) in seen:
                    raise CatalogError(f"perf/data/training.toml [kernel.{kid}]: two rate tables for {hw} at head dim "
                                       f"{r.head_dim:g}; expected one")
                seen.add((hw, r.head_dim))
        out[kid] = Kernel(id=kid, title=t["title"], source=t["source"], rates=sets)
    return out


def attention_rates(fw: Framework, hardware_id: str, seq: float, head_dim: float) -> tuple[float, float] | None:
    """(forward, backward) FLOP/s of the framework's attention kernel on ``hardware_id`` at ``seq`` tokens per
    sequence and ``head_dim`` (the figures at the nearest measured head dim, ``Kernel.on``): interpolated over
    log2(seq), held at the ends; None where the framework names no kernel or the kernel has no figures for that chip
    (the chip's attention rate then applies)."""
    if not fw.attention_kernel:
        return None
    r = kernels()[fw.attention_kernel].on(hardware_id, head_dim)
    if r is None:
        return None
    x = np.log2(np.asarray(r.seq))
    at = float(np.log2(max(seq, 1.0)))
    return float(np.interp(at, x, r.forward)), float(np.interp(at, x, r.backward))


def framework(fid: str) -> Framework:
    known = frameworks()
    if fid not in known:
        hint = close_matches(fid, known)
        raise InputError(f"{{framework}} {fid!r}: expected one of {', '.join(known)}"
                         + (f"; did you mean {hint[0]!r}?" if hint else ""), params=("framework",))
    return known[fid]


@dataclass(frozen=True)
class HostLink:
    """A chip's link to its host's memory: bytes/s each way, and where the figure comes from."""

    hardware: str
    bandwidth: float
    source: str


@functools.cache
def host_links() -> dict[str, HostLink]:
    """``perf/data/training.toml`` [host_link.<hardware id>]."""
    return _records("host_link", lambda hw, t: HostLink(hw, float(t["gb_per_s"]) * 1e9, str(t["source"])))

"""A chip as arrays: the hardware numbers the roofline needs, broadcastable across a sweep."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from tcobench.catalog.schema import Hardware
from tcobench.errors import MissingInputError
from tcobench.perf.efficiency import Efficiencies
from tcobench.perf.precision import rates

Array = np.ndarray


@dataclass(frozen=True)
class Chip:
    """Per-chip figures in SI units; each may be a float or an array that broadcasts with the axes.

    ``peak`` is the dense FLOP/s at the compute precision in use (NaN where the chip has none).
    ``head_rate`` is the FLOP/s the LM head reaches (peak x efficiency at ``precision.head_precision``);
    ``attn_rate`` the FLOP/s attention's matmuls reach (at ``precision.attention_precision``).
    ``memory_eff`` is the fraction of the memory bandwidth streaming reads reach (attention's KV, elementwise
    ops); ``matmul_memory_eff`` / ``head_memory_eff`` what the body's matmuls at the compute precision / the LM
    head at its own precision reach streaming their weights (``Efficiencies.memory_for``).
    """

    peak: Array | float  # FLOP/s
    mem_bw: Array | float  # B/s
    mem_cap: Array | float  # B
    up_bw: Array | float  # B/s per direction collectives reach on the scale-up tier (NaN: no scale-up link)
    up_domain: Array | float  # chips on the scale-up tier
    out_bw: Array | float  # B/s per direction, scale-out tier (NaN: unknown)
    compute_eff: Array | float
    memory_eff: Array | float
    overhead: Array | float  # s per operator
    alpha: Array | float  # s per collective step
    ar_latency: Array | float  # s, a one-shot all-reduce inside the scale-up domain (NaN: the ring only)
    ar_bw: Array | float  # B/s, the one-shot kernel's time per byte of message (NaN: the ring only)
    mem_util: Array | float  # usable fraction of capacity
    prefill_chunk: Array | float  # tokens
    head_rate: Array | float  # FLOP/s of the LM head (16-bit when the body is quantised)
    attn_rate: Array | float  # FLOP/s of attention (the wider of activations and KV cache, at least 8-bit)
    matmul_memory_eff: Array | float  # weight streaming of the body's matmuls, at the compute precision
    head_memory_eff: Array | float  # ... and of the LM head, at its precision
    up_dims: Array | float = 0.0  # torus dimensions of the scale-up tier (0: a switch, every link in every collective)
    up_links: Array | float = float("nan")  # links per chip sharing up_bw on a torus
    up_wrap: Array | float = float("inf")  # chips from which a torus slice has wraparound links
    up_mesh: Array | float = 0.0  # 1: the scale-up tier is a full mesh (a group reaches its peers' links only)
    gg_full: Array | float = 1.0  # tokens per expert from which an MoE grouped GEMM runs at compute_eff (Efficiencies)
    gg_loss: Array | float = 0.0  # ... the fraction of that rate it loses per halving of tokens per expert
    gg_least: Array | float = 1.0  # ... and the fewest tokens per expert the curve holds to
    stream_bw: Array | float = float("nan")  # B/s per direction weights can stream in from external memory (wafer-scale: MemoryX); NaN: none
    eager_overhead: Array | float = float("nan")  # s per operator of a pass launched kernel by kernel (prefill); NaN: `overhead`
    eager_norm_eff: Array | float = float("nan")  # bandwidth fraction of PyTorch's eager norm kernels (training); NaN: memory_eff
    fp8_cast_transpose_eff: Array | float = float("nan")  # ... of TE's fp8 cast-transpose kernel (training); NaN: memory_eff
    # tensor-parallel ranks per chip: 1, or the chip's cores where the stack's tensor parallelism counts cores
    # (``Runtime.tensor_parallel``, set by perf/predict.py ``stack_chip``), and the B/s per direction between them
    cores: Array | float = 1.0
    core_bw: Array | float = float("nan")

    @classmethod
    def of(cls, hw: Hardware, precision: str, eff: Efficiencies, *, kv: str | None = None, attention_16bit: bool = False,
           strict: bool = True) -> Chip:
        """One chip at one compute precision, with its KV cache in ``kv`` (default: ``precision``);
        ``attention_16bit`` for a runtime that attends in 16 bits whatever the formats. ``strict`` raises
        MissingInputError naming a missing figure."""
        peak = hw.peak(precision)
        needed = {f"peak_dense.{precision}": peak, "memory.bandwidth": hw.memory.bandwidth, "memory.capacity": hw.memory.capacity}
        missing = [k for k, v in needed.items() if v is None]
        if strict and missing:
            sparse = ", ".join(f"{p} {f.text}" for p, f in hw.peak_sparse.items())
            other = (f", or pick a precision it has ({', '.join(hw.peak_dense)})" if hw.peak_dense else
                     "; it has no dense peak at any precision" + (f" (only sparse ones, which are never used as dense: "
                                                               f"{sparse}; see its catalog note)" if sparse else ""))
            raise MissingInputError(f"{hw.id} has no {', '.join(missing)} in the catalog ({hw.origin}); "
                                    f"add it with a source{other}")
        nan = float("nan")
        fmt = rates(precision, kv or precision, [str(k) for k in hw.peak_dense], sixteen_bit=attention_16bit)
        head, attn = fmt["lm_head"], fmt["attention"]
        head_peak = hw.peak(head) or peak
        attn_peak = hw.peak(attn) or peak
        up = hw.scale_up
        return cls(
            peak=peak.value if peak else nan,
            mem_bw=hw.memory.bandwidth.value if hw.memory.bandwidth else nan,
            mem_cap=hw.memory.capacity.value if hw.memory.capacity else nan,
            up_bw=up.bandwidth.value * eff.collective_bandwidth if up.bandwidth else nan,
            up_domain=up.domain.value if up.domain else 1.0,
            out_bw=hw.scale_out.bandwidth.value if hw.scale_out.bandwidth else nan,
            compute_eff=eff.compute_for(precision), memory_eff=eff.memory, overhead=eff.overhead, alpha=eff.collective_latency,
            ar_latency=eff.allreduce_latency if up.bandwidth else nan, ar_bw=eff.allreduce_bandwidth if up.bandwidth else nan,
            mem_util=eff.memory_utilization, prefill_chunk=eff.prefill_chunk,
            head_rate=head_peak.value * eff.compute_for(head) if head_peak else nan,
            attn_rate=attn_peak.value * eff.compute_for(attn) if attn_peak else nan,
            matmul_memory_eff=eff.memory_for(precision), head_memory_eff=eff.memory_for(head),
            up_dims=up.torus_dims.value if up.torus_dims else 0.0,
            up_links=up.links.value if up.links else nan,
            up_wrap=up.wrap_from.value if up.wrap_from else float("inf"),
            up_mesh=1.0 if up.mesh else 0.0,
            gg_full=eff.grouped_gemm_full, gg_loss=eff.grouped_gemm_loss, gg_least=eff.grouped_gemm_least,
            stream_bw=_stream_bw(hw),
            eager_overhead=eff.eager_overhead,
            eager_norm_eff=eff.eager_norm,
            fp8_cast_transpose_eff=eff.fp8_cast_transpose,
        )


def _stream_bw(hw: Hardware) -> float:
    """Weight streaming (Cerebras MemoryX-style) only for wafer-scale parts, whose only device memory is the
    on-wafer SRAM and whose weights otherwise live off the wafer behind the external I/O; NaN elsewhere, so a
    GPU that does not fit stays "does not fit" instead of silently streaming over its NICs."""
    io = hw.external_io.bandwidth
    return float(io.value) if hw.kind == "wafer" and io is not None else float("nan")


def chip_arrays(chips: Sequence[Chip]) -> Chip:
    """Stack chips along a leading axis of length len(chips), shaped (n, 1) so they broadcast with a flat grid."""
    return Chip(**{f.name: np.array([float(getattr(c, f.name)) for c in chips])[:, None] for f in fields(Chip)})

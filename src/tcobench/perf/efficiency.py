"""Efficiency factors for the roofline, from the catalog's [efficiency.*] tables (data, not code).

Resolution, field by field: the hardware record's own ``[hardware.<id>.efficiency]``, then
``[efficiency.<hardware id>]``, then ``[efficiency.<kind>]`` (gpu, tpu, ...), then ``[efficiency.default]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from tcobench.catalog.schema import Efficiency, Hardware
from tcobench.errors import MissingInputError

FIELDS = ("compute", "memory", "overhead", "collective_latency", "memory_utilization", "prefill_chunk",
          "grouped_gemm_full", "grouped_gemm_loss", "grouped_gemm_least")
# fields no table need set: the dataclass default (NaN for the one-shot all-reduce: the ring only; 1.0 for
# collective_bandwidth: collectives at the scale-up link's full rate; NaN for eager_overhead: a prefill pays `overhead`
# as a decode step does, for chips that run compiled programs rather than launching kernels one by one; NaN for
# eager_norm and fp8_cast_transpose: no measured figure, those kernels run at `memory`) applies then
OPTIONAL = ("allreduce_latency", "allreduce_bandwidth", "collective_bandwidth", "eager_overhead", "eager_norm",
            "fp8_cast_transpose")


@dataclass(frozen=True)
class Efficiencies:
    compute: float
    memory: float
    overhead: float
    collective_latency: float
    memory_utilization: float
    prefill_chunk: float
    grouped_gemm_full: float  # tokens per expert (Efficiency.grouped_gemm_*; perf/layer.py grouped_gemm_share)
    grouped_gemm_loss: float
    grouped_gemm_least: float
    sources: Mapping[str, str]  # field -> "efficiency.<id>" it came from
    compute_at: Mapping[str, float] = field(default_factory=dict)  # precision -> compute efficiency
    memory_at: Mapping[str, float] = field(default_factory=dict)  # precision -> weight streaming of its matmuls
    sustained_at: Mapping[str, float] = field(default_factory=dict)  # precision -> compute efficiency, power-saturated
    allreduce_latency: float = float("nan")  # s, a one-shot all-reduce inside the scale-up domain (NaN: ring only)
    allreduce_bandwidth: float = float("nan")  # B/s, ... and how its time grows with the message (NaN: ring only)
    collective_bandwidth: float = 1.0  # fraction of the scale-up link's per-direction bandwidth collectives reach
    eager_overhead: float = float("nan")  # s per operator launched from the host, outside a CUDA graph (NaN: `overhead`)
    eager_norm: float = float("nan")  # fraction of the bandwidth PyTorch's eager norm kernels reach (NaN: `memory`)
    fp8_cast_transpose: float = float("nan")  # ... and Transformer Engine's fp8 cast-transpose kernel (NaN: `memory`)

    def compute_for(self, precision: str) -> float:
        return self.compute_at.get(precision, self.compute)

    def sustained(self) -> Efficiencies:
        """These efficiencies with the matmul rates a sustained, power-saturated load holds (``sustained_at``) in
        place of ``compute_at`` where the catalog states them: what a training step runs at, every chip busy for
        minutes with its clock settled at the power limit (docs/training.md, 'By chip')."""
        if not self.sustained_at:
            return self
        sources = {**self.sources, **{f"compute_at.{p}": self.sources[f"sustained_at.{p}"] for p in self.sustained_at}}
        return replace(self, compute_at={**self.compute_at, **self.sustained_at}, sources=sources)

    def memory_for(self, precision: str) -> float:
        """Fraction of the memory bandwidth a matmul at ``precision`` reaches streaming its weights."""
        return self.memory_at.get(precision, self.memory)


def resolve(hw: Hardware, tables: Mapping[str, Efficiency]) -> Efficiencies:
    chain = [("hardware." + hw.id + ".efficiency", hw.efficiency), (f"efficiency.{hw.id}", tables.get(hw.id)),
             (f"efficiency.{hw.kind}", tables.get(hw.kind)), ("efficiency.default", tables.get("default"))]
    values: dict[str, float] = {}
    sources: dict[str, str] = {}
    for name in FIELDS:
        for where, table in chain:
            fig = getattr(table, name, None) if table is not None else None
            if fig is not None:
                values[name], sources[name] = fig.value, f"{where} ({fig.source})"
                break
        else:
            raise MissingInputError(f"no efficiency '{name}' for {hw.id}: add [efficiency.default] {name} to the catalog")
    for name in OPTIONAL:
        for where, table in chain:
            fig = getattr(table, name, None) if table is not None else None
            if fig is not None:
                values[name], sources[name] = fig.value, f"{where} ({fig.source})"
                break
    compute_at, memory_at = _per_precision("compute_at", chain, sources), _per_precision("memory_at", chain, sources)
    sustained_at = _per_precision("sustained_at", chain, sources)
    return Efficiencies(**values, sources=sources, compute_at=compute_at, memory_at=memory_at, sustained_at=sustained_at)


def _per_precision(name: str, chain: list[tuple[str, Efficiency | None]], sources: dict[str, str]) -> dict[str, float]:
    """The per-precision overrides ``name`` (compute_at, memory_at, sustained_at), most specific table winning; records sources."""
    found: dict[str, float] = {}
    for where, table in reversed(chain):  # most specific last, so it wins
        for p, fig in (getattr(table, name, None) or {}).items():
            found[p] = fig.value
            sources[f"{name}.{p}"] = f"{where} ({fig.source})"
    return found

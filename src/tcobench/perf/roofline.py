"""Roofline time of one operator, and the accumulation of operators into a phase.

    time = max(FLOPs / (peak x compute_eff), bytes / (bandwidth x memory_eff)) + overhead

``overhead`` is the chip's per-operator cost as serving engines run decode steps (replayed from CUDA graphs); a phase
marked ``eager`` (a prefill: engines launch its kernels one by one from the host) pays ``eager_overhead`` instead.

Williams, Waterman and Patterson, "Roofline: an insightful visual performance model" (CACM 2009).
Collectives are costed separately (comm.py) and add without overlap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import numpy as np
from numpy.typing import NDArray

from tcobench.perf.chip import Chip
from tcobench.perf.vec import Vec, maximum, where

COMPUTE, MEMORY, COMM = 0, 1, 2
BOUND_NAMES = ("compute", "memory", "communication")


@dataclass
class Phase:
    """Running totals of one phase (a prefill, or one decode step), per chip. Arrays broadcast."""

    chip: Chip
    detail: bool = False
    eager: bool = False  # launched kernel by kernel from the host (a prefill): ``chip.eager_overhead`` per operator
    time: Vec = 0.0  # s
    flops: Vec = 0.0  # per chip
    bytes: Vec = 0.0  # per chip, memory traffic
    by_bound: list[Vec] = field(default_factory=lambda: [0.0, 0.0, 0.0])  # time in compute-, memory-, comm-bound ops
    ops: list[tuple[str, Vec, Vec, Vec, Vec, Vec]] = field(default_factory=list)  # (name, count, flops, bytes, time, bound)

    def op(self, name: str, count: Vec, flops: Vec, nbytes: Vec, rate: Vec | None = None, memory_eff: Vec | None = None) -> None:
        """Add ``count`` identical operators (e.g. one per layer) of ``flops`` FLOPs and ``nbytes`` bytes each.
        ``rate``: the FLOP/s this operator reaches, when not the chip's peak x compute efficiency;
        ``memory_eff``: the fraction of the bandwidth its reads reach, when not the chip's ``memory_eff``."""
        c = self.chip
        t_c = flops / (c.peak * c.compute_eff if rate is None else rate)
        t_m = nbytes / (c.mem_bw * (c.memory_eff if memory_eff is None else memory_eff))
        compute_bound = t_c >= t_m
        t = (maximum(t_c, t_m) + self.launch_cost()) * count
        self.time = self.time + t
        self.flops = self.flops + flops * count
        self.bytes = self.bytes + nbytes * count
        self.by_bound[COMPUTE] = self.by_bound[COMPUTE] + where(compute_bound, t, 0.0)
        self.by_bound[MEMORY] = self.by_bound[MEMORY] + where(compute_bound, 0.0, t)
        if self.detail:
            self.ops.append((name, count, flops, nbytes, t, where(compute_bound, COMPUTE, MEMORY)))

    def launch_cost(self) -> Vec:
        """Seconds per operator: the chip's ``overhead`` (kernels replayed from a CUDA graph, or a compiled program),
        or in an eager pass its ``eager_overhead`` where the chip has one (never less than ``overhead``)."""
        c = self.chip
        if not self.eager:
            return c.overhead
        if isinstance(c.eager_overhead, float) and isinstance(c.overhead, float):
            return c.overhead if c.eager_overhead != c.eager_overhead else max(c.eager_overhead, c.overhead)
        return np.fmax(c.eager_overhead, c.overhead)

    def comm(self, name: str, count: Vec, t_one: Vec, nbytes: Vec) -> None:
        t = t_one * count
        self.time = self.time + t
        self.by_bound[COMM] = self.by_bound[COMM] + t
        if self.detail:
            self.ops.append((name, count, 0.0, nbytes, t, COMM))

    def bound(self) -> int | NDArray[np.intp]:
        """0 compute, 1 memory, 2 communication: where the phase spends most of its time."""
        b = self.by_bound
        if all(isinstance(x, float) and x == x for x in b):  # one configuration: the first of the largest, as argmax
            return COMPUTE if b[0] >= b[1] and b[0] >= b[2] else MEMORY if b[1] >= b[2] else COMM
        return cast(NDArray[np.intp], np.argmax(np.broadcast_arrays(*[np.asarray(x, dtype=float) for x in b]), axis=0))

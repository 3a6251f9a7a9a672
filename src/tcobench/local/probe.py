"""``tcobench probe``: what the roofline's efficiency factors stand for, measured on this device.

- GEMM FLOP/s by shape and format: ``x (m x k) @ w.T (k x n)`` for token counts ``m`` from tens to thousands
  (fp32 and bf16 on a CPU; bf16, fp16 and fp8 where ``torch._scaled_mm`` runs, on a GPU);
- weight streaming at small m (1 to 16, GEMV-like): bytes of ``w`` read per second, weights larger than the
  caches, which is what a decode step's matmuls reach;
- achieved memory bandwidth of a large copy (bytes read + written per second);
- per-kernel launch cost: a one-element in-place add queued back to back, eagerly, and on CUDA replayed
  from a CUDA graph.

The figures are raw measurements; ``profile.py`` turns them into a catalog hardware file.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tcobench.local.device import Device, need_torch
from tcobench.local.timing import timed, timed_batch

Progress = Callable[[str], None]

# Torch dtypes by tcobench format name
DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16", "fp8": "float8_e4m3fn"}
LARGE_M = 256  # GEMMs with at least this many tokens: the compute class (the roofline's `compute`)
SMALL_M = 16  # ... at most this many: weight streaming (the roofline's `memory_at`)


@dataclass(frozen=True)
class Plan:
    """What one probe measures; the defaults per device kind keep a CPU probe under a minute."""

    formats: tuple[str, ...]
    gemm_shapes: tuple[tuple[int, int], ...]  # (n, k) of the weight
    gemm_m: tuple[int, ...]
    stream_shape: tuple[int, int]  # (n, k) of a weight larger than the caches
    stream_m: tuple[int, ...]
    copy_bytes: int
    budget_s: float  # per measurement

    @classmethod
    def default(cls, kind: str, quick: bool = False) -> Plan:
        if kind == "cpu":
            return cls(("fp32", "bf16"), ((2048, 2048),) if quick else ((2048, 2048), (4096, 1024)),
                       (64, 256, 512) if quick else (16, 64, 256, 512, 1024), (4096, 2048) if quick else (8192, 4096),
                       (1, 16) if quick else (1, 4, 16), 64 * 2**20 if quick else 256 * 2**20,
                       0.05 if quick else 0.25)
        return cls(("bf16", "fp16", "fp8"), ((8192, 8192), (28672, 8192), (8192, 28672)), (128, 512, 2048, 8192),
                   (28672, 8192), (1, 2, 4, 8, 16), 2**30, 0.2)


@dataclass(frozen=True)
class Gemm:
    format: str
    m: int
    n: int
    k: int
    seconds: float
    reps: int

    @property
    def flops_per_s(self) -> float:
        return 2.0 * self.m * self.n * self.k / self.seconds

    def weight_bytes_per_s(self, width: float) -> float:
        """Bytes of the weight read per second (``width`` bytes per element)."""
        return self.n * self.k * width / self.seconds

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "m": self.m, "n": self.n, "k": self.k, "seconds": self.seconds, "reps": self.reps,
                "flops_per_s": self.flops_per_s, "weight_bytes_per_s": self.weight_bytes_per_s(WIDTH[self.format])}


WIDTH = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0}


@dataclass(frozen=True)
class Probe:
    """Everything one probe measured, in SI units."""

    device: Device
    gemm: tuple[Gemm, ...]  # compute shapes
    streaming: tuple[Gemm, ...]  # small-m shapes on a weight larger than the caches
    copy_bytes_per_s: float  # bytes read + written
    launch_eager_s: float
    launch_graph_s: float | None  # CUDA only
    skipped: dict[str, str] = field(default_factory=dict)  # format -> why it was not measured
    wall_s: float = 0.0
    date: str = ""

    def formats(self) -> list[str]:
        return sorted({g.format for g in self.gemm}, key=list(DTYPES).index)

    def best_flops(self, fmt: str) -> float:
        return max(g.flops_per_s for g in self.gemm if g.format == fmt)

    def large_flops(self, fmt: str) -> float:
        """Median FLOP/s of the compute-class GEMMs (m >= LARGE_M) in ``fmt``."""
        rates = [g.flops_per_s for g in self.gemm if g.format == fmt and g.m >= LARGE_M]
        return statistics.median(rates or [self.best_flops(fmt)])

    def streaming_bytes_per_s(self, fmt: str) -> float | None:
        """Median bytes/s of weight streaming (m <= SMALL_M) in ``fmt``; None where not measured."""
        rates = [g.weight_bytes_per_s(WIDTH[fmt]) for g in self.streaming if g.format == fmt]
        return statistics.median(rates) if rates else None

    def to_dict(self) -> dict[str, Any]:
        return {"device": self.device.to_dict(), "date": self.date, "wall_s": self.wall_s,
                "gemm": [g.to_dict() for g in self.gemm], "streaming": [g.to_dict() for g in self.streaming],
                "copy_bytes_per_s": self.copy_bytes_per_s, "launch_eager_s": self.launch_eager_s,
                "launch_graph_s": self.launch_graph_s, "skipped": dict(self.skipped)}


def run_probe(dev: Device, plan: Plan | None = None, progress: Progress | None = None) -> Probe:
    """Measure ``plan`` (default: ``Plan.default(dev.kind)``) on ``dev``; ``progress`` gets one line per step."""
    import datetime as dt

    torch = need_torch()
    plan = plan or Plan.default(dev.kind)
    say = progress or (lambda _: None)
    start = time.perf_counter()
    gemm: list[Gemm] = []
    streaming: list[Gemm] = []
    skipped: dict[str, str] = {}
    with torch.no_grad():
        for fmt in plan.formats:
            mm = _matmul(torch, dev, fmt)
            if isinstance(mm, str):
                skipped[fmt] = mm
                say(f"{fmt}: skipped ({mm})")
                continue
            for n, k in plan.gemm_shapes:
                for m in plan.gemm_m:
                    g = _gemm(torch, dev, mm, fmt, m, n, k, plan.budget_s, skipped)
                    if g is not None:
                        gemm.append(g)
                        say(f"GEMM {fmt} m={m} n={n} k={k}: {g.flops_per_s / 1e9:,.1f} GFLOP/s")
            n, k = plan.stream_shape
            for m in plan.stream_m:
                g = _gemm(torch, dev, mm, fmt, m, n, k, plan.budget_s, skipped)
                if g is not None:
                    streaming.append(g)
                    say(f"weight streaming {fmt} m={m} ({n} x {k}): {g.weight_bytes_per_s(WIDTH[fmt]) / 1e9:,.1f} GB/s")
        copy = _copy(torch, dev, plan.copy_bytes, plan.budget_s)
        say(f"copy of {plan.copy_bytes / 2**20:,.0f} MiB: {copy / 1e9:,.1f} GB/s (read + written)")
        eager, graph = _launch(torch, dev)
        say(f"launch: {eager * 1e6:.2f} us per kernel eager" + (f", {graph * 1e6:.2f} us from a CUDA graph" if graph else ""))
    if not gemm:
        from tcobench.errors import MissingInputError

        raise MissingInputError(f"no GEMM ran on {dev.name}: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    return Probe(dev, tuple(gemm), tuple(streaming), copy, eager, graph, skipped, time.perf_counter() - start,
                 dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"))


MatMul = Callable[[Any, Any], Any]


def _matmul(torch: Any, dev: Device, fmt: str) -> MatMul | str:
    """The matmul of ``fmt`` on ``dev``, or why there is none here."""
    if fmt == "fp8":
        if dev.kind != "cuda" or not hasattr(torch, "_scaled_mm"):
            return "fp8 GEMMs need torch._scaled_mm on a CUDA device"
        one = torch.tensor(1.0, device=dev.name)
        return lambda x, w: torch._scaled_mm(x, w.t(), scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
    if fmt not in DTYPES:
        return f"unknown format {fmt}"
    return lambda x, w: x @ w.t()


def _gemm(torch: Any, dev: Device, mm: MatMul, fmt: str, m: int, n: int, k: int, budget_s: float,
          skipped: dict[str, str]) -> Gemm | None:
    dtype = getattr(torch, DTYPES[fmt])
    base = torch.bfloat16 if fmt == "fp8" else dtype
    if fmt == "fp8" and m % 16:
        return None  # _scaled_mm needs m a multiple of 16
    try:
        w = torch.randn(n, k, device=dev.name, dtype=base).to(dtype)
        x = torch.randn(m, k, device=dev.name, dtype=base).to(dtype)
        t = timed(lambda: mm(x, w), dev, budget_s=budget_s)
    except (RuntimeError, TypeError) as err:  # a format this build or device does not run
        skipped[fmt] = f"{type(err).__name__}: {str(err).splitlines()[0][:160]}"
        return None
    return Gemm(fmt, m, n, k, t.seconds, t.reps)


def _copy(torch: Any, dev: Device, nbytes: int, budget_s: float) -> float:
    a = torch.empty(nbytes // 4, device=dev.name, dtype=torch.float32).normal_()
    b = torch.empty_like(a)
    t = timed(lambda: b.copy_(a), dev, budget_s=budget_s)
    return float(2.0 * a.numel() * 4 / t.seconds)


def _launch(torch: Any, dev: Device) -> tuple[float, float | None]:
    """Seconds per tiny kernel: eager, and (CUDA) replayed from a CUDA graph of 100 of them."""
    x = torch.zeros(1, device=dev.name)
    eager = timed_batch(lambda: x.add_(1.0), dev, inner=200, budget_s=0.2).seconds
    if dev.kind != "cuda":
        return eager, None
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        x.add_(1.0)
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for _ in range(100):
            x.add_(1.0)
    graph = timed_batch(g.replay, dev, inner=10, budget_s=0.2).seconds / 100
    return float(eager), float(graph)


def summary_rows(p: Probe) -> Sequence[tuple[str, str, str]]:
    """(what, figure, note) rows for a terminal table."""
    rows: list[tuple[str, str, str]] = []
    for fmt in p.formats():
        pts = [g for g in p.gemm if g.format == fmt]
        mid = [g.flops_per_s for g in pts if SMALL_M < g.m < LARGE_M]
        rows.append((f"GEMM {fmt}, m >= {LARGE_M}", f"{p.large_flops(fmt) / 1e9:,.1f} GFLOP/s",
                     f"median; best {p.best_flops(fmt) / 1e9:,.1f}" + (f"; m {SMALL_M + 1}-{LARGE_M - 1}: median "
                                                                       f"{statistics.median(mid) / 1e9:,.1f}" if mid else "")))
        s = p.streaming_bytes_per_s(fmt)
        if s is not None:
            rows.append((f"weight streaming {fmt}, m <= {SMALL_M}", f"{s / 1e9:,.1f} GB/s", "median, weight bytes read"))
    rows.append(("copy", f"{p.copy_bytes_per_s / 1e9:,.1f} GB/s", "bytes read + written"))
    rows.append(("launch, eager", f"{p.launch_eager_s * 1e6:.2f} us", "per tiny kernel"))
    if p.launch_graph_s is not None:
        rows.append(("launch, CUDA graph", f"{p.launch_graph_s * 1e6:.2f} us", "per kernel replayed"))
    for fmt, why in p.skipped.items():
        rows.append((f"{fmt}", "not measured", why))
    return rows

"""Charts as data: what to draw, in SI units, with no plotting library imported.

``plots.draw(chart)`` turns one of these into a matplotlib figure. Every chart has a ``name`` that is
unique within a report and safe as a file stem (``--format png|svg`` writes ``<name>.png``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def slug(*parts: object) -> str:
    """A file-safe name: 'cost', 'run 3', 'H100 SXM' -> 'cost-run-3-h100-sxm'."""
    text = "-".join(str(p) for p in parts if p not in (None, ""))
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "chart"


@dataclass(frozen=True)
class Span:
    """(low, likely, high) of one number."""

    low: float
    likely: float
    high: float


@dataclass(frozen=True)
class Series:
    label: str
    x: tuple[float, ...]
    y: tuple[float, ...]


@dataclass(frozen=True)
class CostChart:
    """$/1M output tokens per hardware, own and rent, with low-high error bars."""

    name: str
    title: str
    hardware: tuple[str, ...]
    own: tuple[Span | None, ...]
    rent: tuple[Span | None, ...]


@dataclass(frozen=True)
class ParetoChart:
    """Per hardware, the front of output tokens/s per chip (y) vs tokens/s per user (x)."""

    name: str
    title: str
    fronts: tuple[Series, ...]
    min_interactivity: float | None = None  # tokens/s/user that the TPOT SLO asks for (1 / TPOT)


@dataclass(frozen=True)
class Roof:
    label: str  # "bf16", "fp8", ...
    flops_per_s: float


@dataclass(frozen=True)
class OpPoint:
    phase: str  # "prefill" | "decode"
    name: str
    intensity: float  # FLOP/B
    flops_per_s: float  # achieved FLOP/s


@dataclass(frozen=True)
class RooflineChart:
    name: str
    title: str
    roofs: tuple[Roof, ...]  # dense compute peaks per precision
    bandwidth: float  # B/s
    points: tuple[OpPoint, ...]


@dataclass(frozen=True)
class CdfChart:
    """A latency distribution as a CDF: x = latency in s, y = cumulative fraction (from stored percentiles)."""

    name: str
    title: str
    xlabel: str
    series: tuple[Series, ...]
    slo: float | None = None  # s, drawn as a vertical line


@dataclass(frozen=True)
class LoadChart:
    """Throughput and goodput (y) against concurrency or request rate (x)."""

    name: str
    title: str
    xlabel: str
    ylabel: str
    series: tuple[Series, ...]


@dataclass(frozen=True)
class ErrorPoint:
    label: str  # the reference row
    group: str  # where it comes from (drawn as one line of the strip)
    phase: str  # "throughput" | "prefill" | "decode" | "server"
    ratio: float  # predicted / published


@dataclass(frozen=True)
class AccuracyChart:
    """Predicted / published per reference row on a log axis, one strip per source family, with the
    exact line, the +-10 % band and the 2x lines."""

    name: str
    title: str
    points: tuple[ErrorPoint, ...]


Chart = CostChart | ParetoChart | RooflineChart | CdfChart | LoadChart | AccuracyChart

"""Draw ``charts`` records with matplotlib (Agg backend, imported only when a chart is drawn).

SVG output is deterministic (fixed hash salt per chart, no date) and keeps text as text, so the
HTML page needs no fonts or scripts from anywhere. Labels are never parsed as mathtext: a '$' in a
model name stays a '$'.
"""

from __future__ import annotations

import io
import math
from functools import singledispatch
from typing import TYPE_CHECKING, Any

from tcobench.report.charts import AccuracyChart, CdfChart, Chart, CostChart, LoadChart, ParetoChart, RooflineChart

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WIDTH, HEIGHT = 7.0, 3.6  # inches; about 700 x 360 CSS px in the page
COLORS = ("#1f6feb", "#d1495b", "#2a9d8f", "#e9a23b", "#6a4c93", "#8d6e63", "#00798c", "#edae49", "#66a182", "#3d405b")
PHASE_COLORS = {"prefill": "#1f6feb", "decode": "#d1495b"}
RC: dict[str, Any] = {
    "svg.fonttype": "none",  # text stays text: small files, searchable, no embedded glyphs
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "figure.dpi": 100,
}


def _mpl() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def render(chart: Chart, fmt: str) -> bytes:
    """``chart`` as an SVG or PNG file's bytes."""
    plt = _mpl()
    import matplotlib

    rc: Any = {**RC, "svg.hashsalt": chart.name}  # matplotlib types its keys as a Literal of every rc name
    with matplotlib.rc_context(rc):
        fig = plt.figure(figsize=(WIDTH, HEIGHT), layout="constrained")
        try:
            draw(chart, fig)
            buf = io.BytesIO()
            meta = {"Date": None} if fmt == "svg" else {"Software": None}
            fig.savefig(buf, format=fmt, metadata=meta, dpi=150 if fmt == "png" else None)
        finally:
            plt.close(fig)
    return buf.getvalue()


def inline_svg(chart: Chart) -> str:
    """The chart as an ``<svg>`` element for an HTML page (no XML prolog, no DOCTYPE)."""
    text = render(chart, "svg").decode("utf-8")
    start = text.index("<svg")
    svg = text[start:]
    # scale with the page: drop the fixed size, keep the viewBox
    head, rest = svg.split(">", 1)
    head = " ".join(p for p in head.split(" ") if not p.startswith(("width=", "height=")))
    return f'{head} role="img" aria-label="{_attr(chart.title)}">{rest}'


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


@singledispatch
def draw(chart: Any, fig: Figure) -> None:
    raise TypeError(f"no drawing for {type(chart).__name__}")


@draw.register(CostChart)
def _cost(chart: CostChart, fig: Figure) -> None:
    ax = fig.add_subplot()
    n = len(chart.hardware)
    bars = [("own", chart.own, COLORS[0]), ("rent", chart.rent, COLORS[2])]
    bars = [b for b in bars if any(s is not None for s in b[1])]
    h = 0.8 / max(len(bars), 1)
    values = []
    for j, (label, spans, color) in enumerate(bars):
        ys, xs, lo, hi = [], [], [], []
        for i, s in enumerate(spans):
            if s is None:
                continue
            ys.append(i + (j - (len(bars) - 1) / 2) * h)
            xs.append(s.likely)
            lo.append(s.likely - s.low)
            hi.append(s.high - s.likely)
            values += [s.low, s.high]
        ax.barh(ys, xs, height=h * 0.9, color=color, label=label, xerr=[lo, hi], ecolor="#333333", capsize=2.5)
    ax.set_yticks(range(n), chart.hardware)
    ax.invert_yaxis()
    positive = [v for v in values if v > 0]
    if positive and max(positive) / min(positive) > 30:
        _log(ax, "x")
    ax.set_xlabel("USD per 1M output tokens (bar: likely; whisker: low–high)")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(chart.title, loc="left")


@draw.register(ParetoChart)
def _pareto(chart: ParetoChart, fig: Figure) -> None:
    ax = fig.add_subplot()
    for i, s in enumerate(chart.fronts):
        ax.plot(s.x, s.y, marker="o", markersize=3, linewidth=1.4, color=COLORS[i % len(COLORS)], label=s.label, drawstyle="default")
    if chart.min_interactivity is not None:
        ax.axvline(chart.min_interactivity, color="#555555", linestyle="--", linewidth=1)
        ax.annotate("TPOT SLO", (chart.min_interactivity, 1), xycoords=("data", "axes fraction"), xytext=(3, -10),
                    textcoords="offset points", fontsize=8, color="#555555")
        ax.axvspan(ax.get_xlim()[0], chart.min_interactivity, color="#999999", alpha=0.08, linewidth=0)
    _log(ax, "y")
    ax.set_xlabel("interactivity: output tokens/s per user")
    ax.set_ylabel("output tokens/s per chip")
    ax.legend(loc="best", fontsize=8)
    ax.set_title(chart.title, loc="left")


@draw.register(RooflineChart)
def _roofline(chart: RooflineChart, fig: Figure) -> None:
    ax = fig.add_subplot()
    intensities = [p.intensity for p in chart.points if p.intensity > 0] or [1.0]
    peak_max = max((r.flops_per_s for r in chart.roofs), default=chart.bandwidth)
    lo = min(min(intensities), peak_max / chart.bandwidth) / 10
    hi = max(max(intensities), peak_max / chart.bandwidth) * 10
    xs = [lo * (hi / lo) ** (k / 200) for k in range(201)]
    for i, roof in enumerate(sorted(chart.roofs, key=lambda r: -r.flops_per_s)):
        ax.plot(xs, [min(roof.flops_per_s, x * chart.bandwidth) for x in xs], color=COLORS[(i + 4) % len(COLORS)], linewidth=1.3)
        ax.annotate(f"{roof.label} {roof.flops_per_s / 1e12:,.4g} TFLOP/s", (hi, roof.flops_per_s), xytext=(-4, 3),
                    textcoords="offset points", ha="right", fontsize=8, color=COLORS[(i + 4) % len(COLORS)])
    ax.annotate(f"memory {chart.bandwidth / 1e12:.3g} TB/s", (lo * 3, lo * 3 * chart.bandwidth), xytext=(4, 4),
                textcoords="offset points", fontsize=8, rotation=0, color="#555555")
    for phase in ("prefill", "decode"):
        pts = [p for p in chart.points if p.phase == phase and p.intensity > 0 and p.flops_per_s > 0]
        if pts:
            ax.scatter([p.intensity for p in pts], [p.flops_per_s for p in pts], s=22, color=PHASE_COLORS[phase],
                       label=f"{phase} operators", zorder=3, edgecolors="white", linewidths=0.5)
    _log(ax, "x")
    _log(ax, "y")
    ax.set_xlim(lo, hi)
    ys = [p.flops_per_s for p in chart.points if p.flops_per_s > 0] + [peak_max]
    ax.set_ylim(min(min(ys) / 5, lo * chart.bandwidth), peak_max * 3)
    ax.set_xlabel("arithmetic intensity (FLOP/byte)")
    ax.set_ylabel("achieved FLOP/s per chip")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(chart.title, loc="left")


@draw.register(CdfChart)
def _cdf(chart: CdfChart, fig: Figure) -> None:
    ax = fig.add_subplot()
    xs = [x for s in chart.series for x in s.x if x > 0] or [1.0]
    scale, unit = (1e3, "ms") if max(xs) < 1 else (1.0, "s")
    for i, s in enumerate(chart.series):
        ax.plot([x * scale for x in s.x], s.y, marker="o", markersize=3, linewidth=1.3, color=COLORS[i % len(COLORS)], label=s.label)
    if chart.slo is not None and chart.slo <= 2 * max(xs):
        ax.axvline(chart.slo * scale, color="#555555", linestyle="--", linewidth=1)
        ax.annotate("SLO", (chart.slo * scale, 0.02), xytext=(3, 0), textcoords="offset points", fontsize=8, color="#555555")
    elif chart.slo is not None:
        ax.annotate(f"SLO {chart.slo * scale:g} {unit}: off the chart, right", (1, 0.02), xycoords="axes fraction", ha="right",
                    fontsize=8, color="#555555")
    if max(xs) / min(xs) > 30:
        _log(ax, "x")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(chart.xlabel.replace("(s)", f"({unit})"))
    ax.set_ylabel("fraction of requests ≤ x")
    ax.legend(loc="center right", fontsize=8)
    ax.set_title(chart.title, loc="left")


@draw.register(LoadChart)
def _load(chart: LoadChart, fig: Figure) -> None:
    ax: Axes = fig.add_subplot()
    for i, s in enumerate(chart.series):
        ax.plot(s.x, s.y, marker="o", markersize=4, linewidth=1.4, color=COLORS[i % len(COLORS)], label=s.label,
                linestyle="-" if i % 2 == 0 else "--")
    xs = [x for s in chart.series for x in s.x if x > 0]
    if xs and max(xs) / min(xs) >= 16:
        _log(ax, "x", 2)
    ax.set_xlabel(chart.xlabel)
    ax.set_ylabel(chart.ylabel)
    ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize=8)
    ax.set_title(chart.title, loc="left")


@draw.register(AccuracyChart)
def _accuracy(chart: AccuracyChart, fig: Figure) -> None:
    ax: Axes = fig.add_subplot()
    groups = list(dict.fromkeys(p.group for p in chart.points))
    ratios = [p.ratio for p in chart.points if p.ratio > 0] or [1.0]
    lo, hi = min(min(ratios), 0.5) / 1.25, max(max(ratios), 2.0) * 1.25
    ax.axvspan(1 / 1.1, 1.1, color="#2a9d8f", alpha=0.12, linewidth=0)
    ax.axvline(1.0, color="#333333", linewidth=1)
    for edge in (0.5, 2.0):
        ax.axvline(edge, color="#999999", linestyle="--", linewidth=1)
    for phase, color in (("throughput", COLORS[0]), ("prefill", COLORS[3]), ("decode", COLORS[1]), ("server", COLORS[2])):
        pts = [p for p in chart.points if p.phase == phase and p.ratio > 0]
        if pts:  # rows of one strip spread a little in y so equal ratios stay visible
            ys = [groups.index(p.group) + ((i % 5) - 2) * 0.06 for i, p in enumerate(pts)]
            ax.scatter([p.ratio for p in pts], ys, s=26, color=color, label=phase, zorder=3, edgecolors="white", linewidths=0.5)
    _log(ax, "x", 2)
    ax.set_xlim(lo, hi)
    ax.set_yticks(range(len(groups)), groups)
    ax.set_ylim(len(groups) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("predicted / published (band: within 10 %; dashed: 2x)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.set_title(chart.title, loc="left")


def plain(v: float) -> str:
    """A tick label without mathtext: 0.01, 0.5, 3, 40, 2k, 1.5M, 3T."""
    if v == 0 or not math.isfinite(v):
        return "0"
    for factor, suffix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= factor:
            return f"{v / factor:g}{suffix}"
    return f"{v:g}"


def _log(ax: Axes, axis: str, base: float = 10) -> None:
    """A log axis with plain tick labels (mathtext is off, so the default '10^x' labels cannot be used)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    getattr(ax, f"set_{axis}scale")("log", base=base)
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(FuncFormatter(lambda v, _pos: plain(v)))
    target.set_minor_formatter(NullFormatter())

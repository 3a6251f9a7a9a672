"""Numbers in words for the readings and tables: money, durations, ranges, counts."""

from __future__ import annotations

import math
from collections.abc import Sequence

from tcobench import units


def money(v: float | None) -> str:
    """USD with three significant figures under $100, whole dollars above: '$0.033', '$1,234'."""
    if v is None or not math.isfinite(v):
        return "–"
    return f"${v:,.0f}" if abs(v) >= 100 else f"${v:.3g}"


def span(likely: float | None, low: float | None, high: float | None) -> str:
    """'$0.033 ($0.020–$0.042)', or just the likely value when there is no range."""
    if likely is None:
        return "–"
    if low is None or high is None or (math.isclose(low, likely) and math.isclose(high, likely)):
        return money(likely)
    return f"{money(likely)} ({money(low)}–{money(high)})"


def seconds(v: float | None) -> str:
    return "–" if v is None or not math.isfinite(v) else units.human(v, "s")


def rate(v: float | None, unit: str = "") -> str:
    """A throughput with thousands separators: '14,725', '29.7'."""
    if v is None or not math.isfinite(v):
        return "–"
    text = f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
    return f"{text} {unit}".strip()


def times(ratio: float) -> str:
    """A ratio as 'N×': '3.2×', '15×'."""
    return f"{ratio:.2g}×" if ratio < 10 else f"{ratio:,.0f}×"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def listing(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def percent(v: float | None) -> str:
    return "–" if v is None or not math.isfinite(v) else f"{v:.0%}"

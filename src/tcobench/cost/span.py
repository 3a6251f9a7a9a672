"""A low / likely / high triple of NumPy arrays: how tcobench carries an uncertain number.

Ranges are propagated by interval arithmetic on monotone formulas: every cost formula in this
package is monotone in each input (it rises with price, power, PUE, ... and falls with lifetime and
throughput), so evaluating it once with every input at its cost-minimising end gives the exact low,
and once at the cost-maximising end the exact high. No sampling, no hidden distribution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tcobench.records import Figure

Array = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Span:
    """(low, likely, high), each a float array of one shape; low <= likely <= high."""

    low: Array
    likely: Array
    high: Array

    @classmethod
    def of(cls, low: ArrayLike, likely: ArrayLike | None = None, high: ArrayLike | None = None) -> Span:
        """A span from values; a missing end is the likely value (a point with no stated range)."""
        mid = np.asarray(low if likely is None else likely, dtype=np.float64)
        lo = np.asarray(low, dtype=np.float64)
        hi = np.asarray(mid if high is None else high, dtype=np.float64)
        lo, mid, hi = np.broadcast_arrays(lo, mid, hi)
        return cls(lo, mid, hi)

    @classmethod
    def point(cls, value: ArrayLike) -> Span:
        v = np.asarray(value, dtype=np.float64)
        return cls(v, v, v)

    @classmethod
    def from_figure(cls, fig: Figure) -> Span:
        lo, mid, hi = fig.range
        return cls.of(lo, mid, hi)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.likely.shape

    def map(self, fn: Any, *, decreasing: bool = False) -> Span:
        """Apply a monotone function; a decreasing one swaps the ends."""
        lo, mid, hi = fn(self.low), fn(self.likely), fn(self.high)
        return Span(hi, mid, lo) if decreasing else Span(lo, mid, hi)

    def scale(self, factor: ArrayLike) -> Span:
        """Multiply by a non-negative, certain factor (chips, 3600, 1e6, ...)."""
        f = np.asarray(factor, dtype=np.float64)
        return Span(self.low * f, self.likely * f, self.high * f)

    def per(self, divisor: ArrayLike) -> Span:
        """Divide by a positive, certain quantity (tokens/s): the ends stay in order."""
        d = np.asarray(divisor, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            return Span(self.low / d, self.likely / d, self.high / d)

    def take(self, index: Any) -> Span:
        return Span(self.low[index], self.likely[index], self.high[index])

    def as_tuple(self) -> tuple[float, float, float]:
        """The three ends as plain floats (for a scalar span)."""
        return float(self.low), float(self.likely), float(self.high)

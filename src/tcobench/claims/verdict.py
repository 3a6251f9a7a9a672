"""Verdicts: how a claimed value stands against the value derived for it.

``judge`` compares within the claim's relative tolerance. A derivation may give a bound instead of
an estimate (an upper bound on throughput from peak compute, a lower bound on chips from memory),
and alternatives: the value under a reading the claim may have used by mistake (bits read as bytes,
a sparse peak for a dense one). A claim that misses the derived value but matches an alternative
gets that alternative's verdict (``unit-mismatch``, ``precision-mismatch``) instead of a bare
``overstated``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Bound = Literal["upper", "lower"] | None
_ROUNDING = 1e-9  # so that 1.1 vs 1.0 at 10% agrees despite binary floating point


class Verdict(StrEnum):
    CONSISTENT = "consistent"
    OVERSTATED = "overstated"
    UNDERSTATED = "understated"
    UNIT_MISMATCH = "unit-mismatch"
    PRECISION_MISMATCH = "precision-mismatch"
    UNVERIFIABLE = "unverifiable"


@dataclass(frozen=True, slots=True)
class Alternative:
    """The derived value under another reading of the claim (SI units, like the derived value)."""

    label: str  # "400 Gbit/s read as bytes", "at fp8 dense"
    value: float
    verdict: Verdict


def matches(claimed: float, target: float, tolerance: float, bound: Bound = None) -> bool:
    """Whether ``claimed`` agrees with ``target`` within ``tolerance`` (relative), given the bound kind.

    ``upper``: target is the most that is possible, so any claim up to it (plus tolerance) agrees.
    ``lower``: target is the least that is needed, so any claim from it (minus tolerance) agrees.
    """
    if target == 0:
        return claimed == 0
    slack = tolerance + _ROUNDING
    if bound == "upper":
        return claimed <= target * (1 + slack)
    if bound == "lower":
        return claimed >= target * (1 - slack)
    return abs(claimed / target - 1) <= slack


def judge(claimed: float, derived: float, tolerance: float, bound: Bound = None,
          alternatives: tuple[Alternative, ...] = (), against: str = "derived") -> tuple[Verdict, str]:
    """The verdict and a one-line reason. Values are in the same unit. ``against``: what the derived value is
    ("derived", or "measured" where it is a saved measurement), as the reason names it."""
    if matches(claimed, derived, tolerance, bound):
        slack = f" (tolerance {tolerance:.0%})" if tolerance else ""
        what = {None: f"within {tolerance:.0%} of the {against} value", "upper": f"at or below the {against} upper bound{slack}",
                "lower": f"at or above the {against} lower bound{slack}"}[bound]
        return Verdict.CONSISTENT, what
    hits = [a for a in alternatives if matches(claimed, a.value, tolerance, bound)]
    if hits:
        labels = "; ".join(a.label for a in hits)
        return hits[0].verdict, f"matches only another reading: {labels}"
    if derived == 0:
        return (Verdict.OVERSTATED if claimed > 0 else Verdict.UNDERSTATED), f"{against} value is 0"
    ratio = claimed / derived
    if ratio > 1:
        return Verdict.OVERSTATED, f"claimed is {ratio:.3g}x the {against} value" + (" (above the upper bound)" if bound == "upper" else "")
    return Verdict.UNDERSTATED, f"claimed is {ratio:.3g}x the {against} value" + (" (below the lower bound)" if bound == "lower" else "")

"""What the measured tokens cost, and the seam where catalog pricing and predictions plug in.

Two ways to price a level (DESIGN.md, "$/1M tokens"):

- self-hosted, ``usd_per_hour`` of the serving hardware:
  $/1M output tokens = ($/h) / (output tokens/s x 3600 / 1e6), at the measured steady-state rate.
  (Input tokens are processed by the same hardware in the same hour; they are not priced apart.)
- per-token API prices, ``usd_per_1m_input`` and ``usd_per_1m_output``:
  $/1M output tokens = the output price; blended 3:1 = (3 x input + 1 x output) / 4.

``Annotator`` is the seam: a function from one measured level to extra fields for its row. Today it
prices; later ``--hardware H --chips N --basis rent|own`` (an annotator built from the catalog and the
cost model) adds a $/hour and a prediction for the same model, hardware and load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tcobench.errors import InputError
from tcobench.loadgen.metrics import LevelMetrics


@dataclass(frozen=True, slots=True)
class Pricing:
    """Prices in US dollars: per hour of the serving unit, or per 1M input/output tokens."""

    usd_per_hour: float | None = None
    usd_per_1m_input: float | None = None
    usd_per_1m_output: float | None = None

    def __post_init__(self) -> None:
        for name in ("usd_per_hour", "usd_per_1m_input", "usd_per_1m_output"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InputError(f"{name.replace('usd_', '$').replace('_', ' ')} must be >= 0, got {value}")
        if self.usd_per_hour is not None and (self.usd_per_1m_input is not None or self.usd_per_1m_output is not None):
            raise InputError("give --price-hour (self-hosted) or --price-in/--price-out (API), not both")

    @property
    def basis(self) -> str | None:
        if self.usd_per_hour is not None:
            return "hour"
        if self.usd_per_1m_input is not None or self.usd_per_1m_output is not None:
            return "tokens"
        return None


@dataclass(frozen=True, slots=True)
class LevelPrice:
    """$/1M tokens for one level; None where the inputs do not determine it."""

    usd_per_1m_output_tokens: float | None
    usd_per_1m_blended_3to1: float | None
    usd_per_hour: float | None
    basis: str | None  # "hour", "tokens" or None (no price given)

    def as_dict(self) -> dict[str, Any]:
        return {"usd_per_1m_output_tokens": self.usd_per_1m_output_tokens,
                "usd_per_1m_blended_3to1": self.usd_per_1m_blended_3to1,
                "usd_per_hour": self.usd_per_hour, "price_basis": self.basis}


def price_level(level: LevelMetrics, pricing: Pricing) -> LevelPrice:
    if pricing.usd_per_hour is not None:
        tps = level.output_tokens_per_s
        per_1m = pricing.usd_per_hour / (tps * 3600 / 1e6) if tps else None
        return LevelPrice(per_1m, None, pricing.usd_per_hour, "hour")
    if pricing.basis == "tokens":
        pin, pout = pricing.usd_per_1m_input, pricing.usd_per_1m_output
        blended = (3 * pin + pout) / 4 if pin is not None and pout is not None else None
        return LevelPrice(pout, blended, None, "tokens")
    return LevelPrice(None, None, None, None)


Annotator = Callable[[LevelMetrics], dict[str, Any]]
"""Extra fields for a level's row: prices today; catalog $/hour and a prediction later."""


def pricing_annotator(pricing: Pricing) -> Annotator:
    def annotate(level: LevelMetrics) -> dict[str, Any]:
        return price_level(level, pricing).as_dict()

    return annotate

"""Renting hardware: the catalog's cloud rates per chip-hour (provider and date kept), or a flag."""

from __future__ import annotations

from dataclasses import dataclass

from tcobench.catalog import Hardware
from tcobench.cost.span import Span
from tcobench.errors import InputError, MissingInputError


@dataclass(frozen=True, slots=True)
class RentRate:
    """USD per chip-second as a span, and which offer the likely value is."""

    usd_per_s: Span
    provider: str  # of the likely value
    date: str | None
    sources: tuple[str, ...]
    offers: int  # how many catalog rates the range spans


def rent_rate(hw: Hardware, *, price_hour: float | None = None) -> RentRate:
    """The rent for one chip: low = cheapest offer, high = dearest, likely = the most recent offer.

    ``price_hour`` (USD per chip-hour) replaces the catalog. Raises MissingInputError when neither exists.
    """
    if price_hour is not None:
        if price_hour < 0:
            raise InputError(f"{{price_hour}} {price_hour!r} is negative; expected USD per chip-hour >= 0", params=("price_hour",))
        return RentRate(Span.point(price_hour / 3600.0), "--price-hour", None, (), 1)
    if not hw.cloud:
        raise MissingInputError(f"no cloud rate for {hw.id!r} in the catalog; pass {{price_hour}} USD (per chip-hour) "
                                "or use {basis} own", params=("price_hour", "basis"))
    latest = max(hw.cloud, key=lambda c: (c.date, -c.rate.value))
    lows = [c.rate.range[0] for c in hw.cloud]
    highs = [c.rate.range[2] for c in hw.cloud]
    span = Span.of(min(lows), latest.rate.value, max(highs))
    return RentRate(span, latest.provider, latest.date, tuple(dict.fromkeys(c.source for c in hw.cloud)), len(hw.cloud))

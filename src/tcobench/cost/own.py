"""Owning hardware: purchase price amortised with interest, plus power, hosting and maintenance.

    usd_per_s = price x (CRF(r, n) + m) / year                capital recovery and maintenance
              + watts x utilisation x PUE x electricity       energy at the meter
              + watts x hosting                               colocation rent on provisioned power

CRF(r, n) = r / (1 - (1 + r)^-n) is the capital recovery factor (the level annual payment that repays
1 dollar over n years at rate r; 1/n when r = 0), the standard annuity formula used in TCO analyses.
The price is the system price divided by its chips where the catalog has one (host, network and
storage share included), else the chip's own price; watts likewise (system power / chips, else TDP).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from tcobench import units
from tcobench.catalog import Catalog, Hardware, System
from tcobench.cost.basis import OwnParameters
from tcobench.cost.span import Array, Span
from tcobench.errors import MissingInputError

YEAR_S = units.parse("1 year", "s")


def capital_recovery_factor(rate: ArrayLike, years: ArrayLike) -> Array:
    """Annual payment per dollar borrowed at ``rate`` (per year) over ``years`` years."""
    r = np.asarray(rate, dtype=np.float64)
    n = np.asarray(years, dtype=np.float64)
    x = n * np.log1p(r)
    with np.errstate(divide="ignore", invalid="ignore"):
        annuity = r / -np.expm1(-x)
    # for a vanishing rate the quotient is 0/0 in floating point; use its series 1/n + r (n + 1) / (2 n)
    return np.where(x > 1e-9, annuity, 1.0 / n + r * (n + 1.0) / (2.0 * n))


def own_usd_per_s(price_usd: ArrayLike, watts: ArrayLike, *, amortisation_s: ArrayLike, cost_of_capital: ArrayLike,
                  utilisation: ArrayLike, pue: ArrayLike, electricity_usd_per_j: ArrayLike,
                  hosting_usd_per_w_s: ArrayLike, maintenance: ArrayLike) -> Array:
    """Cost of owning one unit (chip or system share) in USD per second; every argument broadcasts.

    ``price_usd`` USD; ``watts`` rated power, W; ``amortisation_s`` s; ``cost_of_capital`` and
    ``maintenance`` per year; ``utilisation`` and ``pue`` dimensionless; ``electricity_usd_per_j``
    USD/J; ``hosting_usd_per_w_s`` USD per W of provisioned power per second.
    """
    price = np.asarray(price_usd, dtype=np.float64)
    w = np.asarray(watts, dtype=np.float64)
    years = np.asarray(amortisation_s, dtype=np.float64) / YEAR_S
    capital = price * (capital_recovery_factor(cost_of_capital, years) + np.asarray(maintenance)) / YEAR_S
    energy = w * np.asarray(utilisation) * np.asarray(pue) * np.asarray(electricity_usd_per_j)
    hosting = w * np.asarray(hosting_usd_per_w_s)
    return capital + energy + hosting  # type: ignore[no-any-return]


def own_span(price: Span, watts: Span, p: OwnParameters) -> Span:
    """``own_usd_per_s`` at the cheap end, the likely point and the dear end of every input.

    Cost rises with price, watts, cost of capital, utilisation, PUE, prices and maintenance and falls
    with the amortisation period, so the low end takes the long life and the high end the short one.
    """
    def at(end: str, life: str) -> Array:
        return own_usd_per_s(getattr(price, end), getattr(watts, end), amortisation_s=getattr(p.amortisation_s, life),
                             cost_of_capital=getattr(p.cost_of_capital, end), utilisation=getattr(p.utilisation, end),
                             pue=getattr(p.pue, end), electricity_usd_per_j=getattr(p.electricity_usd_per_j, end),
                             hosting_usd_per_w_s=getattr(p.hosting_usd_per_w_s, end),
                             maintenance=getattr(p.maintenance, end))
    return Span(at("low", "high"), at("likely", "likely"), at("high", "low"))


class MissingPower(MissingInputError):
    """The own basis needs a power figure (electricity, hosting) the catalog lacks."""


@dataclass(frozen=True, slots=True)
class Capex:
    """What one chip costs to buy and how much power it is provisioned for, and where that comes from."""

    price_usd: Span  # per chip
    watts: Span  # rated power per chip (system power / chips where known)
    basis: str  # "system dgx-h100 ($269,000 / 8 chips, 2023-05)" or "chip price ($15,000, 2024)"
    sources: tuple[str, ...]


def chip_capex(hw: Hardware, catalog: Catalog, *, price_chip: float | None = None) -> Capex:
    """Purchase price and rated power per chip: a priced system's share first, else the chip price.

    Raises MissingInputError naming what is unknown and how to supply it.
    """
    system = _priced_system(hw, catalog)
    if price_chip is not None:
        price, basis, sources = Span.point(price_chip), f"--price-chip ${price_chip:,.0f}", tuple[str, ...]()
    elif system is not None and system.price is not None:
        n = system.chips.value
        price = Span.from_figure(system.price).scale(1.0 / n)
        basis = f"system {system.id} ({units.human(system.price.value, 'USD')} / {n:g} chips, {system.price.date})"
        sources = (system.price.source,)
    elif hw.price.purchase is not None:
        fig = hw.price.purchase
        price, basis, sources = Span.from_figure(fig), f"chip price ({units.human(fig.value, 'USD')}, {fig.date})", (fig.source,)
    else:
        raise MissingInputError(f"no purchase price for {hw.id!r} in the catalog (hardware price.purchase or a system "
                                "with a price); pass {price_chip} USD or use {basis} rent", params=("price_chip", "basis"))
    if system is not None and system.power is not None and price_chip is None:
        watts = Span.from_figure(system.power).scale(1.0 / system.chips.value)
        sources = (*sources, system.power.source)
    elif hw.power.tdp is not None:
        watts = Span.from_figure(hw.power.tdp)
        sources = (*sources, hw.power.tdp.source)
    else:
        raise MissingPower(f"no power figure for {hw.id!r} in the catalog (power.tdp or a system power); "
                                "the own basis needs it for electricity and hosting")
    return Capex(price, watts, basis, sources)


def _priced_system(hw: Hardware, catalog: Catalog) -> System | None:
    """The most recently priced system built from this chip, if any."""
    priced = [s for s in catalog.systems.values() if s.accelerator == hw.id and s.price is not None]
    priced.sort(key=lambda s: (s.price.date or "") if s.price else "", reverse=True)
    return priced[0] if priced else None

"""A chip's cost per second under a basis: owned (cost basis + catalog price) and/or rented (cloud rates)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tcobench.catalog import Catalog, Hardware
from tcobench.cost import OwnParameters, Span, chip_capex, own_span, rent_rate
from tcobench.errors import MissingInputError

Basis = Literal["own", "rent", "both"]


@dataclass(frozen=True)
class Pricing:
    """USD per chip-second for each basis asked for; None with a reason where the catalog has no price."""

    own: Span | None
    rent: Span | None
    own_note: str  # what the own price rests on, or why there is none
    rent_note: str
    watts: Span | None  # rated power per chip (system share where known), for energy figures

    @property
    def any(self) -> bool:
        return self.own is not None or self.rent is not None


def price_hardware(hw: Hardware, catalog: Catalog, params: OwnParameters, basis: Basis, *,
                   price_hour: float | None = None, price_chip: float | None = None) -> Pricing:
    own = rent = None
    own_note = rent_note = ""
    watts = Span.from_figure(hw.power.tdp) if hw.power.tdp is not None else None
    if basis in ("own", "both"):
        try:
            capex = chip_capex(hw, catalog, price_chip=price_chip)
            own, own_note, watts = own_span(capex.price_usd, capex.watts, params), capex.basis, capex.watts
        except MissingInputError as err:  # short for tables; the library error has the full remedy
            own_note = ("no power figure in the catalog" if "no power" in str(err)
                        else "no purchase price in the catalog (pass --price-chip)")
    if basis in ("rent", "both"):
        try:
            r = rent_rate(hw, price_hour=price_hour)
            rent = r.usd_per_s
            rent_note = r.provider + (f", {r.date}" if r.date else "") + (f" (range over {r.offers} offers)" if r.offers > 1 else "")
        except MissingInputError:
            rent_note = "no cloud rate in the catalog (pass --price-hour)"
    return Pricing(own, rent, own_note, rent_note, watts)

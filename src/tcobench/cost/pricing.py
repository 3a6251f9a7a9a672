"""The one pricing path: what a chip costs per second under a basis, and what a token rate costs per 1M tokens.

    price_hardware(hw, catalog, params, basis) -> ChipPrice   USD per chip-second, owned and/or rented, with
                                                               a typed reason (``Gap``) where the catalog has none
    Prices / price_tokens(output_tokens_per_s, prices)        a measured rate priced by $/hour or by per-token
                                                               API prices ($/1M output, blended 3:1)

Every $/1M-tokens figure comes from ``tokens.token_costs`` (docs/metrics.md, "$/1M tokens"): a throughput of
zero or one that is not known prices at infinity there, and at None in a single figure, where "no price"
is what a document should say rather than a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from tcobench.catalog import Catalog, Hardware
from tcobench.cost.basis import OwnParameters
from tcobench.cost.own import MissingPower, chip_capex, own_span
from tcobench.cost.rent import rent_rate
from tcobench.cost.span import Span
from tcobench.cost.tokens import BLEND_INPUT, BLEND_OUTPUT, token_costs
from tcobench.errors import InputError, MissingInputError

Basis = Literal["own", "rent", "both"]


class Gap(Enum):
    """Why a basis has no price; its value is the note a table shows."""

    NO_PURCHASE_PRICE = "no purchase price in the catalog (pass --price-chip)"
    NO_POWER = "no power figure in the catalog"
    NO_RENT = "no cloud rate in the catalog (pass --price-hour)"


@dataclass(frozen=True)
class ChipPrice:
    """USD per chip-second for each basis asked for; None with a ``Gap`` where the catalog has no price."""

    own: Span | None
    rent: Span | None
    own_note: str  # what the own price rests on, or why there is none
    rent_note: str
    watts: Span | None  # rated power per chip (system share where known), for energy figures
    own_gap: Gap | None = None
    rent_gap: Gap | None = None

    @property
    def any(self) -> bool:
        return self.own is not None or self.rent is not None

    def span(self, basis: Literal["own", "rent"]) -> tuple[Span | None, str]:
        """The price of one basis and what it rests on (or why there is none)."""
        return (self.own, self.own_note) if basis == "own" else (self.rent, self.rent_note)


def price_hardware(hw: Hardware, catalog: Catalog, params: OwnParameters, basis: Basis, *,
                   price_hour: float | None = None, price_chip: float | None = None) -> ChipPrice:
    """The price of one chip of ``hw`` under ``basis``. ``price_hour`` (USD per chip-hour) replaces the catalog's
    rent, ``price_chip`` (USD) its purchase price."""
    own = rent = None
    own_note = rent_note = ""
    own_gap = rent_gap = None
    watts = Span.from_figure(hw.power.tdp) if hw.power.tdp is not None else None
    if basis in ("own", "both"):
        try:
            capex = chip_capex(hw, catalog, price_chip=price_chip)
            own, own_note, watts = own_span(capex.price_usd, capex.watts, params), capex.basis, capex.watts
        except MissingPower:
            own_gap = Gap.NO_POWER
        except MissingInputError:  # short for tables; the library error has the full remedy
            own_gap = Gap.NO_PURCHASE_PRICE
        own_note = own_gap.value if own_gap else own_note
    if basis in ("rent", "both"):
        try:
            r = rent_rate(hw, price_hour=price_hour)
            rent = r.usd_per_s
            rent_note = r.provider + (f", {r.date}" if r.date else "") + (f" (range over {r.offers} offers)" if r.offers > 1 else "")
        except MissingInputError:
            rent_gap = Gap.NO_RENT
            rent_note = rent_gap.value
    return ChipPrice(own, rent, own_note, rent_note, watts, own_gap, rent_gap)


def usd_per_1m_tokens(usd_per_hour: float, tokens_per_s: float | None) -> float | None:
    """($/hour) / (tokens/s x 3600 / 1e6), through ``token_costs``; None when no tokens are produced."""
    if tokens_per_s is None:
        return None
    per_1m = float(token_costs(Span.point(usd_per_hour / 3600.0), 1, tokens_per_s, tokens_per_s).usd_per_1m_output_tokens.likely)
    return per_1m if math.isfinite(per_1m) else None


# the parameters that give each price, in ``tcobench.bench`` and on the command line
_PARAMS = {"usd_per_hour": "price_hour", "usd_per_1m_input": "price_in", "usd_per_1m_output": "price_out"}


@dataclass(frozen=True, slots=True)
class Prices:
    """Prices a user gives, in US dollars: per hour of the serving unit, or per 1M input/output tokens."""

    usd_per_hour: float | None = None
    usd_per_1m_input: float | None = None
    usd_per_1m_output: float | None = None

    def __post_init__(self) -> None:
        for name in ("usd_per_hour", "usd_per_1m_input", "usd_per_1m_output"):
            value = getattr(self, name)
            if value is not None and value < 0:
                param = _PARAMS[name]
                raise InputError(f"{{{param}}} must be >= 0, got {value}", params=(param,))
        if self.usd_per_hour is not None and (self.usd_per_1m_input is not None or self.usd_per_1m_output is not None):
            raise InputError("give {price_hour} (self-hosted) or {price_in}/{price_out} (API), not both",
                             params=("price_hour", "price_in", "price_out"))

    @property
    def basis(self) -> str | None:
        if self.usd_per_hour is not None:
            return "hour"
        if self.usd_per_1m_input is not None or self.usd_per_1m_output is not None:
            return "tokens"
        return None

    def as_dict(self) -> dict[str, Any]:
        return {"usd_per_hour": self.usd_per_hour, "usd_per_1m_input": self.usd_per_1m_input,
                "usd_per_1m_output": self.usd_per_1m_output}


@dataclass(frozen=True, slots=True)
class TokenPrice:
    """$/1M tokens for a measured rate; None where the inputs do not determine it."""

    usd_per_1m_output_tokens: float | None
    usd_per_1m_blended_3to1: float | None
    usd_per_hour: float | None
    basis: str | None  # "hour", "tokens" or None (no price given)

    def as_dict(self) -> dict[str, Any]:
        return {"usd_per_1m_output_tokens": self.usd_per_1m_output_tokens,
                "usd_per_1m_blended_3to1": self.usd_per_1m_blended_3to1,
                "usd_per_hour": self.usd_per_hour, "price_basis": self.basis}


def price_tokens(output_tokens_per_s: float | None, prices: Prices) -> TokenPrice:
    """Self-hosted: $/1M output tokens = ($/h) / (output tokens/s x 3600 / 1e6) at the measured rate (input
    tokens are processed by the same hardware in the same hour; they are not priced apart). Per-token API
    prices: the output price, and the blend (3 x input + 1 x output) / 4."""
    if prices.usd_per_hour is not None:
        return TokenPrice(usd_per_1m_tokens(prices.usd_per_hour, output_tokens_per_s), None, prices.usd_per_hour, "hour")
    if prices.basis == "tokens":
        pin, pout = prices.usd_per_1m_input, prices.usd_per_1m_output
        blended = (BLEND_INPUT * pin + BLEND_OUTPUT * pout) / (BLEND_INPUT + BLEND_OUTPUT) \
            if pin is not None and pout is not None else None
        return TokenPrice(pout, blended, None, "tokens")
    return TokenPrice(None, None, None, None)

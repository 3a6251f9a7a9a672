"""The owner's cost basis as spans: lifetime, cost of capital, power draw, PUE, prices, upkeep.

Defaults come from a ``[cost.<id>]`` catalog table (``catalog/data/cost/default.toml``: every value
sourced); a user overrides any field by flag, which pins it (low = likely = high), or brings a whole
basis in their own catalog file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from tcobench.catalog.schema import CostBasis
from tcobench.cost.span import Span
from tcobench.errors import InputError, close_matches

DEFAULT_BASIS = "default"  # the id of the shipped [cost.<id>] table


@dataclass(frozen=True, slots=True)
class OwnParameters:
    """Every owner-side input in SI units, each a Span."""

    amortisation_s: Span  # economic life of the hardware, seconds
    cost_of_capital: Span  # per year, fraction of purchase price (annuity rate)
    utilisation: Span  # average power draw / rated power
    pue: Span  # facility power / IT power
    electricity_usd_per_j: Span
    hosting_usd_per_w_s: Span  # colocation rent per watt of provisioned (rated) IT power, per second
    maintenance: Span  # per year, fraction of purchase price

    @classmethod
    def from_basis(cls, basis: CostBasis) -> OwnParameters:
        return cls(
            amortisation_s=Span.from_figure(basis.amortisation),
            cost_of_capital=Span.from_figure(basis.cost_of_capital),
            utilisation=Span.from_figure(basis.utilisation),
            pue=Span.from_figure(basis.pue),
            electricity_usd_per_j=Span.from_figure(basis.electricity),
            hosting_usd_per_w_s=Span.from_figure(basis.hosting),
            maintenance=Span.from_figure(basis.maintenance),
        )

    def pinned(self, overrides: Mapping[str, float | None], *, where: str = "cost basis override") -> OwnParameters:
        """A copy with the given fields fixed to one value (SI units); ``None`` values are ignored."""
        names = [f.name for f in fields(self)]
        changes: dict[str, Span] = {}
        for name, value in overrides.items():
            if value is None:
                continue
            if name not in names:
                hint = close_matches(name, names)
                raise InputError(f"unknown cost-basis field {name!r} in {where}"
                                 + (f"; did you mean {hint[0]!r}?" if hint else f"; expected one of {', '.join(names)}"))
            if value < 0 or (name == "pue" and value < 1) or (name == "utilisation" and value > 1) \
                    or (name == "amortisation_s" and value <= 0):
                expected = {"pue": ">= 1", "utilisation": "between 0 and 1", "amortisation_s": "> 0"}.get(name, ">= 0")
                raise InputError(f"{where}: {name} = {value!r} is out of range; expected {expected}")
            changes[name] = Span.point(value)
        return replace(self, **changes)

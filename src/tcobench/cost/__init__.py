"""The cost model: what a deployment costs per hour and per token, owned or rented, with ranges.

    chip_capex(hw, catalog) -> Capex            price and rated power per chip, and their basis
    own_span(price, watts, params) -> Span       USD/s per chip for owned hardware
    rent_rate(hw, price_hour=None) -> RentRate   USD/s per chip from cloud rates
    token_costs(...) / token_energy(...)         $/hour, $/1M tokens, tokens/kWh, J/token, perf/$ and perf/W

Every number is a ``Span`` (low, likely, high); see ``span.py`` for how ranges propagate.
"""

from tcobench.cost.basis import DEFAULT_BASIS, OwnParameters
from tcobench.cost.own import YEAR_S, Capex, capital_recovery_factor, chip_capex, own_span, own_usd_per_s
from tcobench.cost.rent import RentRate, rent_rate
from tcobench.cost.span import Span
from tcobench.cost.tokens import TokenCosts, TokenEnergy, token_costs, token_energy

__all__ = [
    "DEFAULT_BASIS", "YEAR_S", "Capex", "OwnParameters", "RentRate", "Span", "TokenCosts", "TokenEnergy",
    "capital_recovery_factor", "chip_capex", "own_span", "own_usd_per_s", "rent_rate", "token_costs", "token_energy",
]

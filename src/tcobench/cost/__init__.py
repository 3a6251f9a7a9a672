"""The cost model: what a deployment costs per hour and per token, owned or rented, with ranges.

    chip_capex(hw, catalog) -> Capex            price and rated power per chip, and their basis
    own_span(price, watts, params) -> Span       USD/s per chip for owned hardware
    rent_rate(hw, price_hour=None) -> RentRate   USD/s per chip from cloud rates
    token_costs(...) / token_energy(...)         $/hour, $/1M tokens, tokens/kWh, J/token, perf/$ and perf/W
    price_hardware(hw, catalog, params, basis)   the one pricing path: USD/chip-s own and/or rent, or a Gap
    price_tokens(tokens_per_s, Prices(...))      a measured rate priced by $/hour or by per-token API prices

Every number is a ``Span`` (low, likely, high); see ``span.py`` for how ranges propagate.
"""

from tcobench.cost.basis import DEFAULT_BASIS, OwnParameters
from tcobench.cost.own import YEAR_S, Capex, MissingPower, capital_recovery_factor, chip_capex, own_span, own_usd_per_s
from tcobench.cost.pricing import Basis, ChipPrice, Gap, Prices, TokenPrice, price_hardware, price_tokens, usd_per_1m_tokens
from tcobench.cost.rent import RentRate, rent_rate
from tcobench.cost.span import Span
from tcobench.cost.tokens import TokenCosts, TokenEnergy, token_costs, token_energy

__all__ = [
    "DEFAULT_BASIS", "YEAR_S", "Basis", "Capex", "ChipPrice", "Gap", "MissingPower", "OwnParameters", "Prices", "RentRate",
    "Span", "TokenCosts", "TokenEnergy", "TokenPrice", "capital_recovery_factor", "chip_capex", "own_span",
    "own_usd_per_s", "price_hardware", "price_tokens", "rent_rate", "token_costs", "token_energy", "usd_per_1m_tokens",
]

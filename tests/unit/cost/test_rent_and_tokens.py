"""Renting, and the per-token figures: a hand-worked case (211 tok/s at $1/h is $0.0013 per 1k tokens) and the blended price."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tcobench.catalog import load_catalog
from tcobench.cost import Span, rent_rate, token_costs, token_energy
from tcobench.errors import InputError, MissingInputError


def test_211_tokens_per_s_at_1_dollar_per_hour_is_0_0013_per_1k_tokens() -> None:
    # $1/h / (211 tok/s x 3600 s/h) = $1.3165e-6 per token = $0.0013165 per 1k tokens.
    rate = rent_rate(load_catalog().get_hardware("h100-sxm"), price_hour=1.0)
    costs = token_costs(rate.usd_per_s, chips=1, output_tokens_per_s=211, prefill_tokens_per_s=211)
    per_1k = costs.usd_per_1m_output_tokens.as_tuple()[1] / 1000
    assert per_1k == pytest.approx(0.0013, abs=0.00005)
    assert per_1k == pytest.approx(1 / (211 * 3.6), rel=1e-12)
    assert costs.usd_per_hour.as_tuple() == pytest.approx((1.0, 1.0, 1.0))


def test_catalog_rates_give_a_range_and_the_latest_offer() -> None:
    rate = rent_rate(load_catalog().get_hardware("h100-sxm"))
    lo, mid, hi = (v * 3600 for v in rate.usd_per_s.as_tuple())
    assert lo == pytest.approx(4.916) and hi == pytest.approx(12.29)
    assert mid == pytest.approx(4.916)  # the 2024-12 capacity-block offer is newer than the 2023 list price
    assert rate.date == "2024-12" and rate.offers == 2


def test_no_cloud_rate_says_how_to_continue() -> None:
    with pytest.raises(MissingInputError, match="pass price_hour USD") as err:
        rent_rate(load_catalog().get_hardware("gaudi3"))  # a chip with a purchase price but no cloud rate
    assert "pass --price-hour USD (per chip-hour) or use --basis own" in err.value.render({})  # as the CLI says it
    with pytest.raises(InputError, match="negative"):
        rent_rate(load_catalog().get_hardware("gaudi3"), price_hour=-1)


def test_blended_is_three_parts_input_one_part_output() -> None:
    costs = token_costs(Span.point(1 / 3600), chips=1, output_tokens_per_s=100, prefill_tokens_per_s=1000)
    out = 1e6 / (100 * 3600)
    inp = 1e6 / (1000 * 3600)
    assert costs.usd_per_1m_blended_tokens.as_tuple()[1] == pytest.approx((3 * inp + out) / 4)


def test_zero_throughput_costs_infinity_not_zero() -> None:
    costs = token_costs(Span.point(1.0), chips=np.array([1, 1]), output_tokens_per_s=np.array([0.0, 10.0]),
                        prefill_tokens_per_s=np.array([1.0, 1.0]))
    assert np.isinf(costs.usd_per_1m_output_tokens.likely[0])
    assert np.isfinite(costs.usd_per_1m_output_tokens.likely[1])


def test_energy_per_token_hand_worked() -> None:
    # 8 chips x 700 W x 0.5 = 2800 W; 2800 tok/s -> 1 J/token -> 3.6e6 tokens/kWh.
    e = token_energy(Span.point(700), Span.point(0.5), chips=8, output_tokens_per_s=2800)
    assert e.joules_per_token.as_tuple()[1] == pytest.approx(1.0)
    assert e.tokens_per_kwh.as_tuple()[1] == pytest.approx(3.6e6)


def test_energy_range_puts_more_power_at_the_low_end() -> None:
    e = token_energy(Span.of(600, 700, 800), Span.of(0.5, 0.6, 0.7), chips=1, output_tokens_per_s=1000)
    lo, mid, hi = e.tokens_per_kwh.as_tuple()
    assert lo < mid < hi
    assert lo == pytest.approx(1000 / (800 * 0.7) * 3.6e6)


@given(rate=st.floats(0, 100), tps=st.floats(1e-3, 1e6), chips=st.integers(1, 1024), bump=st.floats(1, 10))
def test_costs_non_negative_and_rise_with_rate(rate: float, tps: float, chips: int, bump: float) -> None:
    a = token_costs(Span.point(rate), chips, tps, tps).usd_per_1m_output_tokens.as_tuple()[1]
    b = token_costs(Span.point(rate * bump), chips, tps, tps).usd_per_1m_output_tokens.as_tuple()[1]
    assert 0 <= a <= b

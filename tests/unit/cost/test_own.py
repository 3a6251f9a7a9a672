"""Owning hardware: hand-worked $/hour, the capital recovery factor, and monotonicity."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tcobench import units
from tcobench.catalog import load_catalog
from tcobench.cost import OwnParameters, Span, capital_recovery_factor, chip_capex, own_span, own_usd_per_s
from tcobench.errors import MissingInputError

HOUR = 3600.0
YEAR_H = 365.25 * 24  # 8766 hours


def test_hand_worked_chip_to_dollars_per_hour() -> None:
    # A $30,000 chip over 4 years with no interest: 30000 / (4 x 8766 h) = $0.85558/h.
    # 700 W at full draw in a PUE 1.5 building at $0.10/kWh: 0.7 kW x 1.5 x $0.10 = $0.105/h.
    # Hosting $150 per kW-month on 0.7 kW: 0.7 x 150 / (8766 / 12) = $0.14374/h.
    # Maintenance 5 %/year: 1500 / 8766 = $0.17111/h.
    expected = 30000 / (4 * YEAR_H) + 0.7 * 1.5 * 0.10 + 0.7 * 150 / (YEAR_H / 12) + 1500 / YEAR_H
    assert expected == pytest.approx(0.85558 + 0.105 + 0.14374 + 0.17111, abs=1e-5)  # $1.27543/h
    got = own_usd_per_s(30000, 700, amortisation_s=units.parse("4 year", "s"), cost_of_capital=0.0, utilisation=1.0,
                        pue=1.5, electricity_usd_per_j=units.parse("$0.10/kWh", "USD/J"),
                        hosting_usd_per_w_s=units.parse("$150/kW/month", "USD/W/s"), maintenance=0.05) * HOUR
    assert float(got) == pytest.approx(expected, rel=1e-9)


def test_interest_uses_the_annuity_payment() -> None:
    # CRF(8 %, 4 y) = 0.08 / (1 - 1.08^-4) = 0.301921; $30,000 -> $9,057.62/year -> $1.03326/h.
    assert float(capital_recovery_factor(0.08, 4)) == pytest.approx(0.301921, abs=1e-6)
    got = own_usd_per_s(30000, 0, amortisation_s=units.parse("4 year", "s"), cost_of_capital=0.08, utilisation=1,
                        pue=1, electricity_usd_per_j=0, hosting_usd_per_w_s=0, maintenance=0) * HOUR
    assert float(got) == pytest.approx(30000 * 0.301921 / YEAR_H, rel=1e-5)


def test_zero_rate_is_straight_line() -> None:
    assert capital_recovery_factor(np.array([0.0, 1e-12]), 5).tolist() == pytest.approx([0.2, 0.2])


def test_vectorised_over_hardware_and_lifetimes() -> None:
    got = own_usd_per_s(np.array([[10000.0], [20000.0]]), 500, amortisation_s=np.array([3, 4, 5]) * 365.25 * 86400,
                        cost_of_capital=0.05, utilisation=0.7, pue=1.3, electricity_usd_per_j=2e-8,
                        hosting_usd_per_w_s=6e-8, maintenance=0.05)
    assert got.shape == (2, 3)
    assert np.all(np.diff(got, axis=1) < 0)  # longer life, cheaper
    assert np.all(got[1] > got[0])  # dearer chip, dearer hour


NONNEG = st.floats(0, 1e6, allow_nan=False)


@given(price=NONNEG, watts=st.floats(0, 2e4), years=st.floats(0.5, 10), rate=st.floats(0, 0.3), util=st.floats(0, 1),
       pue=st.floats(1, 3), elec=st.floats(0, 1e-7), host=st.floats(0, 1e-6), maint=st.floats(0, 0.3),
       bump=st.floats(1.0, 3.0))
def test_cost_never_falls_when_price_power_or_pue_rise(price: float, watts: float, years: float, rate: float, util: float,
                                                       pue: float, elec: float, host: float, maint: float,
                                                       bump: float) -> None:
    kw = dict(amortisation_s=years * 365.25 * 86400, cost_of_capital=rate, utilisation=util,
              electricity_usd_per_j=elec, hosting_usd_per_w_s=host, maintenance=maint)
    base = float(own_usd_per_s(price, watts, pue=pue, **kw))
    assert base >= 0 and math.isfinite(base)
    assert float(own_usd_per_s(price * bump, watts, pue=pue, **kw)) >= base
    assert float(own_usd_per_s(price, watts * bump, pue=pue, **kw)) >= base
    assert float(own_usd_per_s(price, watts, pue=pue * bump, **kw)) >= base
    assert float(own_usd_per_s(price, watts, pue=pue, **{**kw, "electricity_usd_per_j": elec * bump})) >= base


def test_default_basis_gives_ordered_ranges_for_every_priced_chip() -> None:
    cat = load_catalog()
    params = OwnParameters.from_basis(cat.get_cost("default"))
    priced = 0
    for hw in cat.hardware.values():
        try:
            capex = chip_capex(hw, cat)
        except MissingInputError:
            continue
        priced += 1
        lo, mid, hi = own_span(capex.price_usd, capex.watts, params).as_tuple()
        assert 0 < lo <= mid <= hi, hw.id
    assert priced >= 5


def test_h100_uses_the_dgx_price_share_and_power() -> None:
    cat = load_catalog()
    capex = chip_capex(cat.get_hardware("h100-sxm"), cat)
    assert capex.price_usd.as_tuple()[1] == pytest.approx(269000 / 8)
    assert capex.watts.as_tuple()[1] == pytest.approx(10200 / 8)  # host, NICs and switches included
    assert "dgx-h100" in capex.basis


def test_pinned_parameters_collapse_the_range() -> None:
    cat = load_catalog()
    params = OwnParameters.from_basis(cat.get_cost("default")).pinned({"pue": 1.2})
    assert params.pue.as_tuple() == (1.2, 1.2, 1.2)


def test_missing_price_names_the_remedy() -> None:
    cat = load_catalog()
    with pytest.raises(MissingInputError, match="pass price_chip USD or use basis rent") as err:
        chip_capex(cat.get_hardware("tpu-v5p"), cat)
    assert "pass --price-chip USD or use --basis rent" in err.value.render({})  # as the CLI says it
    capex = chip_capex(cat.get_hardware("mi300x"), cat, price_chip=20000)
    assert capex.price_usd.as_tuple() == (20000, 20000, 20000)


def test_span_of_point_is_flat() -> None:
    assert Span.point(3.0).as_tuple() == (3.0, 3.0, 3.0)


@pytest.mark.parametrize("rate", [0.0, 5e-324, 1e-300, 1e-12, 1e-6])
def test_capital_recovery_factor_is_finite_for_vanishing_rates(rate: float) -> None:
    from tcobench.cost.own import capital_recovery_factor

    # found by hypothesis: a subnormal rate made r / (1 - (1 + r)^-n) a 0/0 NaN
    assert float(capital_recovery_factor(rate, 4.0)) == pytest.approx(0.25 + rate * 5 / 8, rel=1e-9)  # 1/n + r(n+1)/(2n)

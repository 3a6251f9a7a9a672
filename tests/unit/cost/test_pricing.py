import pytest

from tcobench.catalog import load_catalog
from tcobench.cost import DEFAULT_BASIS, Gap, OwnParameters, Prices, price_hardware, price_tokens, usd_per_1m_tokens
from tcobench.errors import InputError


def test_hourly_price_divides_by_measured_token_rate() -> None:
    # $3.60/h at 1,000 tokens/s = 3.6M tokens/h -> $1 per 1M output tokens
    p = price_tokens(1000.0, Prices(usd_per_hour=3.6))
    assert p.usd_per_1m_output_tokens == pytest.approx(1.0)
    assert p.basis == "hour" and p.usd_per_1m_blended_3to1 is None


def test_hourly_price_without_a_measured_rate_is_unknown_not_zero() -> None:
    assert price_tokens(None, Prices(usd_per_hour=3.6)).usd_per_1m_output_tokens is None


def test_api_prices_blend_three_input_to_one_output() -> None:
    p = price_tokens(50.0, Prices(usd_per_1m_input=1.0, usd_per_1m_output=5.0))
    assert (p.usd_per_1m_output_tokens, p.usd_per_1m_blended_3to1) == (5.0, 2.0)


def test_no_price_gives_none() -> None:
    assert price_tokens(50.0, Prices()).as_dict()["usd_per_1m_output_tokens"] is None


@pytest.mark.parametrize("kw", [{"usd_per_hour": 1.0, "usd_per_1m_output": 1.0}, {"usd_per_hour": -1.0}])
def test_bad_pricing_is_rejected(kw: dict[str, float]) -> None:
    with pytest.raises(InputError):
        Prices(**kw)


@pytest.mark.parametrize("tps", [0.0, float("nan"), float("inf"), -1.0])
def test_no_tokens_is_no_price_per_token(tps: float) -> None:
    # one rule for a rate that produced nothing: no figure (None), never 0 or infinity in a document
    assert usd_per_1m_tokens(3.6, tps) is None
    assert price_tokens(tps, Prices(usd_per_hour=3.6)).usd_per_1m_output_tokens is None


def test_a_hardware_without_a_price_gets_a_typed_gap_not_a_parsed_message() -> None:
    cat = load_catalog()
    params = OwnParameters.from_basis(cat.get_cost(DEFAULT_BASIS))
    system_priced = {s.accelerator for s in cat.systems.values() if s.price is not None}
    unpriced = [h for h in cat.hardware.values()
                if not h.cloud and h.price.purchase is None and h.id not in system_priced]
    assert unpriced, "the catalog has a chip with neither price"
    p = price_hardware(unpriced[0], cat, params, "both")
    assert (p.own, p.rent, p.own_gap, p.rent_gap) == (None, None, Gap.NO_PURCHASE_PRICE, Gap.NO_RENT)
    assert p.own_note == Gap.NO_PURCHASE_PRICE.value and not p.any
    h100 = price_hardware(cat.get_hardware("h100-sxm"), cat, params, "both")
    assert h100.own is not None and h100.rent is not None and h100.own_gap is None and h100.rent_gap is None


def test_a_wrong_price_names_the_parameter_and_the_cli_its_flag() -> None:
    with pytest.raises(InputError) as err:
        Prices(usd_per_hour=1.0, usd_per_1m_output=1.0)
    assert str(err.value) == "give price_hour (self-hosted) or price_in/price_out (API), not both"
    assert err.value.render({}) == "give --price-hour (self-hosted) or --price-in/--price-out (API), not both"

import pytest

from tcobench.errors import InputError
from tcobench.loadgen.metrics import LevelMetrics
from tcobench.loadgen.price import Pricing, price_level


def _level(tps: float | None) -> LevelMetrics:
    return LevelMetrics(concurrency=1, rate=None, arrival=None, requests_ok=1, requests_failed=0, requests_cancelled=0,
                        requests_warmup=0, errors={}, ttft_s=None, tpot_s=None, icl_s=None, e2e_s=None,
                        client_lag_s=None, interactivity_tokens_per_s=None, input_tokens=None, output_tokens=10,
                        output_tokens_per_s=tps, input_tokens_per_s=None, requests_per_s=None,
                        goodput_requests_per_s=None, goodput_output_tokens_per_s=None, slo_attainment=None,
                        naive_output_tokens_per_s=None, naive_requests_per_s=None, window_s=None, duration_s=1.0,
                        token_count_source="usage", chunks_per_usage_token=None, interrupted=False)


def test_hourly_price_divides_by_measured_token_rate() -> None:
    # $3.60/h at 1,000 tokens/s = 3.6M tokens/h -> $1 per 1M output tokens
    p = price_level(_level(1000.0), Pricing(usd_per_hour=3.6))
    assert p.usd_per_1m_output_tokens == pytest.approx(1.0)
    assert p.basis == "hour" and p.usd_per_1m_blended_3to1 is None


def test_hourly_price_without_a_measured_rate_is_unknown_not_zero() -> None:
    assert price_level(_level(None), Pricing(usd_per_hour=3.6)).usd_per_1m_output_tokens is None


def test_api_prices_blend_three_input_to_one_output() -> None:
    p = price_level(_level(50.0), Pricing(usd_per_1m_input=1.0, usd_per_1m_output=5.0))
    assert (p.usd_per_1m_output_tokens, p.usd_per_1m_blended_3to1) == (5.0, 2.0)


def test_no_price_gives_none() -> None:
    assert price_level(_level(50.0), Pricing()).as_dict()["usd_per_1m_output_tokens"] is None


@pytest.mark.parametrize("kw", [{"usd_per_hour": 1.0, "usd_per_1m_output": 1.0}, {"usd_per_hour": -1.0}])
def test_bad_pricing_is_rejected(kw: dict[str, float]) -> None:
    with pytest.raises(InputError):
        Pricing(**kw)

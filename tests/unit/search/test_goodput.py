"""compare --rate: each row's replica served at an offered rate, ranked by goodput or by $ per 1M good tokens."""

from __future__ import annotations

import json

import pytest

import tcobench
from tcobench.errors import InputError

KW = {"input_len": 1000, "output_len": 300, "slo_ttft": "500ms", "slo_tpot": "50ms"}
HW = "h100-sxm,mi300x,b200"


def test_good_cost_is_the_replicas_hourly_price_over_its_good_tokens_and_orders_the_rows() -> None:
    rows = tcobench.compare("llama-3.1-70b", HW, rate=10, rank="good-cost", **KW).rows  # type: ignore[arg-type]
    priced = [r for r in rows if r.at_rate is not None and r.at_rate.usd_per_1m_good_tokens_own is not None]
    assert len(priced) >= 2
    for r in priced:
        a = r.at_rate
        assert a is not None and r.usd_per_hour_own is not None and a.usd_per_1m_good_tokens_own is not None
        assert a.usd_per_1m_good_tokens_own[1] == pytest.approx(r.usd_per_hour_own[1] / (a.goodput_tokens_per_s * 3600) * 1e6)
        # a replica offered less than it can serve idles part of the time: a good token costs more than at steady state
        assert r.usd_per_1m_output_tokens_own is not None
        assert a.usd_per_1m_good_tokens_own[1] >= r.usd_per_1m_output_tokens_own[1] * 0.99
    own = [r.at_rate.usd_per_1m_good_tokens_own[1] for r in priced]  # type: ignore[union-attr,index]
    assert own == sorted(own) and rows[: len(priced)] == priced  # cheapest good token first, unpriced rows last


def test_ranked_by_goodput_the_row_that_keeps_up_beats_the_one_whose_queue_grows() -> None:
    rows = tcobench.compare("llama-3.1-70b", HW, rate=10, rank="goodput", **KW).rows  # type: ignore[arg-type]
    good = [r.at_rate.goodput_tokens_per_s for r in rows if r.at_rate is not None]
    assert good == sorted(good, reverse=True)
    assert rows[0].at_rate is not None and not rows[0].at_rate.saturated and rows[0].at_rate.slo_met > 0.9
    # goodput never exceeds what the rate offers: 10 requests/s x 300 tokens
    assert all(g <= 10 * 300 * 1.1 for g in good)


def test_a_higher_rate_meets_the_slos_less_often() -> None:
    low = tcobench.compare("llama-3.1-8b", "h100-sxm", rate=5, **KW).rows[0].at_rate  # type: ignore[arg-type]
    high = tcobench.compare("llama-3.1-8b", "h100-sxm", rate=200, **KW).rows[0].at_rate  # type: ignore[arg-type]
    assert low is not None and high is not None
    assert high.slo_met < low.slo_met and high.ttft_p99_s > low.ttft_p99_s


def test_rank_by_goodput_without_a_rate_is_refused() -> None:
    with pytest.raises(InputError, match="rate"):
        tcobench.compare("llama-3.1-8b", "h100-sxm", rank="goodput", **KW)  # type: ignore[arg-type]


def test_the_command_prints_and_carries_the_goodput(cli) -> None:  # type: ignore[no-untyped-def]
    args = ("compare", "--model", "llama-3.1-8b", "--hardware", "h100-sxm,mi300x", "--input-len", "1000",
            "--output-len", "300", "--slo-ttft", "500ms", "--slo-tpot", "50ms", "--rate", "20", "--rank", "goodput")
    r = cli(*args)
    assert r.code == 0, r.err
    assert "at 20 requests/s" in r.out and "ranked by goodput" in r.out and "$/1M good (own)" in r.out
    doc = json.loads(cli(*args, "--json").out)
    assert doc["rate"] == 20 and doc["rank"] == "goodput"
    a = doc["rows"][0]["at_rate"]
    assert a["rate"] == 20 and a["goodput_tokens_per_s"] > 0 and a["usd_per_1m_good_tokens_own_low"] <= a["usd_per_1m_good_tokens_own"]
    bad = cli("compare", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--rate", "nan")
    assert bad.code == 2 and "--rate" in bad.err
    bad = cli("compare", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--rank", "good-cost")
    assert bad.code == 2 and "--rate" in bad.err and "--rank" in bad.err


SWEEP = {"batch": "16:512:x2", "input_len": "1000", "output_len": "300", "slo_ttft": "300ms", "slo_tpot": "40ms", "top": 4}


def test_sweep_serves_its_top_rows_at_the_rate_and_reorders_them() -> None:
    plain = tcobench.sweep("llama-3.1-8b", "h100-sxm,b200", **SWEEP)  # type: ignore[arg-type]
    ranked = tcobench.sweep("llama-3.1-8b", "h100-sxm,b200", rate=40, rank="good-cost", **SWEEP)  # type: ignore[arg-type]
    key = ("hardware", "precision", "tp", "pp", "ep", "batch")
    assert sorted(tuple(r[k] for k in key) for r in ranked.top) == sorted(tuple(r[k] for k in key) for r in plain.top)
    costs = [r["at_rate"]["usd_per_1m_good_tokens"] for r in ranked.top]
    assert None not in costs and costs == sorted(costs)
    for r in ranked.top:
        a = r["at_rate"]
        steady = r["output_tokens_per_s_per_chip"] * r["chips"]
        assert a["goodput_tokens_per_s"] <= steady * 1.01  # a replica cannot serve more good tokens than it can serve
        assert a["usd_per_1m_good_tokens"] == pytest.approx(r["usd_per_1m_output_tokens"] * steady / a["goodput_tokens_per_s"])
    assert ranked.to_dict()["rate"] == 40 and ranked.to_dict()["rank"] == "good-cost"


def test_sweep_prints_the_rows_at_the_rate(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("sweep", "--model", "llama-3.1-8b", "--hardware", "b200", "--batch", "64,128", "--input-len", "1000",
            "--output-len", "300", "--slo-tpot", "40ms", "--rate", "30", "--rank", "goodput", "--quiet")
    assert r.code == 0, r.err
    assert "at 30 requests/s" in r.out and "ranked by goodput" in r.out and "goodput tok/s" in r.out
    bad = cli("sweep", "--model", "llama-3.1-8b", "--hardware", "b200", "--rank", "goodput", "--quiet")
    assert bad.code == 2 and "--rate" in bad.err

"""A finite run of N requests is served in waves; its throughput follows from the steady-state model."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tcobench.catalog import load_catalog
from tcobench.errors import InputError
from tcobench.perf import predict
from tcobench.perf.finite import finite_run

CAT = load_catalog()
MODEL, HW = CAT.get_model("llama-2-7b"), CAT.get_hardware("h100-sxm")
KW = {"input_len": 512, "output_len": 256, "precision": "fp8", "catalog": CAT}


def test_requests_that_fit_at_once_run_as_one_steady_state_cycle() -> None:
    run = finite_run(MODEL, HW, requests=64, **KW)
    steady = predict(MODEL, HW, batch=64, **KW)
    assert (run.wave, run.full_waves, run.remainder) == (64, 1, 0)
    assert run.output_tokens_per_s == pytest.approx(steady.output_tokens_per_s, rel=1e-12)
    assert run.run_s == pytest.approx(64 * 256 / steady.output_tokens_per_s, rel=1e-12)


def test_waves_add_up_and_a_partial_wave_costs_its_own_cycle() -> None:
    run = finite_run(MODEL, HW, requests=250, max_batch=100, **KW)
    assert (run.wave, run.full_waves, run.remainder) == (100, 2, 50)
    t100 = 100 * 256 / predict(MODEL, HW, batch=100, **KW).output_tokens_per_s
    t50 = 50 * 256 / predict(MODEL, HW, batch=50, **KW).output_tokens_per_s
    assert run.run_s == pytest.approx(2 * t100 + t50, rel=1e-12)
    assert run.output_tokens_per_s == pytest.approx(250 * 256 / run.run_s, rel=1e-12)


def test_the_wave_is_capped_by_memory_when_no_batch_is_given() -> None:
    big = finite_run(MODEL, HW, requests=10**6, **{**KW, "input_len": 2048, "output_len": 2048})
    assert big.wave == predict(MODEL, HW, batch=1, **{**KW, "input_len": 2048, "output_len": 2048}).max_batch
    assert big.wave < 1000 and big.fits


def test_replicas_share_the_requests() -> None:
    one = finite_run(MODEL, HW, requests=128, **KW)
    two = finite_run(MODEL, HW, requests=256, chips=2, **KW)
    assert two.wave == one.wave == 128
    assert two.output_tokens_per_s == pytest.approx(2 * one.output_tokens_per_s, rel=1e-12)
    assert two.output_tokens_per_s_per_chip == pytest.approx(one.output_tokens_per_s_per_chip, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(requests=st.integers(1, 5000), cap=st.integers(1, 512))
def test_a_finite_run_is_never_faster_than_steady_state_at_its_wave(requests: int, cap: int) -> None:
    run = finite_run(MODEL, HW, requests=requests, max_batch=cap, **KW)
    steady = predict(MODEL, HW, batch=run.wave, **KW)
    assert run.output_tokens_per_s <= steady.output_tokens_per_s * (1 + 1e-9)


@pytest.mark.parametrize(("kwargs", "match"), [({"requests": 0}, "requests must be a positive integer, got 0"),
                                               ({"requests": 10, "max_batch": 0}, "max_batch must be a positive integer")])
def test_bad_counts_say_what_was_expected(kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        finite_run(MODEL, HW, **kwargs, **KW)


def test_predict_requests_prints_the_run_and_adds_it_to_json(cli) -> None:
    args = ("predict", "--model", "llama-2-7b", "--hardware", "h100-sxm", "--batch", "100", "--requests", "250",
            "--input-len", "512", "--output-len", "256", "--precision", "fp8")
    r = cli(*args)
    assert r.code == 0, r.err
    assert "run of 250 requests: 2 wave(s) of 100 and one of 50 per replica" in r.out
    doc = json.loads(cli(*args, "--json").out)
    expected = finite_run(MODEL, HW, requests=250, max_batch=100, **KW)
    assert doc["batch"] == 100 and doc["run"]["run_s"] == pytest.approx(expected.run_s, rel=1e-12)


def test_predict_rejects_zero_requests_naming_the_flag(cli) -> None:
    r = cli("predict", "--model", "llama-2-7b", "--hardware", "h100-sxm", "--requests", "0")
    assert r.code != 0 and "--requests" in r.err and "0" in r.err


def test_predict_requests_on_a_deployment_that_does_not_fit_says_so(cli) -> None:
    r = cli("predict", "--model", "llama-3.1-405b", "--hardware", "h100-sxm", "--requests", "100", "--batch", "auto")
    assert r.code == 0, r.err
    assert "run of 100 requests: not feasible (does not fit in memory)" in r.out
    doc = json.loads(cli("predict", "--model", "llama-3.1-405b", "--hardware", "h100-sxm", "--requests", "100", "--json").out)
    assert doc["run"]["fits"] is False and doc["run"]["reason"] == "does not fit in memory"

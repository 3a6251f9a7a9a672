"""The serving simulator with a shared prompt prefix (prefix caching) and with request lengths drawn from a distribution."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import tcobench
from tcobench.catalog import load_catalog
from tcobench.errors import InputError
from tcobench.perf import Chip, Engine, Formats, Layout
from tcobench.perf.efficiency import resolve
from tcobench.perf.serving import Scheduler, serve, simulate
from tcobench.perf.steps import ModelSteps, kv_capacity
from tcobench.perf.traffic import Traffic, draw_lengths
from tcobench.perf.transformer import shape

CAT = load_catalog()


@pytest.fixture(scope="module")
def small():  # type: ignore[no-untyped-def]
    h = CAT.get_hardware("h100-sxm")
    chip = Chip.of(h, "bf16", resolve(h, CAT.efficiency))
    s, lay, fmt = shape(CAT.get_model("llama-3.1-8b")), Layout(1.0), Formats.of("bf16")
    steps = ModelSteps.build(s, chip, lay, fmt, Engine(), max_tokens=2048, max_seqs=64, max_context=6000)
    return Scheduler(2048, 64, kv_capacity(s, chip, lay, fmt, 2048, 64)), steps


def test_a_request_after_the_prefix_is_cached_computes_only_the_rest_of_its_prompt(small) -> None:  # type: ignore[no-untyped-def]
    sched, steps = small
    traffic = Traffic.open("constant", 0.01, 3, 1000, 20).with_prefix(0.5)  # 100 s apart: each alone
    assert traffic.prefix_len == 500
    t = simulate(steps, traffic, sched)
    ttft = t.first - t.arrival
    # the first computes its whole prompt; the next ones find 496 tokens (31 blocks of 16) cached
    assert float(ttft[0]) == pytest.approx(steps.step(0, 0.0, [(1000, 0)], 1), rel=1e-9)
    np.testing.assert_allclose(ttft[1:], steps.step(0, 0.0, [(504, 496)], 1), rtol=1e-9)
    assert t.cached_tokens == 2 * 496 and t.prompt_tokens == 3000
    # without prefix caching in the engine, the shared prefix changes nothing
    off = simulate(steps, traffic, replace(sched, prefix_caching=False))
    np.testing.assert_allclose(off.first - off.arrival, float(ttft[0]), rtol=1e-9)
    assert off.cached_tokens == 0


def test_a_prompt_no_longer_than_the_prefix_still_computes_its_last_token(small) -> None:  # type: ignore[no-untyped-def]
    sched, steps = small
    base = Traffic.open("constant", 0.01, 2, 64, 4)
    traffic = Traffic(base.input_len, base.output_len, base.arrivals, None, "short", base.rate, prefix_len=64)
    t = simulate(steps, traffic, sched)
    assert t.cached_tokens == 48  # 63 tokens could come from the cache; whole blocks of 16 do
    assert float(t.first[1] - t.arrival[1]) == pytest.approx(steps.step(0, 0.0, [(16, 48)], 1), rel=1e-9)


@pytest.mark.parametrize("preempt", [False, True])
def test_with_a_shared_prefix_the_fast_path_still_gives_the_plain_loops_timeline(small, preempt: bool) -> None:  # type: ignore[no-untyped-def]
    _, steps = small
    sched = Scheduler(2048, 64, 30_000.0, preempt)  # a tight cache: admission waits (or preempts)
    traffic = Traffic.open("poisson", 25.0, 300, 1500, 200, seed=2).with_lengths("500..2500", "50..350", seed=2).with_prefix(0.6)
    fast, plain = simulate(steps, traffic, sched), simulate(steps, traffic, sched, runs=False)
    assert fast.steps == plain.steps and fast.cached_tokens == plain.cached_tokens > 0
    for key in ("admitted", "first", "done"):
        np.testing.assert_allclose(getattr(fast, key), getattr(plain, key), rtol=1e-9, atol=1e-12)


def test_prefix_caching_lowers_ttft_and_lets_more_requests_share_a_tight_cache(small) -> None:  # type: ignore[no-untyped-def]
    _, steps = small
    sched = Scheduler(2048, 64, 40_000.0)
    traffic = Traffic.open("poisson", 12.0, 600, 2000, 100, seed=1)
    plain, shared = serve(steps, traffic, sched), serve(steps, traffic.with_prefix(0.8), sched)
    assert shared.ttft_s["p50"] < 0.5 * plain.ttft_s["p50"]
    assert shared.queue_s["p99"] < plain.queue_s["p99"]  # the prefix is held once, not per request
    assert 0.75 < shared.prefix_cache_hit < 0.8 and plain.prefix_cache_hit == 0.0
    assert shared.to_dict()["prefix_cache_hit"] == shared.prefix_cache_hit


@pytest.mark.parametrize("share", [-0.1, 1.0, float("nan")])
def test_a_prefix_share_outside_0_to_1_is_refused(share: float) -> None:
    with pytest.raises(InputError, match="prefix_share"):
        Traffic.open("poisson", 1.0, 10, 100, 10).with_prefix(share)


def test_lengths_drawn_from_a_distribution_stay_in_it_and_are_reproducible() -> None:
    rng = np.random.default_rng(0)
    u = draw_lengths("100..300", 20_000, rng)
    assert u.min() == 100 and u.max() == 300 and abs(u.mean() - 200) < 3
    g = draw_lengths("normal:50:40", 20_000, rng)
    assert g.min() >= 1 and abs(np.median(g) - 50) < 2
    assert (draw_lengths("77", 5, rng) == 77).all()
    t = Traffic.open("poisson", 5.0, 500, 1000, 100, seed=4)
    a, b = t.with_lengths("10..20", "normal:100:10", seed=4), t.with_lengths("10..20", "normal:100:10", seed=4)
    assert (a.input_len == b.input_len).all() and (a.output_len == b.output_len).all()
    assert (a.arrivals == t.arrivals).all() and "lengths input 10..20 / output normal:100:10" in a.label


@pytest.mark.parametrize(("spec", "match"), [("10-20", "expected a length distribution"), ("0", "the length"),
                                             ("30..20", "HI"), ("normal:0:5", "the mean"), ("", "expected")])
def test_a_bad_length_distribution_names_the_parameter_and_the_value(spec: str, match: str) -> None:
    with pytest.raises(InputError, match=match) as err:
        draw_lengths(spec, 3, np.random.default_rng(0), "{output_dist}")
    assert "output_dist" in str(err.value)


def test_predict_draws_lengths_and_shares_a_prefix_through_the_python_api() -> None:
    kw = dict(model="llama-3.1-8b", hardware="h100-sxm", input_len=1000, output_len=200, rate=10.0, requests=400)
    plain = tcobench.predict(**kw).serving  # type: ignore[arg-type]
    shared = tcobench.predict(**kw, prefix_share=0.75).serving  # type: ignore[arg-type]
    spread = tcobench.predict(**kw, input_dist="100..1900", output_dist="normal:200:150").serving  # type: ignore[arg-type]
    assert plain is not None and shared is not None and spread is not None
    assert shared.ttft_s["p50"] < plain.ttft_s["p50"] and shared.prefix_cache_hit > 0.7
    assert spread.ttft_s["p99"] / spread.ttft_s["p50"] > plain.ttft_s["p99"] / plain.ttft_s["p50"]
    assert spread.e2e_s["p99"] > plain.e2e_s["p99"]  # long outputs run longer
    with pytest.raises(InputError, match="input_dist"):
        tcobench.predict(model="llama-3.1-8b", hardware="h100-sxm", input_dist="10..20")


def test_a_drawn_length_past_the_models_context_is_a_deployment_error_naming_the_flags() -> None:
    from tcobench.errors import DeploymentError

    with pytest.raises(DeploymentError, match="maximum context") as err:
        tcobench.predict(model="llama-3.1-8b", hardware="h100-sxm", rate=1.0, requests=50, input_dist="100000..140000")
    assert "input_dist" in str(err.value) and "max_context" in str(err.value)

"""The serving simulator: step costs against the operator model, the scheduler's rules, and its metrics."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tcobench.catalog import load_catalog
from tcobench.errors import DeploymentError, InputError
from tcobench.perf import Batch, Chip, Engine, Formats, Layout, evaluate
from tcobench.perf.efficiency import resolve
from tcobench.perf.serving import Scheduler, Slo, serve, simulate, summarize, weighted_stats
from tcobench.perf.profile import Level, fit_linear
from tcobench.perf.steps import LinearSteps, ModelSteps, kv_capacity
from tcobench.perf.traffic import Traffic, read_trace
from tcobench.perf.transformer import shape

CAT = load_catalog()


def _setup(model: str = "llama-3.1-8b", hw: str = "h100-sxm", tp: int = 1, precision: str = "bf16"):  # type: ignore[no-untyped-def]
    h = CAT.get_hardware(hw)
    chip = Chip.of(h, precision, resolve(h, CAT.efficiency))
    return shape(CAT.get_model(model)), chip, Layout(float(tp)), Formats.of(precision)


@pytest.mark.parametrize(("model", "hw", "tp", "precision"), [("llama-3.1-70b", "h100-sxm", 4, "fp8"),
                                                               ("llama-3.1-8b", "mi300x", 1, "bf16"),
                                                               ("deepseek-v3", "h200-sxm", 8, "fp8")])
@pytest.mark.parametrize(("batch", "context"), [(1, 1000), (64, 1500), (200, 3000)])
def test_a_step_costs_what_evaluate_says_a_decode_step_and_a_prefill_cost(model: str, hw: str, tp: int, precision: str,
                                                                           batch: int, context: int) -> None:
    s, chip, lay, fmt = _setup(model, hw, tp, precision)
    steps = ModelSteps.build(s, chip, lay, fmt, Engine(), max_tokens=8192, max_seqs=256, max_context=4096)
    r = evaluate(s, chip, Batch(float(batch), float(context), 0.0), lay, fmt)
    # a decode step at `batch` sequences of mean context `context` (evaluate: output_len 0 -> context = input_len)
    assert steps.step(batch, batch * context, [], 0) == pytest.approx(float(r.tpot_s), rel=1e-9)
    assert float(steps.decode_run(batch, np.array([batch * context]))[0]) == pytest.approx(float(r.tpot_s), rel=1e-9)
    # one prompt alone in a step: evaluate's TTFT
    assert steps.step(0, 0.0, [(context, 0)], 1) == pytest.approx(float(r.ttft_s), rel=1e-9)


def test_a_mixed_step_costs_more_than_either_part_and_less_than_both() -> None:
    s, chip, lay, fmt = _setup()
    steps = ModelSteps.build(s, chip, lay, fmt, Engine(), max_tokens=8192, max_seqs=256, max_context=4096)
    decode, prefill = steps.step(64, 64 * 1000.0, [], 0), steps.step(0, 0.0, [(512, 0)], 1)
    mixed = steps.step(64, 64 * 1000.0, [(512, 0)], 1)
    assert max(decode, prefill) < mixed < decode + prefill  # the weights are read once for both


def _sched(s, chip, lay, fmt, max_tokens: int = 2048, max_seqs: int = 64, kv: float | None = None) -> Scheduler:  # type: ignore[no-untyped-def]
    return Scheduler(max_tokens, max_seqs, kv if kv is not None else kv_capacity(s, chip, lay, fmt, max_tokens, max_seqs))


@pytest.fixture(scope="module")
def small():  # type: ignore[no-untyped-def]
    s, chip, lay, fmt = _setup()
    return s, chip, lay, fmt, ModelSteps.build(s, chip, lay, fmt, Engine(), max_tokens=2048, max_seqs=64, max_context=6000)


@pytest.fixture(scope="module")
def big():  # type: ignore[no-untyped-def]
    s, chip, lay, fmt = _setup()
    return s, chip, lay, fmt, ModelSteps.build(s, chip, lay, fmt, Engine(), max_tokens=8192, max_seqs=256, max_context=2000)


def _mixed_trace(n: int = 400, seed: int = 3) -> Traffic:
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.exponential(1 / 30.0, n))
    return Traffic(rng.integers(1, 5000, n), rng.integers(1, 600, n), times - times[0], None, "mixed", 30.0)


@pytest.mark.parametrize("kind", ["poisson", "closed", "trace", "tight-kv"])
def test_the_step_run_fast_path_gives_the_plain_loops_timeline(small, kind: str) -> None:  # type: ignore[no-untyped-def]
    s, chip, lay, fmt, steps = small
    sched = _sched(s, chip, lay, fmt)
    traffic = {"poisson": Traffic.open("poisson", 20.0, 300, 700, 120),
               "closed": Traffic.closed(24, 300, 700, 120),
               "trace": _mixed_trace(),
               "tight-kv": _mixed_trace()}[kind]
    if kind == "tight-kv":
        sched = Scheduler(2048, 64, 12_000.0)  # two or three long requests at a time: admission waits
    fast, plain = simulate(steps, traffic, sched), simulate(steps, traffic, sched, runs=False)
    assert fast.steps == plain.steps
    for key in ("arrival", "admitted", "first", "done"):
        np.testing.assert_allclose(getattr(fast, key), getattr(plain, key), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.sort(fast.step_s), np.sort(plain.step_s), rtol=1e-9)


def test_every_request_is_served_in_order_of_its_events_and_the_limits_hold(small) -> None:  # type: ignore[no-untyped-def]
    s, chip, lay, fmt, steps = small
    traffic = _mixed_trace()
    sched = Scheduler(2048, 8, 20_000.0)
    t = simulate(steps, traffic, sched)
    assert np.all(np.isfinite(t.done))
    assert np.all(t.arrival <= t.admitted) and np.all(t.admitted < t.first) and np.all(t.first <= t.done)
    # at any admission, the running requests (admitted, not done) are within max_seqs and the KV capacity
    need = (traffic.input_len + traffic.output_len).astype(float)
    for at in t.admitted:
        running = (t.admitted <= at) & (t.done > at)
        assert running.sum() <= sched.max_seqs
        assert need[running].sum() <= sched.kv_tokens
    # the decoding sequences per step never pass max_seqs
    assert t.step_decodes.max() <= sched.max_seqs


def test_a_request_alone_takes_one_prefill_step_then_one_decode_step_per_token(small) -> None:  # type: ignore[no-untyped-def]
    s, chip, lay, fmt, steps = small
    traffic = Traffic.open("constant", 0.01, 3, 1000, 50)  # 100 s apart: each alone
    t = simulate(steps, traffic, _sched(s, chip, lay, fmt))
    r = evaluate(s, chip, Batch(1.0, 1000.0, 0.0), lay, fmt)
    np.testing.assert_allclose(t.first - t.arrival, float(r.ttft_s), rtol=1e-9)
    decode = [steps.step(1, 1000.0 + k, [], 0) for k in range(1, 50)]
    np.testing.assert_allclose(t.done - t.first, sum(decode), rtol=1e-9)
    assert t.steps == 3 * 50


def test_a_prompt_longer_than_the_token_budget_is_prefilled_in_chunks(small) -> None:  # type: ignore[no-untyped-def]
    s, chip, lay, fmt, steps = small
    traffic = Traffic.open("constant", 0.01, 1, 5000, 2)
    t = simulate(steps, traffic, _sched(s, chip, lay, fmt, max_tokens=2048))
    chunks = [(2048, 0), (2048, 2048), (904, 4096)]
    expected = sum(steps.step(0, 0.0, [c], int(i == 2)) for i, c in enumerate(chunks))
    assert float(t.first[0] - t.arrival[0]) == pytest.approx(expected, rel=1e-9)
    assert t.steps == 3 + 1  # three chunks, then the second token


def test_latency_grows_with_the_rate_and_a_rate_past_capacity_is_saturation_not_an_error(big) -> None:  # type: ignore[no-untyped-def]
    s, chip, lay, fmt, steps = big
    sched = _sched(s, chip, lay, fmt, max_tokens=8192, max_seqs=256)
    slo = Slo(ttft=0.5)
    results = [serve(steps, Traffic.open("poisson", rate, 2000, 1000, 200), sched, slo) for rate in (5, 10, 20, 400)]
    ttft = [r.ttft_s["p99"] for r in results]
    assert ttft == sorted(ttft) and ttft[-1] > 100 * ttft[0]
    assert [r.saturated for r in results] == [False, False, False, True]
    over = results[-1]
    assert over.queue_growth_per_s > 0.5 * (400 - over.requests_per_s)
    assert over.first_slo_miss_s is not None and over.first_slo_miss_s < 10.0
    assert results[0].slo_met == 1.0 and results[0].first_slo_miss_s is None
    # below saturation the replica completes what is offered
    assert results[2].requests_per_s == pytest.approx(20.0, rel=0.1)


def test_a_closed_loop_keeps_its_users_busy_and_littles_law_holds(small) -> None:  # type: ignore[no-untyped-def]
    s, chip, lay, fmt, steps = small
    traffic = Traffic.closed(16, 800, 500, 100)
    t = simulate(steps, traffic, _sched(s, chip, lay, fmt))
    for at in np.linspace(1.0, float(t.done.max()) * 0.8, 20):
        assert ((t.arrival <= at) & (t.done > at)).sum() == 16  # every user has a request in flight
    r = summarize(t, traffic, _sched(s, chip, lay, fmt), Slo())
    assert r.requests_per_s * r.e2e_s["mean"] == pytest.approx(16, rel=0.05)


def test_burstier_arrivals_queue_longer_at_the_same_rate(big) -> None:  # type: ignore[no-untyped-def]
    s, chip, lay, fmt, steps = big
    sched = _sched(s, chip, lay, fmt, max_tokens=8192, max_seqs=256)
    # 25 requests/s: below the replica's capacity for constant arrivals (about 28/s, steps with a prompt running eagerly)
    p99 = [serve(steps, Traffic.open(kind, 25.0, 3000, 1000, 200), sched).ttft_s["p99"]
           for kind in ("constant", "poisson", "gamma:4")]
    assert p99 == sorted(p99) and p99[2] > 2 * p99[0]


def test_goodput_counts_only_requests_that_meet_every_slo(big) -> None:  # type: ignore[no-untyped-def]
    s, chip, lay, fmt, steps = big
    sched = _sched(s, chip, lay, fmt, max_tokens=8192, max_seqs=256)
    traffic = Traffic.open("poisson", 30.0, 2000, 1000, 200)
    loose = serve(steps, traffic, sched, Slo(ttft=10.0))
    tight = serve(steps, traffic, sched, Slo(ttft=loose.ttft_s["p50"]))
    assert loose.goodput_requests_per_s == pytest.approx(loose.requests_per_s)
    assert tight.slo_met == pytest.approx(0.5, abs=0.01)
    assert tight.goodput_requests_per_s < 0.6 * loose.goodput_requests_per_s
    assert serve(steps, traffic, sched).goodput_requests_per_s is None  # no SLO, no goodput


def test_weighted_percentiles_equal_numpys_on_the_repeated_values() -> None:
    rng = np.random.default_rng(0)
    values, weights = rng.random(50), rng.integers(0, 7, 50).astype(float)
    got = weighted_stats(values, weights)
    repeated = np.repeat(values, weights.astype(int))
    for q in (50, 90, 99):
        assert got[f"p{q}"] == pytest.approx(float(np.percentile(repeated, q)), rel=1e-12)
    assert got["mean"] == pytest.approx(float(repeated.mean()))


def test_a_linear_profile_fitted_to_its_own_simulated_levels_comes_back() -> None:
    truth = LinearSteps(base=0.004, per_seq=0.0006, per_token=0.00002)
    sched = Scheduler(512, 16, 1e9)
    levels = []
    for c in (1, 2, 4, 8, 16):
        r = serve(truth, Traffic.closed(c, 40, 64, 128), sched)
        levels.append(Level(c, 40, 64, 128, r.ttft_s["mean"], r.tpot_s["mean"]))
    fit = fit_linear(levels, sched)
    assert fit.base == pytest.approx(truth.base, rel=1e-6)
    assert fit.per_seq == pytest.approx(truth.per_seq, rel=1e-6)
    assert fit.per_token == pytest.approx(truth.per_token, rel=1e-6)


def test_a_request_larger_than_the_kv_cache_is_a_deployment_error(small) -> None:  # type: ignore[no-untyped-def]
    _, _, _, _, steps = small
    with pytest.raises(DeploymentError, match="does not fit in the KV cache"):
        simulate(steps, Traffic.open("poisson", 1.0, 5, 3000, 100), Scheduler(2048, 8, 2000.0))


def test_the_budget_must_hold_every_running_sequence() -> None:
    with pytest.raises(InputError, match="max_batched_tokens"):
        Scheduler(64, 256, 1e6)


@pytest.mark.parametrize(("text", "match"), [
    ("0,10,10\n1,10,10\n0.5,10,10\n", "line 3: time 0.5 is before"),
    ("0,10,10\n1,-5,10\n", "line 2: input tokens '-5'"),
    ("0,10,10\n1,10,0\n", "line 2: output tokens 0 is out of range"),
    ("0,10,10\nnan,10,10\n", "line 2: time 'nan'"),
    ("0,10\n", "has 2 fields"),
    ("# nothing\n", "has no requests"),
])
def test_a_bad_trace_names_the_line_and_the_value(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "trace.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=match):
        read_trace(path)


def test_a_trace_with_a_header_and_comments_is_read(tmp_path: Path) -> None:
    path = tmp_path / "trace.csv"
    path.write_text("time_s,input_tokens,output_tokens\n0,100,20  # first\n\n0.25 300 40\n")
    times, n_in, n_out = read_trace(path)
    assert times.tolist() == [0.0, 0.25] and n_in.tolist() == [100, 300] and n_out.tolist() == [20, 40]


@pytest.mark.parametrize("rate", [math.nan, math.inf, -1.0, 0.0])
def test_a_rate_that_is_not_a_positive_number_is_refused(rate: float) -> None:
    with pytest.raises(InputError, match="rate"):
        Traffic.open("poisson", rate, 10, 10, 10)


def test_arrival_processes_have_the_asked_rate_and_spread() -> None:
    for kind, cv in (("constant", 0.0), ("poisson", 1.0), ("gamma:3", 3.0)):
        t = Traffic.open(kind, 50.0, 20_000, 10, 10, seed=1).arrivals
        assert t is not None
        gaps = np.diff(t)
        assert gaps.mean() == pytest.approx(1 / 50.0, rel=0.05)
        assert gaps.std() / gaps.mean() == pytest.approx(cv, abs=0.1 * max(cv, 1.0))


def test_an_offline_run_of_fixed_lengths_takes_as_long_as_the_steady_state_says_and_varied_lengths_take_longer() -> None:
    """All requests queued at t = 0 (an MLPerf Offline query): with fixed lengths the simulated run's output
    tokens over its makespan (first arrival to last completion) is the steady state's throughput, the batch cap
    full from start to end but for one drain; with lengths that vary about the same means, the run is slower (a
    long request holds its slot and its KV room longer; the longest finish at a shrinking batch)."""
    from tcobench.perf.predict import predict

    model, hw = CAT.get_model("llama-3.1-8b"), CAT.get_hardware("h100-sxm")
    n, seqs = 4000, 128
    common = {"input_len": 200, "output_len": 250, "precision": "fp8", "catalog": CAT}
    steady = predict(model, hw, batch=seqs, **common)  # type: ignore[arg-type]

    def run(traffic: Traffic) -> float:
        q = predict(model, hw, batch=seqs, traffic=traffic, max_seqs=seqs, max_batched_tokens=8192, **common)  # type: ignore[arg-type]
        assert q.serving is not None and q.serving.makespan_s > 0
        assert q.serving.to_dict()["makespan_s"] == q.serving.makespan_s
        return float(traffic.output_len.sum()) / q.serving.makespan_s

    fixed = run(Traffic(np.full(n, 200), np.full(n, 250), np.zeros(n), None, "fixed"))
    assert fixed == pytest.approx(steady.output_tokens_per_s, rel=0.02)
    rng = np.random.default_rng(0)
    outs = np.clip(rng.exponential(250, n), 1, 1024).astype(np.int64)
    varied = run(Traffic(np.clip(rng.exponential(200, n), 1, 1024).astype(np.int64), outs, np.zeros(n), None, "varied"))
    assert varied < fixed

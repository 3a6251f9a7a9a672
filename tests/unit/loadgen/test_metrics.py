import dataclasses

import numpy as np
import pytest

from tcobench.loadgen.metrics import Slo, compute, steady_window, summarize
from tcobench.loadgen.result import RequestResult
from tcobench.loadgen.runner import ClientUse, LevelRun, Load

MS = 1_000_000


def req(i: int, sent_ms: float, ttft_ms: float, tpot_ms: float, n: int, *, warmup: bool = False,
        usage: bool = True, error: str | None = None, intended_ms: float | None = None) -> RequestResult:
    sent = int(sent_ms * MS)
    chunks = tuple(sent + int((ttft_ms + k * tpot_ms) * MS) for k in range(n)) if error is None else ()
    done = (chunks[-1] if chunks else sent) + MS
    return RequestResult(index=i, warmup=warmup, intended_ns=int((sent_ms if intended_ms is None else intended_ms) * MS),
                         sent_ns=sent, done_ns=done, chunk_ns=chunks, output_tokens=n if usage and error is None else None,
                         prompt_tokens=10 if error is None else None, error=error)


def run(results: list[RequestResult], concurrency: int = 1) -> LevelRun:
    return LevelRun(Load(concurrency=concurrency), tuple(results), 0, max(r.done_ns for r in results))


def test_percentiles_are_linear_interpolation() -> None:
    s = summarize([1.0, 2.0, 3.0, 4.0])
    assert s is not None
    assert (s.mean, s.p50, s.p90, s.p99) == pytest.approx((2.5, 2.5, 3.7, 3.97))
    assert summarize([]) is None


def test_ttft_tpot_e2e_follow_the_design_definitions() -> None:
    m = compute(run([req(0, 0, 50, 10, 11)]))
    assert m.ttft_s and m.tpot_s and m.e2e_s and m.icl_s
    assert m.ttft_s.p50 == pytest.approx(0.050)
    assert m.e2e_s.p50 == pytest.approx(0.150)  # sent -> last token, not -> stream end
    assert m.tpot_s.p50 == pytest.approx((0.150 - 0.050) / 10)
    assert m.icl_s.count == 10 and m.icl_s.p99 == pytest.approx(0.010)


def test_tpot_uses_server_token_count_when_chunks_carry_several_tokens() -> None:
    r = req(0, 0, 50, 20, 6)
    r = RequestResult(**{**{f: getattr(r, f) for f in r.__slots__}, "output_tokens": 11})  # 11 tokens in 6 chunks
    m = compute(run([r]))
    assert m.tpot_s is not None and m.tpot_s.p50 == pytest.approx(0.100 / 10)
    assert m.chunks_per_usage_token == pytest.approx(6 / 11)


def test_single_token_requests_have_no_tpot() -> None:
    m = compute(run([req(0, 0, 50, 10, 1)]))
    assert m.tpot_s is None and m.ttft_s is not None


def test_warmup_is_left_out_of_latencies_and_failures_are_counted_by_type() -> None:
    results = [req(0, 0, 500, 10, 5, warmup=True), req(1, 0, 50, 10, 5), req(2, 100, 0, 0, 0, error="http_500"),
               req(3, 110, 0, 0, 0, error="http_500"), req(4, 120, 0, 0, 0, error="timeout")]
    m = compute(run(results))
    assert m.ttft_s is not None and m.ttft_s.count == 1 and m.ttft_s.p50 == pytest.approx(0.05)
    assert (m.requests_ok, m.requests_failed, m.requests_warmup) == (1, 3, 1)
    assert m.errors == {"http_500": 2, "timeout": 1}


def test_client_lag_is_actual_minus_intended() -> None:
    m = compute(run([req(0, 12, 50, 10, 3, intended_ms=10), req(1, 100, 50, 10, 3, intended_ms=100)]))
    assert m.client_lag_s is not None and m.client_lag_s.p50 == pytest.approx(0.001)


def test_token_count_source_is_recorded() -> None:
    assert compute(run([req(0, 0, 5, 1, 3)])).token_count_source == "usage"
    assert compute(run([req(0, 0, 5, 1, 3, usage=False)])).token_count_source == "chunks"
    assert compute(run([req(0, 0, 5, 1, 3), req(1, 1, 5, 1, 3, usage=False)])).token_count_source == "mixed"


def test_steady_state_throughput_excludes_drain_and_matches_the_true_rate() -> None:
    # 4 streams in flight, each 100 tokens at 10 ms/token (TTFT 0): true rate 4 x 100 tokens/s = 400 tokens/s.
    # Closed loop: each slot resends when its request ends; 3 waves, staggered by 1 ms.
    results, i = [], 0
    for slot in range(4):
        t = float(slot)
        for _wave in range(3):
            r = req(i, t, 0.0, 10.0, 100)
            results.append(r)
            t = r.done_ns / MS
            i += 1
    m = compute(run(results, concurrency=4))
    assert m.output_tokens_per_s == pytest.approx(400, rel=0.03)
    assert m.requests_per_s == pytest.approx(4 / 1.0, rel=0.05)  # 4 streams of ~1 s each


def test_short_run_at_full_concurrency_still_reports_the_working_rate() -> None:
    # 8 requests sent together, each 10 tokens at 10 ms; counting completions in the window would say 1 request
    results = [req(i, 0, 0, 10, 10) for i in range(8)]
    window = steady_window(results)
    assert window is not None
    m = compute(run(results, concurrency=8))
    assert m.output_tokens_per_s == pytest.approx(8 * 10 / 0.091, rel=0.01)  # window: first send -> first done
    assert m.requests_per_s == pytest.approx(8 / 0.091, rel=0.05)


def test_goodput_counts_only_requests_meeting_every_slo() -> None:
    results = [req(i, 0, ttft, 10, 10) for i, ttft in enumerate([10, 10, 300, 300])]
    slo = Slo(ttft_s=0.1)
    m = compute(run(results, concurrency=4), slo)
    assert m.slo_attainment == 0.5
    assert m.goodput_requests_per_s is not None and m.requests_per_s is not None
    assert 0 < m.goodput_requests_per_s < m.requests_per_s
    assert compute(run(results, concurrency=4)).goodput_requests_per_s is None  # no SLO given: not measured


def test_slo_tpot_is_vacuous_for_one_token_but_failures_never_meet_it() -> None:
    slo = Slo(tpot_s=0.001)
    assert slo.met(req(0, 0, 5, 10, 1))
    assert not slo.met(req(0, 0, 5, 10, 2))
    assert not Slo(ttft_s=10).met(req(0, 0, 0, 0, 0, error="timeout"))


def test_numpy_is_linear_by_default_here_too() -> None:
    a = np.arange(11.0)
    s = summarize(a)
    assert s is not None and s.p95 == pytest.approx(9.5)


# -- client-bound levels -------------------------------------------------------------------------------
def _with_clients(*clients: ClientUse) -> LevelRun:
    base = run([req(i, i * 10, 20, 5, 4) for i in range(20)])  # TTFT 20 ms
    return dataclasses.replace(base, clients=clients)


@pytest.mark.parametrize(("clients", "bound", "words"), [
    ((ClientUse(0.1, 1.0, (30_000,) * 100),), False, None),  # 10 % of a core, 30 us turns
    ((ClientUse(0.95, 1.0, (30_000,) * 100),), True, "used 95% of a CPU core"),
    ((ClientUse(0.3, 1.0, (30_000,) * 80 + (3 * MS,) * 20),), True, "event loop took 3.00 ms"),  # p90 3 ms >= 2 ms
    ((ClientUse(0.3, 1.0, (30_000,) * 95 + (3 * MS,) * 5),), False, None),  # the same late turns, but under 10 %
    ((ClientUse(0.1, 1.0), ClientUse(0.93, 1.0)), True, "client 2 of 2 used 93%"),
])
def test_a_level_is_client_bound_when_the_client_is_saturated(clients: tuple[ClientUse, ...], bound: bool,
                                                               words: str | None) -> None:
    m = compute(_with_clients(*clients))
    assert m.client_bound is bound
    assert (m.client_bound_reason is None) is (not bound)
    if words:
        assert words in (m.client_bound_reason or "") and "--workers" in (m.client_bound_reason or "")
    assert m.clients == len(clients)
    assert m.client_cpu_share == pytest.approx(max(c.cpu_s / c.wall_s for c in clients))

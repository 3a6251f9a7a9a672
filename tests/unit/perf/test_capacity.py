"""The highest rate a deployment sustains under p99 constraints (MLPerf's Server figure), and the "server" rows."""

from __future__ import annotations

import pydantic
import pytest

from tcobench.catalog import load_catalog
from tcobench.perf import validate
from tcobench.perf.capacity import highest_rate
from tcobench.perf.serving import Scheduler, ServingResult, Slo, p99_meets, serve
from tcobench.perf.steps import LinearSteps
from tcobench.perf.traffic import Traffic

COST = LinearSteps(base=0.01, per_seq=0.0004, per_token=0.00005)  # seconds per step: 10 ms + 0.4 ms a sequence + ...
SCHED = Scheduler(2048, 128, 1e9)


def _at(rate: float) -> ServingResult:
    return serve(COST, Traffic.open("poisson", rate, 3000, 200, 100), SCHED, Slo(0.5, 0.05))


def _passes(rate: float, slo: Slo) -> bool:
    r = _at(rate)
    return not r.saturated and p99_meets(r, slo)


@pytest.mark.parametrize("guess", [0.5, 8.0, 500.0])
def test_the_rate_found_passes_and_one_a_little_above_it_fails_from_any_guess(guess: float) -> None:
    slo = Slo(0.5, 0.05)
    cap = highest_rate(_at, slo, guess)
    assert cap is not None
    assert _passes(cap.rate, slo) and not _passes(cap.failing_rate, slo)
    assert cap.rate < cap.failing_rate <= cap.rate * 1.01 + 1e-12
    assert p99_meets(cap.result, slo) and cap.result.offered_rate == pytest.approx(cap.rate)


def test_a_tighter_constraint_sustains_a_lower_rate() -> None:
    loose = highest_rate(_at, Slo(0.5, 0.05), 8.0)
    tight = highest_rate(_at, Slo(0.5, 0.03), 8.0)
    assert loose is not None and tight is not None
    assert tight.rate < loose.rate


def test_a_constraint_no_rate_meets_gives_none() -> None:
    assert highest_rate(_at, Slo(0.001, None), 8.0) is None  # one step alone takes 10 ms


def test_server_rows_carry_their_constraints_and_metric() -> None:
    rows = [r for r in validate.load_rows() if r.phase == "server"]
    assert len(rows) >= 9
    for r in rows:
        assert r.metric == "server_output_tokens_per_s" and r.slo_ttft == 2.0 and r.slo_tpot == 0.2, r.id
        # v4.0 (Intel's Gaudi 2) and v4.1 only: v5.0 and v5.1 are kept aside
        assert ("v4.1" in r.source or "v4.0" in r.source) and "Server" in r.source and "v5." not in r.source, r.id


@pytest.mark.parametrize("fields", [{"phase": "server"},  # no constraint, the default metric
                                    {"phase": "server", "metric": "server_output_tokens_per_s"},  # no constraint
                                    {"metric": "server_output_tokens_per_s", "slo_ttft": 2.0}])  # not a server row
def test_a_server_row_without_its_constraints_or_metric_is_refused(fields: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        validate.Row(id="r", ref="X", model="llama-2-70b", hardware="h200-sxm", **fields)


def test_a_server_rows_figure_is_the_replicas_times_one_replica_at_the_highest_passing_rate() -> None:
    (o,) = validate.run(load_catalog(), rows=["mlperf41-h200x8-server"])
    p = o.prediction
    assert p is not None and p.serving is not None and o.predicted is not None
    s = p.serving
    assert p.replicas == 8 and s.replicas == 1
    assert o.predicted == pytest.approx(s.output_tokens_per_s * 8)
    assert s.ttft_s["p99"] <= 2.0 and s.tpot_s["p99"] <= 0.2 and not s.saturated
    # the rate found is where the constraints bind: 5 % more fails them (or saturates the replica)
    from tcobench.perf.predict import predict

    cat = load_catalog()
    over = predict(cat.get_model("llama-2-70b"), cat.get_hardware("h200-sxm"), chips=1, batch=896, input_len=222,
                   output_len=291, precision="fp8", runtime="trtllm", catalog=cat, max_seqs=896, max_batched_tokens=8192,
                   traffic=Traffic.open("poisson", s.offered_rate * 1.05, validate.SERVER_REQUESTS, 222, 291),
                   slo_ttft=2.0, slo_tpot=0.2).serving
    assert over is not None and (over.saturated or not p99_meets(over, Slo(2.0, 0.2)))
    assert "--rate" in validate.predict_command(o.row, s) and "--max-seqs 896" in validate.predict_command(o.row, s)

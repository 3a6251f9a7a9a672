"""The serving stack's own time outside the engine (a runtime's ``frontend`` and ``held_streams``), as the simulation adds it."""

from __future__ import annotations

import numpy as np
import pytest

import tcobench
from tcobench.errors import InputError
from tcobench.perf.serving import Scheduler, delivered, serve, simulate
from tcobench.perf.steps import LinearSteps
from tcobench.perf.traffic import Traffic

STEPS = LinearSteps(0.002, 0.0003, 0.0001)  # a small CPU-like profile (seconds)
SCHED = Scheduler(2048, 16, 262_144.0)


def test_the_front_end_delays_every_token_and_a_held_stream_comes_whole_at_its_end() -> None:
    traffic = Traffic.open("poisson", 3.0, 400, 64, 128, seed=5)
    t = simulate(STEPS, traffic, SCHED)
    d = delivered(t, 0.004, 0.25)
    np.testing.assert_allclose(d.done - t.done, 0.004)
    held = d.first == d.done
    assert held.sum() == 100  # every fourth request, evenly spread
    assert np.array_equal(np.flatnonzero(held), np.arange(3, 400, 4))
    np.testing.assert_allclose((d.first - t.first)[~held], 0.004)
    # the engine's steps are the same, so the ITL distribution is too
    assert np.array_equal(d.step_s, t.step_s)


def test_serve_reports_the_front_end_it_added() -> None:
    traffic = Traffic.open("poisson", 3.0, 400, 64, 128, seed=5)
    engine, client = serve(STEPS, traffic, SCHED), serve(STEPS, traffic, SCHED, frontend_s=0.004, held_share=0.02)
    assert client.e2e_s["p50"] == pytest.approx(engine.e2e_s["p50"] + 0.004, rel=1e-9)
    assert client.ttft_s["p50"] == pytest.approx(engine.ttft_s["p50"] + 0.004, rel=0.02)  # 2 % of TTFTs moved up
    assert client.ttft_s["p99"] > 0.9 * engine.e2e_s["p50"]  # 2 % of streams held whole: the p99 is an E2E
    assert client.to_dict()["frontend_s"] == 0.004 and client.to_dict()["held_share"] == 0.02
    assert engine.frontend_s == 0.0 and engine.held_share == 0.0


@pytest.mark.parametrize(("frontend", "held"), [(-0.001, 0.0), (float("nan"), 0.0), (0.0, 1.5), (0.0, -0.1)])
def test_a_front_end_out_of_range_is_refused(frontend: float, held: float) -> None:
    t = simulate(STEPS, Traffic.open("poisson", 1.0, 10, 64, 8), SCHED)
    with pytest.raises(InputError):
        delivered(t, frontend, held)


def test_predict_adds_the_runtimes_measured_front_end_and_says_so() -> None:
    kw = dict(model="llama-3.1-8b", hardware="h100-sxm", input_len=500, output_len=100, rate=5.0, requests=300)
    plain = tcobench.predict(**kw).serving  # type: ignore[arg-type]
    cpu = tcobench.predict(**kw, runtime="vllm-cpu-0.32").serving  # type: ignore[arg-type]
    stack = tcobench.load_catalog().get_runtime("vllm-cpu-0.32")
    assert plain is not None and cpu is not None and stack.frontend is not None and stack.held_streams is not None
    assert cpu.frontend_s == stack.frontend.value and cpu.held_share == stack.held_streams.value
    assert cpu.e2e_s["p50"] == pytest.approx(plain.e2e_s["p50"] + stack.frontend.value, rel=1e-3)
    assert any("vllm-cpu-0.32" in n and "measured" in n for n in cpu.notes)
    assert any("not in these latencies" in n for n in plain.notes)

"""Recompute preemption in the serving simulator (Scheduler.preempt): admit on the prompt, grow the KV cache a token
per decoding sequence per step, preempt the newest running request when it is full (vLLM V1's policy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest

import tcobench
from tcobench.perf.serving import Scheduler, serve, simulate
from tcobench.perf.steps import LinearSteps
from tcobench.perf.traffic import Traffic

COST = LinearSteps(base=0.004, per_seq=0.0003, per_token=0.00002)


def _mixed(n: int = 400, seed: int = 3) -> Traffic:
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.exponential(1 / 30.0, n))
    return Traffic(rng.integers(1, 5000, n), rng.integers(1, 600, n), times - times[0], None, "mixed", 30.0)


@dataclass
class Spy:
    """A step cost that keeps the largest KV the decoding sequences hold after a step (their summed contexts)."""

    inner: LinearSteps
    most: list[float] = field(default_factory=lambda: [0.0])

    def step(self, decodes: int, context: float, chunks: Sequence[tuple[int, int]], ending: int) -> float:
        self.most[0] = max(self.most[0], context)
        return self.inner.step(decodes, context, chunks, ending)

    def decode_run(self, decodes: int, contexts: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
        self.most[0] = max(self.most[0], float(np.max(contexts)))
        return self.inner.decode_run(decodes, contexts)


def test_with_room_to_spare_preemption_changes_nothing() -> None:
    traffic = Traffic.open("poisson", 20.0, 300, 700, 120)
    a = simulate(COST, traffic, Scheduler(2048, 64, 1e9))
    b = simulate(COST, traffic, Scheduler(2048, 64, 1e9, preempt=True))
    assert b.preemptions == 0 and a.steps == b.steps
    for key in ("admitted", "first", "done"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))


def test_a_full_cache_preempts_and_the_fast_path_still_gives_the_plain_loops_timeline() -> None:
    sched = Scheduler(2048, 64, 12_000.0, preempt=True)
    fast, plain = simulate(COST, _mixed(), sched), simulate(COST, _mixed(), sched, runs=False)
    assert fast.preemptions > 0 and fast.preemptions == plain.preemptions and fast.steps == plain.steps
    for key in ("admitted", "first", "done"):
        np.testing.assert_allclose(getattr(fast, key), getattr(plain, key), rtol=1e-9, atol=1e-12)
    assert np.all(np.isfinite(fast.done))
    assert np.all(fast.arrival <= fast.admitted) and np.all(fast.admitted < fast.first) and np.all(fast.first <= fast.done)


def test_the_decoding_sequences_never_hold_more_than_the_cache() -> None:
    spy = Spy(COST)
    simulate(spy, _mixed(), Scheduler(2048, 64, 12_000.0, preempt=True))  # type: ignore[arg-type]
    assert 0.8 * 12_000 < spy.most[0] <= 12_000  # the limit binds, and holds


def test_admitting_on_the_prompt_runs_more_at_once_and_queues_less_than_admitting_on_the_whole_context() -> None:
    traffic = Traffic.open("poisson", 6.0, 1500, 2000, 1000)
    whole = serve(COST, traffic, Scheduler(8192, 256, 60_000.0))
    pre = serve(COST, traffic, Scheduler(8192, 256, 60_000.0, preempt=True))
    assert pre.preemptions > 0 and whole.preemptions == 0
    assert pre.mean_running > whole.mean_running
    assert pre.queue_s["p50"] < whole.queue_s["p50"]


def test_predict_and_the_command_take_it() -> None:
    kw = {"tp": 2, "precision": "fp8", "input_len": 2000, "output_len": 1000, "rate": 3, "requests": 1000}
    p = tcobench.predict("llama-3.1-70b", "h100-sxm", preempt=True, **kw)  # type: ignore[arg-type]
    assert p.serving is not None and "recompute preemption" in p.serving.notes[0]
    assert p.serving.to_dict()["preemptions"] == p.serving.preemptions


def test_the_flag_prints_the_preemptions(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("predict", "--model", "llama-3.1-70b", "--hardware", "h100-sxm", "--tp", "2", "--precision", "fp8",
            "--input-len", "2000", "--output-len", "1000", "--rate", "3", "--requests", "2000", "--preemption")
    assert r.code == 0, r.err
    assert "preemptions (recomputed)" in " ".join(r.out.split()) and "note: recompute preemption" in r.out


@pytest.mark.parametrize("preempt", [False, True])
def test_every_request_finishes_with_all_its_tokens_in_a_closed_loop(preempt: bool) -> None:
    t = simulate(COST, Traffic.closed(48, 400, 1500, 300), Scheduler(2048, 64, 30_000.0, preempt=preempt))
    assert np.all(np.isfinite(t.done)) and np.all(t.first <= t.done)

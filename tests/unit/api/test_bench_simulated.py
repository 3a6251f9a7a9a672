"""A bench level's prediction carries the serving simulation of the level's own load (issue 23)."""

from __future__ import annotations

from types import SimpleNamespace

from tcobench.api.endpoint import predicted_for
from tcobench.catalog import load_catalog
from tcobench.perf import predict
from tcobench.perf.traffic import Traffic

CAT = load_catalog()
MODEL, HW = CAT.get_model("llama-3.1-8b"), CAT.get_hardware("h100-sxm")


def _level(**load: object) -> SimpleNamespace:  # the LevelMetrics fields predicted_for reads
    base = {"requests_ok": 400, "input_tokens": 400 * 1000, "output_tokens": 400 * 200, "concurrency": None, "rate": None,
            "arrival": None, "requests_per_s": None, "e2e_s": None}
    return SimpleNamespace(**{**base, **load})


def test_a_rate_level_is_simulated_at_its_rate_arrivals_and_request_count() -> None:
    got = predicted_for(CAT, MODEL, HW, 1, 1, _level(rate=20.0, arrival="poisson", requests_per_s=20.0,
                                                      e2e_s=SimpleNamespace(mean=3.0)), "bf16")  # type: ignore[arg-type]
    sim = got["serving"]
    want = predict(MODEL, HW, batch=1, input_len=1000, output_len=200, catalog=CAT,
                   traffic=Traffic.open("poisson", 20.0, 400, 1000, 200)).serving
    assert want is not None and sim["requests"] == 400 and "20 requests/s, poisson" in sim["traffic"]
    assert sim["ttft_s"] == want.ttft_s and sim["tpot_s"] == want.tpot_s and sim["saturated"] is want.saturated
    assert sim["scheduler"]["max_seqs"] == 256


def test_a_concurrency_level_is_a_closed_loop_and_more_load_costs_latency() -> None:
    low = predicted_for(CAT, MODEL, HW, 1, 1, _level(concurrency=4), "bf16")["serving"]  # type: ignore[arg-type]
    high = predicted_for(CAT, MODEL, HW, 1, 1, _level(concurrency=64), "bf16")["serving"]  # type: ignore[arg-type]
    assert "closed loop" in low["traffic"] and low["requests"] == 400
    assert high["tpot_s"]["p50"] > low["tpot_s"]["p50"] and high["output_tokens_per_s"] > low["output_tokens_per_s"]


def test_a_level_the_simulator_cannot_run_says_why() -> None:
    big = _level(rate=5.0, arrival="poisson", input_tokens=400 * 600_000)  # 600k-token prompts: past the KV cache
    got = predicted_for(CAT, MODEL, HW, 1, 1, big, "bf16")  # type: ignore[arg-type]
    assert "KV cache" in got["serving"]["error"]

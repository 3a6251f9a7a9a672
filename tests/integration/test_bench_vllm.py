"""``tcobench bench`` against a real server: vLLM's CPU build serving a tiny local model.

Started once per session by the ``vllm_server`` fixture (about 30 s); these tests take a few seconds each.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.servers.vllm import MODEL_NAME

pytestmark = pytest.mark.server


def settled_metrics(server: object, before: dict[str, float], expected: dict[str, float],
                    timeout_s: float = 30.0) -> dict[str, float]:
    """The server's metrics once every counter in ``expected`` has grown by its expected amount since
    ``before``, or after ``timeout_s`` (then the caller's assertions report the shortfall)."""
    deadline = time.monotonic() + timeout_s
    while True:
        after: dict[str, float] = server.metrics()  # type: ignore[attr-defined]
        grown = all(after.get(k, 0.0) - before.get(k, 0.0) >= v for k, v in expected.items())
        if grown or time.monotonic() > deadline:
            return after
        time.sleep(0.1)


def changed_counters(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Every ``*_total`` counter that moved: the context an assertion on one of them prints."""
    return {k: v - before.get(k, 0.0) for k, v in after.items() if k.endswith("_total") and v != before.get(k, 0.0)}


def test_concurrency_sweep_counts_from_usage_batching_visible_and_agrees_with_vllm_metrics(
        vllm_server: object, bench_cli: Callable[..., object]) -> None:
    # vLLM's CPU build on 2 shared cores sometimes serves concurrent requests one at a time (1.5 engine
    # tokens per step at c=8, for urllib threads as well as for tcobench: docs/bench.md) until a burst of
    # concurrent work; that is the server's state, not the client's. So prime it with unmeasured c=8 runs
    # until its own histogram shows batched steps (at most 8 tries, about 3 s each; if it never batches,
    # the test fails below and names the priming runs' tokens per step), then measure c=8 and c=1.
    priming: list[float] = []
    for _ in range(8):
        before = vllm_server.metrics()  # type: ignore[attr-defined]
        bench_cli("--url", vllm_server.url, "--model", MODEL_NAME, "--api", "completions", "--concurrency", "8",  # type: ignore[attr-defined]
                  "--num-requests", "16", "--input-len", "32", "--output-len", "64", "--warmup", "0", "--json", "--quiet",
                  "--no-save")
        # settled, so that the measured level's `before` holds none of these requests' late counts
        after = settled_metrics(vllm_server, before, {"vllm:request_success_total": 16})
        primed = ((after["vllm:iteration_tokens_total_sum"] - before.get("vllm:iteration_tokens_total_sum", 0.0))
                  / (after["vllm:iteration_tokens_total_count"] - before.get("vllm:iteration_tokens_total_count", 0.0)))
        priming.append(round(primed, 2))
        if primed > 4:
            break
    levels, details, steps = [], [], []
    # long streams (384 tokens, ~1 s each alone), so that even an API process slow to admit requests on
    # 2 shared cores has all eight in flight together
    requests = {"8": 16, "1": 6}
    for concurrency in ("8", "1"):  # one level per call, so vLLM's counters can be read between levels
        before = vllm_server.metrics()  # type: ignore[attr-defined]
        r = bench_cli("--url", vllm_server.url, "--model", MODEL_NAME, "--api", "completions",  # type: ignore[attr-defined]
                      "--concurrency", concurrency, "--num-requests", str(requests[concurrency]), "--input-len", "32",
                      "--output-len", "384", "--warmup", "0", "--price-hour", "$1/h", "--json", "--quiet")
        assert r.exit_code == 0, r.stderr  # type: ignore[attr-defined]
        level, detail = r.json["levels"][0], r.json["details"][0]  # type: ignore[attr-defined]
        # a scrape right after the last response can miss the last requests' counts (seen: 15 of 16 after
        # no wait), so wait up to 30 s for all three counters; on a shortfall say what the client saw and
        # every counter that moved (that is how CI's "13 of 16" turned out to be requests lost on keep-alive
        # connections the server had closed, which the transport now sends again on a new connection)
        client = {"vllm:generation_tokens_total": level["output_tokens"], "vllm:prompt_tokens_total": detail["input_tokens"],
                  "vllm:request_success_total": requests[concurrency]}
        after = settled_metrics(vllm_server, before, client)

        def delta(name: str, after: dict[str, float] = after, before: dict[str, float] = before) -> float:
            return after.get(name, 0.0) - before.get(name, 0.0)

        # what the client counted is what the server says it did
        server = {k: delta(k) for k in client}
        assert server == client, (f"concurrency {concurrency}: client ok/failed {level['requests_ok']}/{level['requests_failed']} "
                                  f"{level['errors']}; counters that moved {changed_counters(before, after)}")
        # tokens the engine processed per step (prompt and generated), from its own histogram
        steps.append(delta("vllm:iteration_tokens_total_sum") / delta("vllm:iteration_tokens_total_count"))
        levels.append(level)
        details.append(detail)
    for lv, n in zip(levels, (16, 6), strict=True):  # measured c=8 first
        assert (lv["requests_ok"], lv["requests_failed"]) == (n, 0)
        assert lv["token_count_source"] == "usage"
        assert lv["output_tokens"] == n * 384  # ignore_eos + min_tokens pinned the length
        assert lv["ttft_s"]["p50"] > 0 and lv["e2e_s"]["p50"] >= lv["ttft_s"]["p50"]
        assert lv["usd_per_1m_output_tokens"] > 0
    levels, details, steps = levels[::-1], details[::-1], steps[::-1]  # c=1 first from here on
    naive = [d["naive_output_tokens_per_s"] for d in details]
    print("engine tokens per step at c=1, c=8:", steps, "; output tokens/s (first send -> last finish):", naive)
    # continuous batching, seen by the engine itself: at 8 concurrent streams steps carry several sequences
    # (c=1: 1.08 tokens a step, prompt steps included; c=8 measured 2.5 to 8.6 in three runs: the low end
    # when the server slips back into one-at-a-time for part of the level)
    assert steps[1] > 1.3 * steps[0], f"tokens per step at c=1, c=8: {steps}; in the priming runs: {priming}"
    # and so more tokens/s (1.8x to 4.1x in the same three runs on the 2-core development machine)
    assert naive[1] > 1.2 * naive[0], naive


def test_chat_open_loop_against_vllm(vllm_server: object, bench_cli: Callable[..., object]) -> None:
    r = bench_cli("--url", vllm_server.url + "/v1", "--model", MODEL_NAME, "--api", "chat",  # type: ignore[attr-defined]
                  "--rate", "8", "--arrival", "constant", "--num-requests", "12", "--input-len", "16",
                  "--output-len", "16", "--warmup", "2", "--slo-e2e", "30s", "--json", "--quiet")
    lv, detail = r.json["levels"][0], r.json["details"][0]  # type: ignore[attr-defined]
    assert lv["rate"] == 8 and lv["requests_ok"] == 12 and lv["output_tokens"] == 12 * 16
    assert detail["requests_warmup"] == 2
    assert lv["goodput_requests_per_s"] == pytest.approx(lv["requests_per_s"])
    assert 0 <= lv["client_lag_s"]["p50"] < 0.05


def test_wrong_model_name_is_an_http_404_per_request(vllm_server: object, bench_cli: Callable[..., object]) -> None:
    r = bench_cli("--url", vllm_server.url, "--model", "no-such-model", "--num-requests", "2",  # type: ignore[attr-defined]
                  "--warmup", "0", "--json", "--quiet")
    assert r.json["levels"][0]["errors"] == {"http_404": 2}  # type: ignore[attr-defined]

"""Claimed vs predicted vs measured on one row: ``bench`` against vLLM's CPU build with the prediction beside it,
from a profile of this CPU probed and calibrated on the served model's own architecture (issue 22, item 5)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.servers.vllm import MODEL_NAME

pytestmark = pytest.mark.server


def test_bench_prints_the_calibrated_prediction_beside_vllm(vllm_server: object, bench_cli: Callable[..., object],
                                                            tmp_path: Path) -> None:
    pytest.importorskip("torch")
    import tcobench

    model_dir = str(vllm_server.model_dir)  # type: ignore[attr-defined]
    tcobench.probe(device="cpu", output=tmp_path / "cpu.toml", quick=True, hardware_id="bench-host-cpu")
    m = tcobench.measure(model_dir, hardware=str(tmp_path / "cpu.toml"), batch="1,4", context="64,192",
                         prefill="16,64,128", budget=0.02, rounds=1)
    run = m.to_run("test", {"model": model_dir, "hardware": str(tmp_path / "cpu.toml")})
    run = type(run)(**{**{k: getattr(run, k) for k in ("command", "provenance", "inputs", "outputs", "tool_version")},
                       "id": 1})
    tcobench.calibrate([run], holdout=0, output=tmp_path / "calibrated.toml")

    args = ("--url", vllm_server.url, "--model", MODEL_NAME, "--api", "completions", "--concurrency", "1",  # type: ignore[attr-defined]
            "--num-requests", "4", "--input-len", "32", "--output-len", "16", "--warmup", "1", "--quiet", "--no-save",
            "--hardware", str(tmp_path / "calibrated.toml"), "--model-spec", model_dir, "--precision", "fp32")
    shown = bench_cli(*args)
    assert shown.exit_code == 0, shown.stderr  # type: ignore[attr-defined]
    header = next(line for line in shown.stdout.splitlines() if "TTFT p50 ms" in line)  # type: ignore[attr-defined]
    assert "pred TTFT ms" in header and "pred TPOT ms" in header
    assert "in fp32 at each level's concurrency" in shown.stdout  # type: ignore[attr-defined]
    assert "simulated at each level's load" in shown.stdout  # type: ignore[attr-defined]  # the serving simulation too
    doc = json.loads(bench_cli(*args, "--json").stdout)  # type: ignore[attr-defined]
    level, detail = doc["levels"][0], doc["details"][0]
    pred = detail["predicted"]
    assert pred["hardware"] == "bench-host-cpu-calibrated" and pred["precision"] == "fp32" and pred["batch"] == 1
    assert pred["ttft_s"] > 0 and pred["tpot_s"] > 0
    sim = pred["serving"]  # the level's own load (a closed loop of 1, its 4 requests) through the serving simulator
    assert sim["requests"] == 4 and "closed loop" in sim["traffic"] and sim["ttft_s"]["p50"] > 0
    # measured beside it; vLLM's CPU build at times sends a request's tokens in one burst, which measures a TPOT of
    # exactly 0 (docs/bench.md): the request still took its time end to end
    assert level["ttft_s"]["p50"] > 0 and level["tpot_s"]["p50"] >= 0 and level["e2e_s"]["p50"] >= level["ttft_s"]["p50"]
    assert detail.get("usd_per_hour_low") is None  # a probed chip has no price: the prediction comes alone

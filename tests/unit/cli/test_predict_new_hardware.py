"""predict on multi-card Gaudi (a scale-up tier is known now) and on the newest chips, as a user runs it."""

import json

import pytest


def _predict(cli, *args: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    r = cli("predict", "--model", "llama-3.1-70b", *args, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)  # type: ignore[no-any-return]


@pytest.mark.parametrize(("hw", "tp"), [("gaudi3", 8), ("gaudi2", 4), ("gaudi2", 8)])
def test_multi_card_gaudi_runs_on_its_scale_up_tier(cli, hw: str, tp: int) -> None:
    doc = _predict(cli, "--hardware", hw, "--tp", str(tp), "--precision", "bf16")
    # before the Gaudi links had a domain this was "no interconnect bandwidth is known for this group size"
    assert doc["reason"] is None, doc["reason"]
    assert doc["tp"] == tp and doc["chips"] == tp and doc["memory"]["fits"]
    assert doc["output_tokens_per_s"] > 0 and doc["ttft_s"] > 0


def test_gaudi3_tensor_parallel_all_reduce_uses_the_21_port_tier(cli) -> None:
    # TP=8 stays inside the 8-card node: faster prefill than TP=4 would allow if the tier were missing
    eight = _predict(cli, "--hardware", "gaudi3", "--tp", "8", "--precision", "bf16")
    four = _predict(cli, "--hardware", "gaudi3", "--tp", "4", "--precision", "bf16")
    assert eight["reason"] is None and four["reason"] is None
    assert eight["ttft_s"] < four["ttft_s"]


@pytest.mark.parametrize(("hw", "precision"), [("gb300", "fp4"), ("gb300", "fp8"), ("mi355x", "fp8"), ("mi355x", "fp4"),
                                               ("tpu-v7", "fp8"), ("tpu-v7", "bf16")])
def test_newest_chips_predict_a_70b_model_on_one_chip(cli, hw: str, precision: str) -> None:
    doc = _predict(cli, "--hardware", hw, "--precision", precision)
    assert doc["reason"] is None, doc["reason"]
    assert doc["chips"] == 1 and doc["memory"]["fits"]
    assert doc["output_tokens_per_s"] > 0


def test_cs3_without_a_dense_peak_says_which_input_is_missing(cli) -> None:
    r = cli("predict", "--model", "llama-3.1-70b", "--hardware", "cs-3", "--precision", "fp16")
    assert r.code != 0
    assert "cs-3 has no peak_dense.fp16" in r.err and "Traceback" not in r.err

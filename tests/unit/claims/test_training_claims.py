"""Training claims: MFU at 6 FLOP per parameter, scaling efficiency, time to train from the training model, and the
utilization kind telling training from inference."""

from __future__ import annotations

import pytest

from tcobench.catalog.params import count_params


def test_eos_scaling_efficiency_is_the_speedup_over_the_chip_ratio(builtin) -> None:
    r = builtin["nvidia-eos-gpt3-scaling-93"]
    assert r.derived_value == pytest.approx(100 * (10.94 * 3584) / (3.92 * 10752), rel=1e-9)
    assert str(r.verdict) == "consistent"


def test_palm_mfu_at_six_flop_per_parameter(builtin, catalog) -> None:
    n = count_params(catalog.get_model("palm-540b")).active
    peak = catalog.get_hardware("tpu-v4").figures()["peak_dense.bf16"].value
    r = builtin["palm-540b-mfu"]
    assert r.derived_value == pytest.approx(100 * 238300 * 6 * n / (6144 * peak), rel=1e-9)
    assert str(r.verdict) == "consistent"


def test_time_to_train_is_the_training_models(builtin, catalog) -> None:
    import tcobench

    r = builtin["llama2-7b-gpu-hours"]
    t = tcobench.train("llama-2-7b", "a100-sxm-80gb", chips=2048, tokens=2e12, seq_len=4096, global_batch=1024,
                       layout="auto")
    steps = 2e12 / (1024 * 4096)
    assert r.derived_value == pytest.approx(steps * t.training.step_time_s * 2048 / 3600, rel=1e-9)
    assert str(r.verdict) == "overstated"  # the published hours are 1.5x the model's ideal run (docs/training.md)


def test_utilization_says_training_or_inference(audit_text, catalog) -> None:
    claim = """
[claim.{id}]
statement = "x"
source = "t"
date = "2026"
kind = "utilization"
claimed = 40
unit = "percent"
model = "llama-2-7b"
hardware = "h100-sxm"
chips = 256
{workload}
inputs = {{ throughput = "3e6 token/s" }}
"""
    got, bad = audit_text(claim.format(id="train", workload='workload = "training"')
                          + claim.format(id="infer", workload=""))
    assert not bad
    assert got["train"].derived_value == pytest.approx(3 * got["infer"].derived_value, rel=1e-12)
    formulas = [s.formula for s in got["train"].trace]
    assert any("6 x parameters (training)" in f for f in formulas)
    assert not any("training" in s.formula for s in got["infer"].trace)

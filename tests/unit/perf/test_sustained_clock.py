"""Training runs its matmuls at the sustained, power-saturated rate where the catalog states one (efficiency.toml
``sustained_at``; docs/training.md, 'By chip'); inference keeps the short-loop rate."""

import dataclasses
import json
from pathlib import Path

import pytest

from tcobench.catalog import load_catalog
from tcobench.perf.efficiency import resolve
from tcobench.perf.train import train

CAT = load_catalog()
RESULTS = Path(__file__).parents[3] / "benchmarks" / "results" / "h100-sxm-2026-11-24.json"


def test_h100_sustained_bf16_is_its_own_longest_gemm_loops() -> None:
    # the two 8192-token GEMMs with a 28672-wide dimension are the longest loops of the H100 run (about 5.5 ms each)
    gemms = json.loads(RESULTS.read_text())["gemm"]
    longest = [g["flops"] / 989.4e12 for g in gemms
               if g["dtype"] == "bf16" and g["m"] == 8192 and 28672 in (g["n"], g["k"])]
    assert len(longest) == 2
    eff = resolve(CAT.get_hardware("h100-sxm"), CAT.efficiency)
    assert eff.sustained_at["bf16"] == pytest.approx(sum(longest) / 2, abs=0.01)
    assert eff.sustained_at["bf16"] < eff.compute_for("bf16")  # the short loops ran faster


def test_sustained_replaces_only_the_precisions_it_states() -> None:
    eff = resolve(CAT.get_hardware("h100-sxm"), CAT.efficiency)
    s = eff.sustained()
    assert s.compute_for("bf16") == eff.sustained_at["bf16"]
    assert s.compute_for("fp8") == eff.sustained_at["fp8"]
    assert s.compute_for("int8") == eff.compute_for("int8")  # not stated: the short-loop rate
    assert s.sources["compute_at.bf16"] == eff.sources["sustained_at.bf16"]
    a100 = resolve(CAT.get_hardware("a100-sxm-80gb"), CAT.efficiency)  # its 'compute' is already a sustained figure
    assert a100.sustained_at == {} and a100.sustained() is a100


def test_a_training_step_slows_by_the_ratio_of_the_rates_where_matmuls_bound_it() -> None:
    h100 = CAT.get_hardware("h100-sxm")
    eff = resolve(h100, CAT.efficiency)
    no_sustained = dataclasses.replace(CAT, efficiency={
        k: v.model_copy(update={"sustained_at": {}}) for k, v in CAT.efficiency.items()})
    fixed = {"tp": 1, "pp": 1, "dp": 8, "micro_batch": 2, "recompute": "none"}
    model = CAT.get_model("llama-2-7b")
    slow = train(model, h100, chips=8, seq_len=2048, global_batch=64, fixed=fixed, catalog=CAT)
    fast = train(model, h100, chips=8, seq_len=2048, global_batch=64, fixed=fixed, catalog=no_sustained)
    ratio = slow.step_time_s / fast.step_time_s
    # the step is mostly matmuls: it slows by nearly the rates' ratio (0.79 / 0.71), never by more
    assert 1.0 < ratio <= eff.compute_for("bf16") / eff.sustained_at["bf16"] + 1e-9
    assert ratio > 1.05

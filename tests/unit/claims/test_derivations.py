"""Derivations follow their inputs, and a claim that cannot be derived says exactly what is missing."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.unit.claims.samples import GOOD


def test_derived_value_follows_the_claims_input(audit_text) -> None:
    one, _ = audit_text(GOOD)
    two, _ = audit_text(GOOD.replace("74 TFLOP/s", "148 TFLOP/s"))
    assert two["good"].derived_value == pytest.approx(2 * one["good"].derived_value)
    assert two["good"].verdict == "understated"  # 211 claimed vs ~424 derived


def test_derived_value_follows_the_catalog(audit_text) -> None:
    a, _ = audit_text(GOOD)
    b, _ = audit_text(GOOD.replace('"gpt-3-175b"', '"llama-2-70b"'))
    assert b["good"].derived_value > 2 * a["good"].derived_value  # a smaller model: more tokens per FLOP


def test_missing_input_is_unverifiable_and_named(audit_text) -> None:
    results, invalid = audit_text(GOOD.replace('inputs = { achieved = "74 TFLOP/s" }', ""))
    r = results["good"]
    assert not invalid
    assert r.verdict == "unverifiable" and "missing input 'achieved'" in r.reason and r.derived_value is None


def test_missing_catalog_figure_is_unverifiable_and_named(audit_text) -> None:
    text = '''
[claim.nobw]
statement = "s"
source = "t"
date = "2024"
kind = "bandwidth"
claimed = 100
unit = "GB/s"
hardware = "cs-2"
link = "scale_out"
'''
    results, _ = audit_text(text)
    assert results["nobw"].verdict == "unverifiable"
    assert "cs-2.scale_out.bandwidth" in results["nobw"].reason


def test_unknown_catalog_id_is_a_precise_error(audit_text) -> None:
    results, _ = audit_text(GOOD.replace('"gpt-3-175b"', '"gpt3-175b"'))
    r = results["good"]
    assert r.verdict == "unverifiable" and r.error
    assert "did you mean 'gpt-3-175b'?" in r.reason


def test_wrong_unit_in_an_input_is_a_precise_error(audit_text) -> None:
    results, _ = audit_text(GOOD.replace("74 TFLOP/s", "74 TB/s"))
    r = results["good"]
    assert r.verdict == "unverifiable" and "claim.good.inputs.achieved" in r.reason and "FLOP/s" in r.reason


def test_claim_in_a_unit_of_another_dimension_is_unit_mismatch(audit_text) -> None:
    results, _ = audit_text(GOOD.replace('unit = "token/s"', 'unit = "FLOP/s"'))
    assert results["good"].verdict == "unit-mismatch"


def test_claim_unit_conversion(audit_text) -> None:
    results, _ = audit_text(GOOD.replace("claimed = 211", "claimed = 0.211").replace('"token/s"', '"ktoken/s"'))
    assert results["good"].derived_value == pytest.approx(0.2119, rel=1e-3)
    assert results["good"].verdict == "consistent"


def test_reference_to_a_builtin_claim(audit_text) -> None:
    text = '''
[claim.rebase]
statement = "s"
source = "t"
date = "2023"
kind = "rebased-ratio"
claimed = 94
unit = "1"
inputs = { baseline = "0.02 USD/ktoken", corrected_baseline = { claim = "seed-tco-per-1k-tokens" } }
'''
    results, _ = audit_text(text)
    assert results["rebase"].derived_value == pytest.approx(94 * (1 / (211 * 3.6)) / 0.02)


def test_reference_to_an_unverifiable_claim_is_unverifiable(audit_text) -> None:
    text = '''
[claim.nothing]
statement = "s"
source = "t"
date = "2023"
kind = "cost-per-tokens"
claimed = 0.001
unit = "USD/ktoken"
inputs = { throughput = "211 token/s" }

[claim.rebase]
statement = "s"
source = "t"
date = "2023"
kind = "rebased-ratio"
claimed = 15
unit = "1"
inputs = { baseline = "0.02 USD/ktoken", corrected_baseline = { claim = "nothing" } }
'''
    results, _ = audit_text(text)
    assert results["nothing"].verdict == "unverifiable"
    assert results["rebase"].verdict == "unverifiable"
    assert "nothing" in results["rebase"].reason


def test_reference_cycle_is_reported(audit_text) -> None:
    def claim(cid: str, other: str) -> str:
        return (f'\n[claim.{cid}]\nstatement = "s"\nsource = "t"\ndate = "2023"\nkind = "cost-per-tokens"\n'
                f'claimed = 1\nunit = "USD/ktoken"\ninputs = {{ price_per_hour = "1 USD/h", throughput = {{ claim = "{other}" }} }}\n')
    results, _ = audit_text(claim("a", "b") + claim("b", "a"))
    assert results["a"].verdict == "unverifiable" and "cycle" in results["a"].reason


def test_memory_fit_groq(builtin, catalog) -> None:
    from tcobench.catalog.params import count_params

    r = builtin["vendor-groq-llama2-70b-sram-fit"]
    sram = catalog.get_hardware("groq-lpu").figures()["memory.capacity"].value
    need = -(-count_params(catalog.get_model("llama-2-70b")).total * 2 // sram)  # fp16, ceil
    assert r.derived_value == need and need > 576  # fp16 weights do not fit in 576 x 230 MB
    assert r.verdict == "precision-mismatch" and "int8" in r.reason


def test_gb200_is_below_its_compute_bound(builtin) -> None:
    r = builtin["vendor-gb200-nvl72-865k"]
    assert r.verdict == "consistent" and r.ratio < 1
    implied = [s for s in r.trace if s.result.name == "implied utilisation"]
    assert implied and implied[0].result.value == pytest.approx(r.ratio)


def test_exascale_headline_is_sparse(builtin) -> None:
    r = builtin["vendor-andromeda-exascale"]
    assert r.verdict == "precision-mismatch" and "sparse" in r.reason


PERF = importlib.util.find_spec("tcobench.perf") is not None


@pytest.mark.xfail(not PERF, reason="performance model not available (tcobench.perf)", strict=False)
def test_prediction_claim_uses_the_performance_model(builtin) -> None:
    r = builtin["vendor-trtllm-llama2-70b-h100-tp2"]
    assert r.derived_value is not None and r.derived_value > 0, r.reason
    assert r.trace[-1].formula.startswith("perf.predict(llama-2-70b, h100-sxm")


def test_prediction_without_the_performance_model(audit_text, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tcobench.perf", None)  # import now raises ImportError
    text = '''
[claim.p]
statement = "s"
source = "t"
date = "2024"
kind = "prediction"
claimed = 2657
unit = "token/s"
model = "llama-2-70b"
hardware = "h100-sxm"
metric = "output_tokens_per_s_per_chip"
'''
    results, _ = audit_text(text)
    assert results["p"].verdict == "unverifiable"
    assert results["p"].reason.startswith("performance model not available")


def test_sparse_peak_per_dollar_is_a_precision_mismatch(audit_text) -> None:
    text = """
[claim.tenx]
statement = "a 4090 is 10x an A100 per dollar"
source = "t"
date = "2023"
kind = "spec-per-dollar"
claimed = 10
unit = "1"
hardware = "rtx-4090"
baseline = "a100-sxm-40gb"
metric = "peak_dense.bf16"
"""
    results, _ = audit_text(text)
    assert results["tenx"].verdict == "precision-mismatch" and "sparse" in results["tenx"].reason


def test_price_range_is_shown_as_context(builtin) -> None:
    r = builtin["seed-graphcore-pod16-perf-per-dollar"]
    low = [s for s in r.trace if s.context and "low" in s.result.name]
    assert low and low[0].result.value == pytest.approx(r.derived_value * 199_000 / 300_000)


@pytest.mark.xfail(not PERF, reason="performance model not available (tcobench.perf)", strict=False)
def test_a_prediction_claim_runs_on_the_runtime_it_names(builtin) -> None:
    r = builtin["vendor-trtllm-llama2-70b-h100-tp2"]
    assert "runtime=trtllm-0.6" in r.trace[-1].formula


@pytest.mark.xfail(not PERF, reason="performance model not available (tcobench.perf)", strict=False)
def test_an_unknown_runtime_in_a_claim_names_the_claim_field(audit_text) -> None:
    text = '''
[claim.p]
statement = "s"
source = "t"
date = "2024"
kind = "prediction"
claimed = 2657
unit = "token/s"
model = "llama-2-70b"
hardware = "h100-sxm"
chips = 2
precision = "fp8"
metric = "output_tokens_per_s_per_chip"
runtime = "trtllm-06"
inputs = { tp = 2, batch = 64, input_len = 128, output_len = 128 }
'''
    results, _ = audit_text(text)
    assert "claim.p.runtime" in results["p"].reason and "'trtllm-0.6'" in results["p"].reason, results["p"].reason

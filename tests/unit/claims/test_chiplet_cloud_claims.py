"""The Chiplet Cloud claims get verdicts with derivations: 94x (rebased on the A100 side) and 15x vs TPU v4 (both
chips served GPT-3 175B by the deployment search; PaLM's published TPU v4 rate as context)."""

from __future__ import annotations

import pytest

import tcobench
from tcobench.claims import ClaimResult

CLAIM = "vendor-chiplet-cloud-15x-tpu"


def test_tpu_v4_has_a_sourced_on_demand_rate() -> None:
    from tcobench.catalog import load_catalog

    cat = load_catalog()
    (rate,) = cat.get_hardware("tpu-v4").cloud
    assert rate.rate.value * 3600 == pytest.approx(3.22) and rate.date == "2022-08"
    assert cat.get_source(rate.source).url


def test_the_15x_claim_is_the_searchs_cost_ratio(builtin: dict[str, ClaimResult]) -> None:
    r = builtin[CLAIM]
    assert r.verdict != "unverifiable", r.reason
    c = tcobench.compare("gpt-3-175b", ["chiplet-cloud-die", "tpu-v4"], input_len=1000, output_len=1000, max_chips=4096)
    rows = {row.hardware: row for row in c.rows}
    chip, tpu = rows["chiplet-cloud-die"], rows["tpu-v4"]
    assert chip.usd_per_1m_output_tokens_own and tpu.usd_per_1m_output_tokens_rent, (chip, tpu)
    expected = tpu.usd_per_1m_output_tokens_rent[1] / chip.usd_per_1m_output_tokens_own[1]
    assert r.derived_value == pytest.approx(expected, rel=1e-9)
    assert r.verdict == ("consistent" if abs(15 / expected - 1) <= 0.1 else "overstated" if expected < 15 else "understated")


def test_palms_published_tpu_v4_rate_is_context_at_the_catalog_price(builtin: dict[str, ClaimResult]) -> None:
    steps = {s.result.name: s for s in builtin[CLAIM].trace}
    published = steps["published baseline $/1M output tokens"]
    assert published.context
    assert published.result.value == pytest.approx(3.22 / 3600 * 64 / (64 / 0.029) * 1e6, rel=1e-9)  # $25.9 per 1M


@pytest.mark.parametrize(("key", "value", "words"), [("max_chips", "0.5", "whole number"), ("input_len", "1e12", "whole number"),
                                                     ("max_chips", None, "missing input 'max_chips'")])
def test_a_search_cost_ratio_claim_with_a_bad_input_is_unverifiable_naming_it(audit_text, key, value, words) -> None:  # type: ignore[no-untyped-def]
    inputs = {"input_len": "1000", "output_len": "1000", "max_chips": "4096"}
    if value is None:
        del inputs[key]
    else:
        inputs[key] = value
    text = f'''
[claim.bad]
statement = "s"
source = "t"
date = "2023"
kind = "search-cost-ratio"
claimed = 15
unit = "1"
model = "gpt-3-175b"
hardware = "chiplet-cloud-die"
baseline = "tpu-v4"
inputs = {{ {", ".join(f"{k} = {v}" for k, v in inputs.items())} }}
'''
    results, invalid = audit_text(text)
    assert not invalid and results["bad"].verdict == "unverifiable" and words in results["bad"].reason

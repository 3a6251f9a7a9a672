"""The built-in seed claims: derived values recomputed here by hand from the catalog's figures."""

from __future__ import annotations

import pytest

from tcobench.claims.trace import CLAIM_INPUT, DEFAULT, DERIVED
from tcobench.catalog.params import count_params

SEED_IDS = ["seed-deepspeed-175b-throughput", "seed-tco-per-1k-tokens", "seed-chiplet-cloud-94x",
            "seed-18-tok-s-utilization", "seed-palm-table-d4", "seed-andromeda-vs-h100-pod", "seed-weight-reuse",
            "seed-cs2-stream-10tb", "seed-infiniband-vs-hbm", "seed-graphcore-pod16-perf-per-dollar", "seed-4090-vs-a100"]


def _fig(catalog, kind: str, rid: str, path: str) -> float:
    rec = {"hw": catalog.get_hardware, "sys": catalog.get_system}[kind](rid)
    return rec.figures()[path].value


def expected(catalog) -> dict[str, tuple[float, str]]:
    gpt3 = count_params(catalog.get_model("gpt-3-175b")).active
    tco = 1.0 / (211 * 3600) * 1000  # $ per 1k tokens at $1/h
    return {
        "seed-deepspeed-175b-throughput": (74e12 / (2 * gpt3), "consistent"),
        "seed-tco-per-1k-tokens": (tco, "consistent"),
        "seed-chiplet-cloud-94x": (94 * tco / 0.02, "overstated"),
        "seed-18-tok-s-utilization": (100 * 18 * 2 * gpt3 / _fig(catalog, "hw", "a100-sxm-80gb", "peak_dense.bf16"), "consistent"),
        "seed-palm-table-d4": (136 * 256 / 9.614 / 24, "consistent"),
        "seed-andromeda-vs-h100-pod": (256 * _fig(catalog, "hw", "h100-sxm", "peak_dense.bf16") / 1e15, "precision-mismatch"),
        "seed-weight-reuse": (1e9 / 200, "consistent"),
        "seed-cs2-stream-10tb": (10e12 / _fig(catalog, "hw", "cs-2", "external_io.bandwidth") / 60, "overstated"),
        "seed-infiniband-vs-hbm": (_fig(catalog, "hw", "h100-sxm", "scale_out.bandwidth") / 1e9, "unit-mismatch"),
        "seed-graphcore-pod16-perf-per-dollar": (
            21.69 * _fig(catalog, "sys", "dgx-a100", "price") / (34.49 * _fig(catalog, "sys", "ipu-pod16", "price")), "consistent"),
        "seed-4090-vs-a100": ((_fig(catalog, "hw", "rtx-4090", "peak_dense.bf16") / _fig(catalog, "hw", "rtx-4090", "price.purchase"))
                              / (_fig(catalog, "hw", "a100-sxm-40gb", "peak_dense.bf16") / _fig(catalog, "hw", "a100-sxm-40gb", "price.purchase")),
                              "consistent"),
    }


@pytest.mark.parametrize("cid", SEED_IDS)
def test_seed_claim_derived_value_and_verdict(cid: str, builtin, catalog) -> None:
    value, verdict = expected(catalog)[cid]
    r = builtin[cid]
    assert r.derived_value == pytest.approx(value, rel=1e-9)
    assert str(r.verdict) == verdict, r.reason
    assert r.ratio == pytest.approx(r.claimed_value / r.derived_value)


def test_worked_numbers_from_the_threads(builtin) -> None:
    """The hand-derived figures people quoted: ~211 tok/s, ~$0.0013/1k, 94x -> ~6.2x, ~2 %, ~253 PFLOPS, ~1 min."""
    assert builtin["seed-deepspeed-175b-throughput"].derived_value == pytest.approx(211, rel=0.01)
    assert builtin["seed-tco-per-1k-tokens"].derived_value == pytest.approx(0.0013, rel=0.02)
    assert builtin["seed-chiplet-cloud-94x"].derived_value == pytest.approx(6.2, rel=0.02)
    assert builtin["seed-18-tok-s-utilization"].derived_value == pytest.approx(2.0, rel=0.02)
    assert builtin["seed-andromeda-vs-h100-pod"].derived_value == pytest.approx(253, rel=0.01)
    assert 0.9 < builtin["seed-cs2-stream-10tb"].derived_value < 1.3  # minutes
    assert builtin["seed-graphcore-pod16-perf-per-dollar-resnet50"].derived_value == pytest.approx(1.56, rel=0.01)


def test_andromeda_vs_h100_names_fp8(builtin) -> None:
    assert "fp8 dense" in builtin["seed-andromeda-vs-h100-pod"].reason


def test_infiniband_names_bits_and_bytes(builtin) -> None:
    assert "bits read as bytes" in builtin["seed-infiniband-vs-hbm"].reason


def test_4090_trace_states_the_capacity_limit(builtin) -> None:
    caps = [s for s in builtin["seed-4090-vs-a100"].trace if "capacity" in s.result.name]
    assert caps and caps[0].context
    assert {v.text for v in caps[0].inputs} == {"25.39 GB", "42.3 GB"}  # what CUDA reports (catalog rtx-4090, a100-sxm-40gb)


def test_chiplet_uses_the_derived_baseline(builtin) -> None:
    inputs = [v for s in builtin["seed-chiplet-cloud-94x"].trace for v in s.inputs]
    assert any(v.source == "claim seed-tco-per-1k-tokens" for v in inputs)


def test_every_trace_input_has_a_known_source(builtin, catalog) -> None:
    from tcobench.claims import builtin_dir, load_claims

    sources = {**catalog.sources, **load_claims([builtin_dir()], catalog).sources}
    for r in builtin.values():
        for step in r.trace:
            for v in step.inputs:
                ok = v.source in (CLAIM_INPUT, DERIVED, DEFAULT, "definition", "number format definition") or \
                    v.source.startswith("claim ") or v.source in sources
                assert ok, (r.id, step.formula, v)
                if v.source == CLAIM_INPUT:
                    assert v.ref in sources, (r.id, v)

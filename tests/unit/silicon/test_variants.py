"""sweep --vary: a design's variants are derived and priced one by one, then searched like any chip."""

from __future__ import annotations

import pytest

import tcobench
from tcobench.catalog import load_catalog
from tcobench.errors import InputError
from tcobench.silicon.variants import parse_vary, variants


@pytest.fixture(scope="module")
def cat():  # type: ignore[no-untyped-def]
    return load_catalog()


def test_sram_variants_follow_from_the_silicon(cat) -> None:  # type: ignore[no-untyped-def]
    got = variants(cat.designs["chiplet-cloud-die"], cat, {"sram": ["100 MB", "400MB", "800 MB"]})
    assert not got.skipped
    hw = [d.hardware for d in got.derived]
    assert [h.id for h in hw] == ["chiplet-cloud-die(sram=100MB)", "chiplet-cloud-die(sram=400MB)",
                                  "chiplet-cloud-die(sram=800MB)"]
    assert [h.memory.capacity.value for h in hw] == [100e6, 400e6, 800e6]  # SRAM-only: memory is the SRAM
    assert len({h.peak_dense["bf16"].value for h in hw}) == 1  # the MACs did not change
    areas = [d.area.die for d in got.derived]
    prices = [h.price.purchase.value for h in hw]
    assert areas == sorted(areas) and prices == sorted(prices) and prices[0] < prices[-1]


def test_a_variant_past_the_reticle_is_skipped_with_the_reason(cat) -> None:  # type: ignore[no-untyped-def]
    got = variants(cat.designs["chiplet-cloud-die"], cat, {"sram": ["200 MB", "1500 MB"], "dies": ["1"]})
    assert [d.hardware.id for d in got.derived] == ["chiplet-cloud-die(sram=200MB,dies=1)"]
    (name, why), = got.skipped
    assert name == "chiplet-cloud-die(sram=1500MB,dies=1)" and "reticle" in why


def test_two_dies_without_a_die_to_die_link_are_refused_not_defaulted(cat) -> None:  # type: ignore[no-untyped-def]
    got = variants(cat.designs["chiplet-cloud-die"], cat, {"dies": ["1", "2"]})
    assert len(got.derived) == 1 and "die_to_die" in got.skipped[0][1]


@pytest.mark.parametrize(("specs", "words"), [
    (["sramm=1MB"], "did you mean 'sram'"),
    (["sram"], "expected KEY=V1,V2"),
    (["sram="], "no values"),
    (["sram=1MB", "sram=2MB"], "given twice"),
])
def test_bad_vary_names_the_flag(specs: list[str], words: str) -> None:
    with pytest.raises(InputError, match=words) as err:
        parse_vary(specs, "{vary}")
    assert err.value.render({"vary": "--vary"}).startswith("--vary")


@pytest.mark.parametrize(("vary", "words"), [({"dies": ["two"]}, "whole number"), ({"sram": ["9 GW"]}, "sram='9 GW'"),
                                             ({"clock": ["-1 GHz"]}, "more than 0")])
def test_bad_values_stop_before_any_derivation(cat, vary, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=words):
        variants(cat.designs["chiplet-cloud-die"], cat, vary, "{vary}")


def test_sweep_runs_every_variant_in_one_pass_and_reports_the_skipped() -> None:
    res = tcobench.sweep("gpt-3-175b", "chiplet-cloud-die", vary=["sram=400MB,900MB,1500MB"], precision="bf16",
                         tp="8,16,32", pp="64,96", batch="1:64:x2", input_len="1000", output_len="1000", top=50)
    assert res.evaluated == 2 * 3 * 2 * 7  # two buildable variants x tp x pp x batch
    assert {r["hardware"] for r in res.top} <= {"chiplet-cloud-die(sram=400MB)", "chiplet-cloud-die(sram=900MB)"}
    assert [i for i, _ in res.skipped] == ["chiplet-cloud-die(sram=1500MB)"]
    assert res.to_dict()["skipped_variants"][0]["reason"]


def test_vary_needs_a_design() -> None:
    with pytest.raises(InputError, match="no hardware given is a design"):
        tcobench.sweep("gpt-3-175b", "h100-sxm", vary=["sram=1MB"])


def test_die_to_die_links_add_their_power_at_the_packagings_energy_per_bit(cat) -> None:  # type: ignore[no-untyped-def]
    """sram-8x900: 8 dies x 200 GB/s each at UCIe's 0.5 pJ/bit for a standard (organic) package = 6.4 W, added to the
    TDP it derives; one die has no die-to-die power."""
    from pathlib import Path

    from tcobench.silicon import design_of

    root = Path(__file__).resolve().parents[3]
    d = design_of(cat, str(root / "examples/designs/sram-8x900.toml"))
    energy = cat.packagings["organic"].die_to_die_energy
    assert energy is not None and energy.value == pytest.approx(0.5e-12 * 8)  # per byte
    one = variants(d.design, cat, {"dies": ["1"]}).derived[0]
    per_die_compute = one.hardware.power.tdp.value - d.design.system.power / d.design.system.packages
    eight = d.hardware.power.tdp.value - d.design.system.power / d.design.system.packages
    assert eight - 8 * per_die_compute == pytest.approx(8 * 200e9 * 0.5e-12 * 8)  # 6.4 W
    assert "die-to-die" in (d.hardware.power.tdp.note or "")


def test_hbm_or_not_is_a_design_axis(cat) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from tcobench.silicon import load

    root = Path(__file__).resolve().parents[3]
    design, dcat = load(cat, root / "examples/designs/sram-8x900.toml")
    got = variants(design, dcat, {"hbm": ["none", "hbm3x4"], "tdp": ["400 W"]})
    sram_only, hbm = (d.hardware for d in got.derived)
    assert sram_only.memory.capacity.value == 8 * 900e6
    assert hbm.memory.capacity.value == 4 * dcat.drams["hbm3"].stack_capacity.value
    assert hbm.price.purchase.value > sram_only.price.purchase.value  # four stacks of HBM3 are not free
    assert [d.design.dram for d in got.derived][0] is None


@pytest.mark.parametrize(("vary", "words"), [({"hbm": ["hmb3x4"]}, "unknown memory 'hmb3'.*did you mean 'hbm3'"),
                                             ({"hbm": ["hbm3"]}, "expected 'none' or a memory and its stacks"),
                                             ({"node": ["n77"]}, "unknown node 'n77'")])
def test_an_unknown_part_is_a_typo_not_an_unbuildable_variant(cat, vary, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=words):
        variants(cat.designs["chiplet-cloud-die"], cat, vary, "{vary}")

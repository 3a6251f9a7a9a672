"""A chip described by its silicon: the derived record, the bad designs refused with the field, value and limit."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tcobench.catalog import load_catalog
from tcobench.errors import CatalogError, MissingInputError
from tcobench.silicon import design_of

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples/designs/sram-8x900.toml"


def _design(tmp_path: Path, **over: str) -> Path:
    """The example design with some lines replaced (key = TOML value) or dropped (value '')."""
    lines = []
    present = {line.split("=")[0].strip() for line in EXAMPLE.read_text().splitlines() if "=" in line and line[0] != "#"}
    for line in EXAMPLE.read_text().splitlines():
        key = line.split("=")[0].strip()
        if key not in over:
            lines.append(line)
        elif over[key]:
            lines.append(f"{key} = {over[key]}")
        if key == "dies":  # keys the example leaves out go in after it
            lines.extend(f"{k} = {v}" for k, v in over.items() if k not in present and v)
    path = tmp_path / "d.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_example_package_derives_its_peaks_memory_links_power_and_price() -> None:
    d = design_of(load_catalog(), str(EXAMPLE))
    hw = d.hardware
    assert hw.peak("bf16").value == pytest.approx(8 * 16384 * 2 * 1e9)
    assert hw.memory.capacity.value == pytest.approx(8 * 900e6)  # SRAM only: the SRAM is the memory
    assert hw.memory.bandwidth.value == pytest.approx(8 * 16e12)
    assert hw.scale_up.bandwidth.value == 100e9 and hw.scale_up.domain.value == 8
    assert hw.scale_out.bandwidth.value == 50e9
    assert all(f.source == f"design {EXAMPLE}" for f in hw.figures().values())  # every figure says where it came from
    assert all((f.note or "").startswith("derived: ") for f in hw.figures().values())
    lo, mid, hi = hw.price.purchase.range
    assert 0 < lo <= mid <= hi and mid == pytest.approx(float(d.cost.chip.likely))
    # the area is derived from N7's SRAM and MAC densities over its 70% core share
    assert d.area.derived and d.area.die == pytest.approx((900e6 * 0.45e-12 + 16384 * 2e9 * 0.72e-18) / 0.7)


def test_the_design_command_prints_the_breakdown_and_its_json_is_the_api_document(cli) -> None:  # type: ignore[no-untyped-def]
    import tcobench

    r = cli("design", str(EXAMPLE))
    assert r.code == 0, r.err
    assert "good die" in r.out and "package" in r.out and "8 dies x 16,384 bf16 MACs" in r.out
    j = cli("design", str(EXAMPLE), "--json")
    assert json.loads(j.out) == json.loads(json.dumps(tcobench.design(str(EXAMPLE)).to_dict()))


@pytest.mark.parametrize(("over", "words"), [
    ({"dies": "1", "die_area": '"900 mm^2"'}, ["die_area = 900 mm^2", "reticle limit 858 mm^2"]),
    ({"die_area": '"300 mm^2"'}, ["sram = 900 MB does not fit", "die_area 300 mm^2", "0.45 mm^2/MB"]),
    ({"sram": '"90 GB"', "die_area": ""}, ["die_area", "reticle limit"]),
    ({"macs": "{ int8 = 1024 }"}, ["die_area is not given", "macs.bf16"]),
    ({"die_to_die": ""}, ["links.die_to_die is missing", "8 dies"]),
    ({"node": '"n77"'}, ["node = 'n77'", "did you mean 'n7'"]),
    ({"clock": '"0 GHz"'}, ["clock", "more than 0"]),
])
def test_an_impossible_or_incomplete_design_exits_2_naming_the_field_value_and_limit(cli, tmp_path: Path, over: dict[str, str],
                                                                                    words: list[str]) -> None:  # type: ignore[no-untyped-def]
    r = cli("design", str(_design(tmp_path, **over)))
    assert r.code == 2, (r.out, r.err)
    assert r.err.count("\n") == 1 and "Traceback" not in r.err
    for w in words:
        assert w in r.err, (w, r.err)


def test_a_die_that_yields_nothing_is_refused(tmp_path: Path) -> None:
    # a 40,000 mm^2 die on wafer-scale packaging passes the reticle check and then yields no good die at N7's D0
    path = _design(tmp_path, packaging='"wafer"', die_area='"40000 mm^2"')
    path.write_text(path.read_text() + '\n[packaging.wafer]\nname = "w"\nkind = "wafer-scale"\n'
                    'per_package = { value = "$1", date = "2025", source = "tcobench-estimate-packaging" }\n'
                    'assembly_yield = { value = "0.9", source = "tcobench-estimate-packaging" }\n')
    with pytest.raises(CatalogError, match=r"die_area = 40,000 mm\^2 yields [0-9.e-]+ good dies .* expected at least 1"):
        design_of(load_catalog(), str(path))


def test_a_design_with_dram_and_no_tdp_is_refused_not_guessed(tmp_path: Path) -> None:
    path = _design(tmp_path, packaging='"cowos"')
    path.write_text(path.read_text() + '\n[design.sram-8x900.dram]\ntype = "hbm3"\nstacks = 4\n')
    with pytest.raises(MissingInputError, match=r"tdp is missing and cannot be derived \(a design with DRAM\)"):
        design_of(load_catalog(), str(path))
    path.write_text(path.read_text().replace('nre = "$50000000"', 'nre = "$50000000"\ntdp = "500 W"'))
    hw = design_of(load_catalog(), str(path)).hardware
    assert hw.memory.capacity.value == 4 * 16e9 and hw.memory.bandwidth.value == pytest.approx(4 * 819e9)
    assert hw.power.tdp.value == 500 + 400 / 8


def test_a_designed_chip_runs_in_predict_and_compare_against_catalog_chips(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("compare", "--model", "llama-2-70b", "--hardware", f"{EXAMPLE},h100-sxm,mi300x", "--workload", "chat", "--json")
    assert r.code == 0, r.err
    rows = {row["hardware"]: row for row in json.loads(r.out)["rows"]}
    mine = rows["sram-8x900"]
    assert mine["deployment"] is not None and mine["deployment"]["chips"] * 7.2e9 >= 70e9  # the weights fit in SRAM
    assert math.isfinite(mine["usd_per_1m_output_tokens_own"])
    p = cli("predict", "--model", "llama-2-70b", "--hardware", str(EXAMPLE), "--tp", "4", "--pp", "8", "--precision",
            "fp8", "--json")
    assert p.code == 0, p.err
    assert json.loads(p.out)["hardware"] == "sram-8x900"

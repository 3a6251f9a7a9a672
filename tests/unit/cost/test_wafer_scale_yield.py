"""Wafer-scale yield: a die the size of the wafer yields only because spare cores repair its defects (Cerebras,
"100x Defect Tolerance: How Cerebras Solved the Yield Problem", 2025: 0.05 mm^2 cores, 970,000 of them of which
900,000 are enabled, 46,225 mm^2, about 0.001 defects per mm^2 at 5 nm), not by Murphy over the whole area."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tcobench.catalog import load_catalog
from tcobench.cost.silicon import murphy_yield, negative_binomial_yield, repaired_yield
from tcobench.errors import CatalogError
from tcobench.silicon import design_of

SETTINGS = settings(max_examples=60, deadline=None, database=None, derandomize=not os.environ.get("TCOBENCH_FUZZ_RANDOM"))
MM2 = 1e-6
WSE = {"area": 46_225 * MM2, "cores": 970_000, "spare_cores": 70_000, "core_area": 0.05 * MM2}
D0_N5 = 0.001 / MM2  # defects per m^2 (0.001 per mm^2, the figure the Cerebras article uses)


def test_a_wafer_scale_die_yields_with_spares_and_not_without() -> None:
    repaired = repaired_yield(WSE["area"], D0_N5, 10.0, cores=WSE["cores"], spare_cores=WSE["spare_cores"],
                              core_area=WSE["core_area"])
    assert repaired > 0.999
    assert murphy_yield(WSE["area"], D0_N5) < 1e-3 and negative_binomial_yield(WSE["area"], D0_N5, 10.0) < 1e-6


def test_no_spares_over_the_whole_die_is_the_negative_binomial() -> None:
    area = 100 * MM2
    got = repaired_yield(area, D0_N5 * 10, 3.0, cores=1000, spare_cores=0, core_area=0.1 * MM2)
    assert got == pytest.approx(negative_binomial_yield(area, D0_N5 * 10, 3.0), rel=1e-12)


def test_with_little_clustering_it_is_the_poisson_cdf() -> None:
    area = 3000 * MM2  # mean 3 defects at 0.001 per mm^2
    got = repaired_yield(area, D0_N5, 1e7, cores=30_000, spare_cores=2, core_area=0.1 * MM2)
    assert got == pytest.approx(math.exp(-3) * (1 + 3 + 4.5), rel=1e-4)


@SETTINGS
@given(spares=st.integers(0, 200), more=st.integers(1, 50), d0=st.floats(1e-4, 5e-3), alpha=st.floats(0.5, 50),
       share=st.floats(0.1, 1.0))
def test_more_spares_never_yield_less_and_never_less_than_no_repair(spares: int, more: int, d0: float, alpha: float,
                                                                    share: float) -> None:
    area, cores = 800 * MM2, 10_000
    core_area = area * share / cores
    kw = {"cores": cores, "core_area": core_area}
    y = repaired_yield(area, d0 / MM2, alpha, spare_cores=spares, **kw)
    assert y <= repaired_yield(area, d0 / MM2, alpha, spare_cores=spares + more, **kw) <= 1.0
    assert y >= negative_binomial_yield(area, d0 / MM2, alpha) * (1 - 1e-12)


DESIGN = '''
[packaging.test-wafer]
name = "a wafer-scale package (test figures)"
kind = "wafer-scale"
per_package = { value = "$1000", date = "2025", source = "tcobench-estimate-packaging" }
assembly_yield = { value = "0.99", source = "tcobench-estimate-packaging" }

[design.wse-like]
name = "wafer-scale test"
node = "n5"
packaging = "test-wafer"
dies = 1
die_area = "46225 mm^2"
clock = "1 GHz"
macs = { bf16 = 1000000 }
sram = "44 GB"
sram_bandwidth = "21 PB/s"
tdp = "23 kW"
volume = 1000
nre = "$100000000"
redundancy = { cores = 970000, spare_cores = SPARES, core_area = "0.05 mm^2" }
[design.wse-like.system]
packages = 1
cost = "$100000"
'''


def _design(tmp_path: Path, spares: str) -> Path:
    path = tmp_path / "wse.toml"
    path.write_text(DESIGN.replace("SPARES", spares))
    return path


def test_a_wafer_scale_design_is_one_die_per_wafer_priced_by_its_repaired_yield(tmp_path: Path) -> None:
    d = design_of(load_catalog(), str(_design(tmp_path, "70000")))
    assert d.cost.dies_per_wafer == 1.0 and float(d.cost.yield_nb.likely) > 0.999
    wafer, test = float(d.cost.wafer.likely), 0.0 if d.node.test_fraction is None else d.node.test_fraction.value
    assert float(d.cost.good_die.likely) == pytest.approx(wafer / float(d.cost.yield_nb.likely) * (1 + test))


def test_without_enough_spares_it_does_not_yield_and_says_so(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="good dies per"):
        design_of(load_catalog(), str(_design(tmp_path, "1")))


def test_spares_must_be_fewer_than_cores(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="spare_cores = 970000 must be fewer than cores"):
        design_of(load_catalog(), str(_design(tmp_path, "970000")))

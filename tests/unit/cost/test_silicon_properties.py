"""Invariants of the silicon cost model and of a design's derived peaks (hypothesis, derandomized as in
tests/unit/test_input_fuzz.py: the same examples every run)."""

from __future__ import annotations

import math
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tcobench.catalog import load_catalog
from tcobench.catalog.design import Design
from tcobench.cost.silicon import dies_per_wafer, murphy_yield, negative_binomial_yield, silicon_cost
from tcobench.silicon import FLOP_PER_MAC, derive

SETTINGS = settings(max_examples=60, deadline=None, database=None, derandomize=not os.environ.get("TCOBENCH_FUZZ_RANDOM"))
MM2 = 1e-6
areas = st.floats(10, 858).map(lambda a: a * MM2)  # die areas from 10 mm^2 to the reticle
d0s = st.floats(0.01, 1.0).map(lambda d: d * 1e4)  # 0.01-1 defects per cm^2, in per m^2
alphas = st.floats(0.5, 50)


@SETTINGS
@given(a=areas, grow=st.floats(1.01, 5), d0=d0s, alpha=alphas)
def test_yield_falls_as_the_die_grows(a: float, grow: float, d0: float, alpha: float) -> None:
    assert negative_binomial_yield(a * grow, d0, alpha) < negative_binomial_yield(a, d0, alpha)
    assert murphy_yield(a * grow, d0) < murphy_yield(a, d0)
    assert 0 < negative_binomial_yield(a * grow, d0, alpha) < 1


@SETTINGS
@given(a=areas, grow=st.floats(1.01, 5), d0=d0s, alpha=alphas)
def test_cost_per_good_die_rises_faster_than_area(a: float, grow: float, d0: float, alpha: float) -> None:
    """Fewer dies fit (edge loss grows relative to the die) and fewer of them are good: the cost per good die, at
    one wafer price, grows by more than the area does."""
    big = a * grow
    if big > 858 * MM2:
        big, grow = 858 * MM2, 858 * MM2 / a
    if grow <= 1.0001:
        return
    per_good = lambda area: 1.0 / (dies_per_wafer(area, 0.3) * negative_binomial_yield(area, d0, alpha))  # noqa: E731
    assert per_good(big) / per_good(a) > grow


def test_dies_per_wafer_reproduces_the_textbook_example() -> None:
    """Hennessy and Patterson's 216 mm^2 Sandy Bridge die on a 300 mm wafer: the formula gives 282 (the real wafer
    holds 280 whole dies); within 1%."""
    assert round(dies_per_wafer(216 * MM2, 0.3)) == 282
    assert dies_per_wafer(216 * MM2, 0.3) == pytest.approx(280, rel=0.01)


CATALOG = load_catalog()  # the shipped node data; designs are built in the tests


@SETTINGS
@given(dies=st.integers(1, 16), macs=st.integers(1, 1 << 17), clock=st.floats(1e8, 3e9),
       sram_mb=st.integers(1, 400), precision=st.sampled_from(["bf16", "fp8", "int8", "fp16"]))
def test_derived_peak_is_units_times_clock_times_ops_per_unit(dies: int, macs: int, clock: float, sram_mb: int,
                                                             precision: str) -> None:
    design = Design.model_validate({
        "id": "p", "name": "p", "node": "n7", "packaging": "organic", "dies": dies, "clock": f"{clock} Hz",
        "macs": {precision: macs}, "sram": f"{sram_mb} MB", "sram_bandwidth": "1 TB/s", "die_area": "800 mm^2",
        "tdp": "100 W", "volume": 1000, "nre": "$1000000", "links": {"die_to_die": "1 TB/s"},
        "system": {"packages": 4, "cost": "$1000"}, "origin": "<test>"})
    d = derive(design, CATALOG)  # at most 400 MB and 786 TFLOP/s of MACs: fits 800 mm^2 at N7's densities
    peak = d.hardware.peak_dense[precision].value  # type: ignore[index]
    assert peak == pytest.approx(dies * macs * clock * FLOP_PER_MAC, rel=1e-12)
    assert FLOP_PER_MAC == 2


@SETTINGS
@given(a=areas)
def test_every_cost_is_positive_and_ordered(a: float) -> None:
    node, pack = CATALOG.nodes["n7"], CATALOG.packagings["organic"]
    design = Design.model_validate({
        "id": "p", "name": "p", "node": "n7", "packaging": "organic", "dies": 2, "clock": "1 GHz", "macs": {"bf16": 1024},
        "sram": "10 MB", "sram_bandwidth": "1 TB/s", "volume": 1000, "nre": "$1000000", "tdp": "10 W",
        "system": {"packages": 4, "cost": "$1000"}})
    c = silicon_cost(design, node, pack, None, a)
    for name, span, _ in c.rows():
        if span is not None:
            lo, mid, hi = span.as_tuple()
            assert 0 <= lo <= mid <= hi and math.isfinite(hi), name

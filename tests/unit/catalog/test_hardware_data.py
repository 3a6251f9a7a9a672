"""The shipped hardware files for the newest chips and the Gaudi links: what they load to, in SI units."""

import pytest

from tcobench.catalog import load_catalog

CAT = load_catalog()


@pytest.mark.parametrize(
    ("hw", "path", "value"),
    [
        # dense peaks per precision, FLOP/s
        ("gb300", "peak_dense.fp4", 15e15),
        ("gb300", "peak_dense.fp8", 5e15),
        ("gb300", "peak_dense.bf16", 2.5e15),
        ("gb300", "peak_sparse.fp4", 20e15),  # Blackwell Ultra's FP4 sparsity is 4/3, not 2
        ("mi355x", "peak_dense.fp4", 10.05e15),
        ("mi355x", "peak_dense.fp6", 10.05e15),
        ("mi355x", "peak_dense.fp8", 5.033e15),
        ("mi355x", "peak_dense.bf16", 2.517e15),
        ("mi355x", "peak_sparse.fp4", 20.1e15),
        ("tpu-v7", "peak_dense.fp8", 4614e12),
        ("tpu-v7", "peak_dense.bf16", 2307e12),
        # memory, B and B/s (vendor HBM labels are binary)
        ("gb300", "memory.capacity", 279 * 2**30),
        ("gb300", "memory.bandwidth", 8e12),
        ("mi355x", "memory.capacity", 288 * 2**30),
        ("mi355x", "memory.bandwidth", 8e12),
        ("tpu-v7", "memory.capacity", 192 * 2**30),
        ("tpu-v7", "memory.bandwidth", 7380e9),
        # links are stored per direction, per chip, summed over the chip's scale-up links
        ("gb300", "scale_up.bandwidth", 900e9),  # 1.8 TB/s bidirectional
        ("gb300", "scale_up.domain", 72),
        ("gb300", "scale_out.bandwidth", 100e9),  # 800 Gb/s ConnectX-8
        ("mi355x", "scale_up.bandwidth", 537.5e9),  # 1,075 GB/s bidirectional = 7 x 153.6
        ("mi355x", "scale_up.domain", 8),
        ("tpu-v7", "scale_up.bandwidth", 600e9),  # 9.6 Tb/s bidirectional = 1.2 TB/s
        ("tpu-v7", "scale_up.domain", 9216),
        ("gaudi3", "scale_up.bandwidth", 525e9),  # 21 x 200 Gb/s each way
        ("gaudi3", "scale_up.domain", 8),
        ("gaudi3", "scale_out.bandwidth", 75e9),  # 3 x 200 Gb/s
        ("gaudi2", "scale_up.bandwidth", 262.5e9),  # 21 x 100 Gb/s each way
        ("gaudi2", "scale_up.domain", 8),
        ("gaudi2", "scale_out.bandwidth", 37.5e9),  # 3 x 100 Gb/s
        ("b200", "scale_out.bandwidth", 50e9),  # 400 Gb/s per GPU (DGX B200)
        ("gb300", "power.tdp", 1400),
        ("mi355x", "power.tdp", 1400),
    ],
)
def test_new_figures_load_in_si_units(hw: str, path: str, value: float) -> None:
    figures = CAT.get_hardware(hw).figures()
    assert figures[path].value == pytest.approx(value, rel=1e-9)


@pytest.mark.parametrize("hw", ["gb300", "mi355x", "tpu-v7", "gaudi2", "gaudi3", "cs-3"])
def test_every_figure_names_a_defined_source(hw: str) -> None:
    figures = CAT.get_hardware(hw).figures()
    assert figures
    assert {f.source for f in figures.values()} <= set(CAT.sources)


def test_cs3_keeps_the_sparse_peak_apart_and_has_no_dense_one() -> None:
    cs3 = CAT.get_hardware("cs-3")
    assert cs3.peak("fp16") is None and cs3.peak("bf16") is None
    sparse = cs3.figures()["peak_sparse.fp16"]
    assert sparse.value == pytest.approx(125e15)
    assert "dense" in (sparse.note or "") and "unknown" in (cs3.note or "")


@pytest.mark.parametrize(("hw", "per_chip_hour"), [("tpu-v6e", 2.70), ("mi325x", 1.95)])
def test_added_cloud_rates_are_dated_per_chip_hour(hw: str, per_chip_hour: float) -> None:
    (rate,) = CAT.get_hardware(hw).cloud
    assert rate.rate.value * 3600 == pytest.approx(per_chip_hour)
    assert rate.date and rate.source in CAT.sources

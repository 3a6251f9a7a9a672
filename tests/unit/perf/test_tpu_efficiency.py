"""TPU7x's efficiency figures reconcile with the measurements they cite (catalog efficiency.toml, [efficiency.tpu-v7])."""

import pytest

from tcobench.catalog import load_catalog
from tcobench.perf.efficiency import resolve

CAT = load_catalog()


def test_tpu7x_bf16_gemm_rate_is_the_microbenchmarks_median_per_tensorcore() -> None:
    # accelerator-microbenchmarks @36fc5e6: 892.9, 950.1, 956.4 TFLOP/s per device (one of the chip's two TensorCores)
    v7 = CAT.get_hardware("tpu-v7")
    eff = resolve(v7, CAT.efficiency)
    bf16 = v7.peak("bf16")
    assert bf16 is not None
    assert eff.compute_for("bf16") * bf16.value / 2 == pytest.approx(950.1e12, rel=0.01)


def test_tpu7x_fp8_matmuls_run_1_3x_the_bf16_rate_not_twice() -> None:
    # Google's Ironwood performance page: fp8 'can yield performance improvements of 1.3x over standard BF16'
    v7 = CAT.get_hardware("tpu-v7")
    eff = resolve(v7, CAT.efficiency)
    bf16, fp8 = v7.peak("bf16"), v7.peak("fp8")
    assert bf16 is not None and fp8 is not None
    ratio = eff.compute_for("fp8") * fp8.value / (eff.compute_for("bf16") * bf16.value)
    assert ratio == pytest.approx(1.3, abs=0.02)


def test_tpu7x_memory_is_the_measured_hbm_copy_and_v6e_keeps_the_default() -> None:
    # hbm.md @7c51315: 6420.96 GB/s per chip for an 8 GB copy, of 7380 GB/s
    v7, v6e = CAT.get_hardware("tpu-v7"), CAT.get_hardware("tpu-v6e")
    assert resolve(v7, CAT.efficiency).memory * 7380e9 == pytest.approx(6420.96e9, rel=0.01)
    default = CAT.efficiency["default"].memory
    assert default is not None
    assert resolve(v6e, CAT.efficiency).memory == default.value

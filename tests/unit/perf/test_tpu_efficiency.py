"""TPU7x's efficiency figures reconcile with the measurements they cite (catalog efficiency.toml, [efficiency.tpu-v7])."""

import numpy as np
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


def test_tpu7x_collective_step_is_the_all_gather_intercept_over_its_ring_steps() -> None:
    # all_gather.md @00fa7b2, 2x2x1: time = transferred GB / achieved GB/s for gathered tensors of 1-256 MB over 4 chips;
    # the straight line through them meets zero size at the fixed cost, spread over the ring's 3 steps
    transferred = np.array([0.001572864, 0.006291456, 0.025165824, 0.100663296, 0.402653184])
    achieved = np.array([71.7703034, 129.1869148, 161.9040742, 174.765465, 178.7714158])
    t = transferred / achieved  # s
    gathered = np.array([1.0, 4.0, 16.0, 64.0, 256.0]) * 2**20
    a = np.vstack([np.ones_like(gathered), gathered]).T / t[:, None]  # weighted by 1/t: relative error
    intercept, slope = np.linalg.lstsq(a, np.ones_like(t), rcond=None)[0]
    assert slope > 0
    eff = resolve(CAT.get_hardware("tpu-v7"), CAT.efficiency)
    assert eff.collective_latency == pytest.approx(intercept / 3, rel=0.02)


def test_measured_tpu_collective_steps_are_above_the_per_hop_default() -> None:
    default = CAT.efficiency["tpu"].collective_latency
    assert default is not None
    for hw in ("tpu-v5e", "tpu-v7"):
        assert resolve(CAT.get_hardware(hw), CAT.efficiency).collective_latency > default.value
    assert resolve(CAT.get_hardware("tpu-v6e"), CAT.efficiency).collective_latency == default.value

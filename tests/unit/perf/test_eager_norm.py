"""A training stack that runs PyTorch's own norm kernels eagerly (``Framework.eager_norm``): its two norms per layer
stream at the chip's measured ``eager_norm`` fraction of the bandwidth (catalog efficiency), the residual adds and
every other stack's norms at ``memory``."""

import dataclasses

import numpy as np
import pytest

from tcobench.catalog import load_catalog
from tcobench.perf.chip import Chip, chip_arrays
from tcobench.perf.deployment import Formats
from tcobench.perf.efficiency import resolve
from tcobench.perf.training import Parallel, TrainBatch, step
from tcobench.perf.stacks import framework
from tcobench.perf.transformer import shape

CAT = load_catalog()
PAR, BATCH, FMT = Parallel(1.0, 1.0, 8.0, zero=3.0, sequence_parallel=False), TrainBatch(4.0, 32.0, 2048.0), Formats(2.0, 2.0, 2.0)


def chip(hw: str) -> Chip:
    h = CAT.hardware[hw]
    return Chip.of(h, "bf16", resolve(h, CAT.efficiency), kv="bf16", attention_16bit=True)


def elementwise(c: Chip, fw_id: str, eager_norm: bool) -> tuple[float, float, float]:
    """(forward, backward) seconds of the step and the forward's norms-and-residuals operator time, all layers."""
    fw = dataclasses.replace(framework(fw_id), eager_norm=eager_norm)
    r = step(shape(CAT.models["llama-2-7b"]), c, PAR, BATCH, FMT, fw, recompute=0.0, detail=True)
    assert r.forward is not None
    t_ew = sum(float(t) for name, _, _, _, t, _ in r.forward.ops if name == "elementwise")
    return float(r.parts["forward"]), float(r.parts["backward"]), t_ew


@pytest.mark.parametrize("hw", ["h100-sxm", "a100-sxm-80gb"])
def test_eager_norms_run_at_the_measured_norm_rate_and_the_backward_pays_twice(hw: str) -> None:
    c = chip(hw)
    e_norm, e_mem = float(c.eager_norm_eff), float(c.memory_eff)
    assert e_norm < e_mem  # the measured norm kernels (0.52-0.54) are slower than a streaming read
    f0, b0, ew0 = elementwise(c, "fsdp", False)
    f1, b1, ew1 = elementwise(c, "fsdp", True)
    s = shape(CAT.models["llama-2-7b"])
    T = 4.0 * 2048.0
    norm_bytes = s.layers * 4.0 * T * s.hidden * 2.0  # two norms, each reading and writing the bf16 hidden state
    extra = norm_bytes / float(c.mem_bw) * (1.0 / e_norm - 1.0 / e_mem)
    assert ew1 - ew0 == pytest.approx(extra, rel=1e-9)
    m = 32.0 / (8.0 * 4.0)
    assert f1 - f0 == pytest.approx(m * extra, rel=1e-9)
    assert b1 - b0 == pytest.approx(2.0 * m * extra, rel=1e-9)


def test_a_chip_without_the_figure_and_a_fused_stack_keep_the_memory_rate() -> None:
    c = chip("h200-sxm")  # no eager_norm measured for it
    assert np.isnan(float(c.eager_norm_eff))
    assert elementwise(c, "fsdp", True) == elementwise(c, "fsdp", False)
    assert not framework("megatron").eager_norm and not framework("torchtitan-fsdp2").eager_norm  # TE / Triton norms
    assert framework("composer-fsdp").eager_norm  # MPT's LPLayerNorm calls F.layer_norm


def test_the_stacked_chips_take_each_chips_own_norm_rate() -> None:
    chips = [chip("h100-sxm"), chip("h200-sxm")]
    both = chip_arrays(chips)
    fw = framework("composer-fsdp")
    s = shape(CAT.models["llama-2-7b"])
    grid = step(s, both, PAR, BATCH, FMT, fw, recompute=0.0)
    one_by_one = [float(step(s, c, PAR, BATCH, FMT, fw, recompute=0.0).step_time_s) for c in chips]
    assert np.asarray(grid.step_time_s).ravel() == pytest.approx(one_by_one, rel=1e-12)

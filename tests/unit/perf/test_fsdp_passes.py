"""PyTorch FSDP's own passes over the full weights and gradients (``Framework.fsdp_gather_bytes``,
``fsdp_reduce_bytes``): the bytes per parameter counted by hand from the code each stack runs, and the seconds a step
charges for them at ZeRO-3, ZeRO-2 and below."""

from dataclasses import replace

import pytest

from tcobench.catalog import load_catalog
from tcobench.perf.chip import Chip
from tcobench.perf.deployment import Formats
from tcobench.perf.efficiency import resolve
from tcobench.perf.training import Parallel, TrainBatch, step
from tcobench.perf.stacks import framework
from tcobench.perf.transformer import shape

CAT = load_catalog()

# (read, write) bytes per parameter of each pass over the full weights or gradients, every micro-batch
FSDP1_GATHER = [(0, 2)]  # all_gather_into_tensor writes the bf16 flat parameter in place
FSDP1_REDUCE_FP32 = [(2, 2),  # the flat gradient assembled from its views' gradients (the split's backward)
                     (2, 4),  # .to(reduce_dtype): bf16 -> fp32
                     (4, 4),  # the pre-divide, in place on the fp32 gradient
                     (4, 0)]  # reduce_scatter_tensor reads its fp32 input
FSDP1_REDUCE_BF16 = [(2, 2), (2, 2), (2, 0)]  # no cast; the pre-divide and the reduce-scatter's read in bf16
FSDP2_GATHER = [(0, 2),  # all_gather_into_tensor writes the gathered bf16 buffer
                (2, 2)]  # split_with_sizes_copy out of it into each parameter
FSDP2_REDUCE_FP32 = [(2, 4),  # _chunk_cat: bf16 gradients into the fp32 reduce-scatter input
                     (4, 0)]  # reduce_scatter_tensor reads it (ReduceOp.AVG: no divide kernels)


def total(passes: list[tuple[int, int]]) -> float:
    return float(sum(r + w for r, w in passes))


@pytest.mark.parametrize(("fid", "gather", "reduce"), [
    ("composer-fsdp", FSDP1_GATHER, FSDP1_REDUCE_FP32),
    ("fsdp1-bf16-reduce", FSDP1_GATHER, FSDP1_REDUCE_BF16),
    ("fsdp1-bf16-reduce-unfused-attn", FSDP1_GATHER, FSDP1_REDUCE_BF16),
    ("torchtitan-fsdp2", FSDP2_GATHER, FSDP2_REDUCE_FP32),
    ("fsdp", FSDP2_GATHER, FSDP2_REDUCE_FP32),
])
def test_fsdp_passes_are_the_hand_counted_bytes(fid: str, gather: list[tuple[int, int]],
                                                reduce: list[tuple[int, int]]) -> None:
    fw = framework(fid)
    assert (fw.fsdp_gather_bytes, fw.fsdp_reduce_bytes) == (total(gather), total(reduce))


def test_megatron_stacks_charge_no_fsdp_passes() -> None:
    for fid in ("megatron", "nemo", "deepspeed", "nemo-2504-fsdp", "maxtext"):
        fw = framework(fid)
        assert fw.fsdp_gather_bytes == 0.0 and fw.fsdp_reduce_bytes == 0.0


@pytest.mark.parametrize(("zero", "gathers_fwd", "gathers_bwd", "reduces"), [(3.0, 1, 1, 1), (2.0, 1, 0, 1),
                                                                             (1.0, 0, 0, 0)])
def test_a_step_charges_the_passes_per_micro_batch_over_the_chips_weights(zero: float, gathers_fwd: int,
                                                                         gathers_bwd: int, reduces: int) -> None:
    """Llama-2-7B on 8 H100 at micro-batch 2 of 4,096 tokens, 4 micro-batches a step: forward and backward each take
    m x (parameters / tp) x bytes / (memory bandwidth x memory_eff) more than with the passes set to 0, with FSDP1's 2
    bytes per gather and 22 per reduction, counted by hand above."""
    h = CAT.get_hardware("h100-sxm")
    s, chip = shape(CAT.get_model("llama-2-7b")), Chip.of(h, "bf16", resolve(h, CAT.efficiency))
    fw = replace(framework("fsdp"), fsdp_gather_bytes=total(FSDP1_GATHER), fsdp_reduce_bytes=total(FSDP1_REDUCE_FP32))
    base = replace(fw, fsdp_gather_bytes=0.0, fsdp_reduce_bytes=0.0)
    tp, m = 2.0, 4.0
    par, batch = Parallel(tp=tp, dp=4.0, zero=zero), TrainBatch(2.0, 2.0 * 4.0 * m, 4096.0)
    got, ref = (step(s, chip, par, batch, Formats(2.0, 2.0, 2.0), f, recompute=0.0) for f in (fw, base))
    per_pass = s.total_params / tp / (chip.mem_bw * chip.memory_eff)  # seconds per byte per parameter, all layers
    fwd = float(got.parts["forward"]) - float(ref.parts["forward"])
    bwd = float(got.parts["backward"]) - float(ref.parts["backward"])
    assert fwd == pytest.approx(m * per_pass * gathers_fwd * 2.0, rel=1e-9, abs=1e-12)
    assert bwd == pytest.approx(m * per_pass * (gathers_bwd * 2.0 + reduces * 22.0), rel=1e-9, abs=1e-12)
    if zero >= 3.0:  # about 4 ms a step for 6.7e9 / 2 parameters at ~3 TB/s: not a rounding error
        assert fwd + bwd > 1e-3

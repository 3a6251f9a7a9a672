"""The fp8 recipe's cast-transposes (``_fp8_ops``) run at the chip's measured ``fp8_cast_transpose`` fraction of the
bandwidth (catalog efficiency: H100 0.39, Transformer Engine PR #101), its plain casts and fp8 transposes at
``memory``; a chip without the figure, and a bf16 run, keep every byte at ``memory``. Counted by hand for Llama 2 7B
on one tensor-parallel rank (no sequence parallelism: every Linear input and output gradient is cast-transposed), and
the weights' once-a-step cast into their fp8 copies and transposes (the same fp8_cast_transpose_fused kernel)."""

import dataclasses

import numpy as np
import pytest

from tcobench.catalog import load_catalog
from tcobench.perf.chip import Chip
from tcobench.perf.deployment import Formats
from tcobench.perf.efficiency import resolve
from tcobench.perf.training import Parallel, TrainBatch, step
from tcobench.perf.stacks import framework
from tcobench.perf.transformer import shape

CAT = load_catalog()
PAR, BATCH = Parallel(1.0, 1.0, 8.0, sequence_parallel=False), TrainBatch(4.0, 32.0, 2048.0)
FP8, BF16 = Formats(1.0, 2.0, 2.0), Formats(2.0, 2.0, 2.0)


def chip(hw: str, precision: str = "fp8") -> Chip:
    h = CAT.hardware[hw]
    return Chip.of(h, precision, resolve(h, CAT.efficiency), kv="bf16", attention_16bit=True)


def run(c: Chip, fmt: Formats) -> tuple[float, float, float]:
    """(forward, backward) seconds of the step and the forward's fp8 cast operators' time, all layers."""
    r = step(shape(CAT.models["llama-2-7b"]), c, PAR, BATCH, fmt, framework("megatron"), recompute=0.0, detail=True)
    assert r.forward is not None
    t_cast = sum(float(t) for name, _, _, _, t, _ in r.forward.ops if name.startswith("fp8_cast"))
    return float(r.parts["forward"]), float(r.parts["backward"]), t_cast


def test_cast_transposes_run_at_the_measured_rate() -> None:
    c = chip("h100-sxm")
    e_ct, e_mem = float(c.fp8_cast_transpose_eff), float(c.memory_eff)
    assert e_ct < e_mem  # TE's cast-transpose (0.39) is slower than a streaming read (0.83)
    plain = dataclasses.replace(c, fp8_cast_transpose_eff=float("nan"))
    f0, b0, c0 = run(plain, FP8)
    f1, b1, c1 = run(c, FP8)
    s = shape(CAT.models["llama-2-7b"])
    T, ct = 4.0 * 2048.0, 4.0  # tokens per micro-batch; te-1.4's cast_transpose_bytes
    slower = (1.0 / e_ct - 1.0 / e_mem) / float(c.mem_bw)
    # forward: the attention projection's input (heads x head_dim) and, in Megatron-Core's MLP, FC2's input (ffn)
    fwd = s.layers * T * (s.heads * s.head_dim + s.ffn_width) * ct
    # backward: QKV's output gradient, the projection's and FC2's output gradients (hidden each), FC1's (2 x ffn, gated)
    bwd = s.layers * T * (s.qkv_width + 2.0 * s.hidden + 2.0 * s.ffn_width) * ct
    assert c1 - c0 == pytest.approx(fwd * slower, rel=1e-9)
    m = 32.0 / (8.0 * 4.0)  # micro-batches per step
    # and once per step each weight's cast into its fp8 copy and transpose, the same kernel (te-1.4: 4 bytes a weight)
    wcast = float(s.total_params) * 4.0 * slower
    assert f1 - f0 == pytest.approx(m * fwd * slower + wcast, rel=1e-9)
    assert b1 - b0 == pytest.approx(m * bwd * slower, rel=1e-9)  # the backward pays its own casts, not 2 x forward's


def test_without_the_figure_or_fp8_nothing_moves() -> None:
    c = chip("h200-sxm")  # no fp8_cast_transpose measured for it
    assert np.isnan(float(c.fp8_cast_transpose_eff))
    h100 = chip("h100-sxm", "bf16")
    assert run(h100, BF16) == run(dataclasses.replace(h100, fp8_cast_transpose_eff=float("nan")), BF16)

"""MoE training mechanisms read from Megatron-Core's code (perf/training.py ``_permute_ops``, the routed experts' fp8
casts in ``_fp8_ops``, ``Framework.moe_capacity``), counted by hand for Mixtral 8x7B."""

from __future__ import annotations

import dataclasses

import pytest

from tcobench.catalog import load_catalog
from tcobench.perf.chip import Chip
from tcobench.perf.deployment import Formats
from tcobench.perf.efficiency import resolve
from tcobench.perf.layer import routing_imbalance
from tcobench.perf.training import Parallel, TrainBatch, TrainResult, step
from tcobench.perf.stacks import Framework, framework, frameworks
from tcobench.perf.transformer import shape

CAT = load_catalog()
FP8 = Formats(1.0, 2.0, 2.0)
T = 2.0 * 4096.0  # tokens per chip per micro-batch below


def _run(fw: Framework, model: str = "mixtral-8x7b", ep: float = 8.0) -> TrainResult:
    hw = CAT.get_hardware("b200")
    s, chip = shape(CAT.get_model(model)), Chip.of(hw, "fp8", resolve(hw, CAT.efficiency))
    return step(s, chip, Parallel(tp=1.0, dp=8.0, ep=ep, zero=1.0, sequence_parallel=False), TrainBatch(2.0, 16.0, 4096.0),
                FP8, fw, recompute=0.0, detail=True)


def _op(r: TrainResult, name: str) -> tuple[float, float]:
    """(count, bytes per count) of one forward operator."""
    assert r.forward is not None
    hit = [op for op in r.forward.ops if op[0] == name]
    assert len(hit) == 1, [op[0] for op in r.forward.ops]
    return float(hit[0][1]), float(hit[0][3])


def test_the_nemo_2504_frameworks_state_megatron_cores_moe_defaults_and_the_token_drop_callback() -> None:
    """NeMo v2.2.1 / v2.3.0 leave moe_permute_fusion off and the Mixtral recipes pad to capacity 1.0; no other stack
    is read to do either, so every other framework keeps the defaults (fused, dropless)."""
    fws = frameworks()
    for fid, fw in fws.items():
        stated = fid in ("nemo-2504", "nemo-2504-fsdp")
        assert (fw.moe_permute_fused, fw.moe_capacity) == ((False, 1.0) if stated else (True, 0.0)), fid


def test_the_unfused_permutation_moves_the_eager_ops_bytes_and_only_for_moe_models() -> None:
    """Mixtral at ep 8 (one local expert per chip, capacity 1.0: A = T x top-k assignments exactly): beyond the
    fused pass each way, index_select (2A against T + A) and the unpermute's multiply, zero-fill and scatter_add_
    (3A + 3T against T + A) add 3A + T rows of h bf16 elements per MoE layer."""
    fw = framework("nemo-2504")
    r = _run(fw)
    count, nbytes = _op(r, "moe_permute_eager")
    a, h = T * 2.0, 4096.0
    assert count == 32
    assert nbytes == pytest.approx((3.0 * a + T) * h * 2.0)
    fused = _run(dataclasses.replace(fw, moe_permute_fused=True))
    assert fused.forward is not None and "moe_permute_eager" not in [op[0] for op in fused.forward.ops]
    for part in ("forward", "backward"):
        assert float(r.parts[part]) > float(fused.parts[part])
    # two local experts per chip (ep 4): the rows are also regrouped by expert after the dispatch and before the combine
    _, nbytes4 = _op(_run(fw, ep=4.0), "moe_permute_eager")
    assert nbytes4 == pytest.approx((3.0 * a + T + 4.0 * a) * h * 2.0)
    dense = _run(fw, model="llama-3.1-8b", ep=1.0)
    assert dense.forward is not None and "moe_permute_eager" not in [op[0] for op in dense.forward.ops]


def test_the_routed_experts_linear_layers_cast_their_inputs_and_output_gradients() -> None:
    """Each expert's FC1 and FC2 are TE Linear layers (SequentialMLP): forward, each casts and transposes its input
    (4 bytes per element: h for FC1, the expert width for FC2); backward, each casts and transposes its output
    gradient (h for FC2, gate and up for FC1): per assignment 4 (h + f) forward and 4 (h + 2f) backward."""
    fw = framework("nemo-2504")
    r = _run(fw)
    a, h, f = T * 2.0, 4096.0, 14336.0
    count, nbytes = _op(r, "fp8_cast_experts")
    assert count == 32 and nbytes == pytest.approx(a * (h + f) * 4.0)
    # the backward pass: its own casts; the forward's cast once per micro-batch (m = 16 / (8 x 2) = 1)
    bare = _run(dataclasses.replace(fw, fp8_recipe=""))
    hw = CAT.get_hardware("b200")
    chip = Chip.of(hw, "fp8", resolve(hw, CAT.efficiency))
    bw = chip.mem_bw * chip.memory_eff
    extra = float(r.parts["backward"]) - float(bare.parts["backward"])
    # the attention block's own (tp 1, no sequence parallelism, no dense FFN): QKV's and the projection's output
    # gradients cast and transposed (6,144 and h wide, 4 bytes), QKV's weight gradient input transposed (h, 2 bytes)
    attention = T * (6144.0 * 4.0 + h * 4.0 + h * 2.0)
    assert extra == pytest.approx(32 * (attention + a * (h + 2.0 * f) * 4.0) / bw, rel=1e-9)
    # a bf16 run pays none of them
    bf16 = step(shape(CAT.get_model("mixtral-8x7b")), Chip.of(hw, "bf16", resolve(hw, CAT.efficiency)),
                Parallel(tp=1.0, dp=8.0, ep=8.0, zero=1.0, sequence_parallel=False), TrainBatch(2.0, 16.0, 4096.0),
                Formats(2.0, 2.0, 2.0), fw, recompute=0.0, detail=True)
    assert bf16.forward is not None and "fp8_cast_experts" not in [op[0] for op in bf16.forward.ops]


@pytest.mark.parametrize("capacity", [1.0, 1.25])
def test_padding_to_capacity_gives_every_chip_exactly_that_share_of_the_assignments(capacity: float) -> None:
    """Drop and pad: every rank sends capacity x T x top-k / experts rows to every expert, so the busiest chip
    computes capacity x its balanced share, routed uniformly or not (dropless: the routing skew's expectation)."""
    fw = dataclasses.replace(framework("nemo-2504"), moe_capacity=capacity)
    s = shape(CAT.get_model("mixtral-8x7b"))
    padded = _run(fw)
    assert padded.forward is not None
    experts = [op for op in padded.forward.ops if op[0] == "moe_experts"][0]
    assert float(experts[2]) == pytest.approx(2.0 * T * 2.0 * capacity * s.expert_params)
    dropless = _run(dataclasses.replace(fw, moe_capacity=0.0))
    assert dropless.forward is not None
    skew = float(routing_imbalance(s, T * 8.0, 8.0))
    assert skew > 1.0
    experts0 = [op for op in dropless.forward.ops if op[0] == "moe_experts"][0]
    assert float(experts0[2]) == pytest.approx(2.0 * T * 2.0 * skew * s.expert_params)
    dispatch = [op for op in padded.forward.ops if op[0] == "ep_dispatch"][0]
    assert float(dispatch[3]) == pytest.approx(T * 2.0 * s.hidden * capacity * FP8.dispatch_bytes)


def test_a_moe_rows_reproducing_command_states_its_expert_parallelism() -> None:
    """``validate --explain``'s command for an MoE row carries the row's ep (without it ``tcobench train`` searches
    one); dense rows print none."""
    from tcobench.perf import validate_training as v

    rows = {r.id: r for r in v.load_rows()}
    assert " --ep 8 " in v.command(rows["nemo2504_gb200_mixtral_8x7b"])
    assert "--ep" not in v.command(rows["nemo2504_gb200_llama3_8b"])

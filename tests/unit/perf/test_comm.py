"""Collectives (perf/comm.py): the ring, and the one-shot all-reduce serving engines run inside a scale-up domain."""

import math

import pytest

from tcobench.catalog import load_catalog
from tcobench.perf import comm
from tcobench.perf.chip import Chip
from tcobench.perf.efficiency import resolve
from tcobench.perf.predict import predict

CAT = load_catalog()
GPU = CAT.efficiency["gpu"]
L, B1 = GPU.allreduce_latency.value, GPU.allreduce_bandwidth.value  # type: ignore[union-attr]


@pytest.mark.parametrize("nbytes", [512.0, 16_384.0, 1_048_576.0, 134_217_728.0])
def test_all_reduce_is_the_lesser_of_the_ring_and_the_one_shot_kernel(nbytes: float) -> None:
    bw, alpha, n = 450e9, 8e-6, 8.0
    ring = 2 * (n - 1) / n * nbytes / bw + 2 * (n - 1) * alpha
    assert comm.all_reduce(nbytes, n, bw, alpha) == pytest.approx(ring)  # no one-shot figures: the ring
    both = comm.all_reduce(nbytes, n, bw, alpha, (L, B1))
    assert both == pytest.approx(min(ring, L + nbytes / B1))
    assert comm.all_reduce(nbytes, 1.0, bw, alpha, (L, B1)) == 0.0


def test_small_messages_take_the_one_shot_time_and_large_ones_the_ring() -> None:
    bw, alpha, n = 450e9, 8e-6, 8.0
    assert comm.all_reduce(16_384.0, n, bw, alpha, (L, B1)) < 2 * (n - 1) * alpha / 5  # 16 KB: ~11 us, not 112 us
    big = 134_217_728.0  # a prefill chunk of 8192 tokens x 8192 x 2 B
    assert comm.all_reduce(big, n, bw, alpha, (L, B1)) == pytest.approx(2 * (n - 1) / n * big / bw + 2 * (n - 1) * alpha)


def _decode_all_reduce(hardware: str, tp: int, runtime: str | None = None) -> float:
    """Seconds per decode-step all-reduce of Llama 3.1 70B at batch 1."""
    p = predict(CAT.get_model("llama-3.1-70b"), CAT.get_hardware(hardware), chips=tp, tp=tp, batch=1, input_len=128,
                output_len=16, precision="fp8", runtime=runtime, catalog=CAT, explain=True)
    op = next(o for o in p.ops if o.phase == "decode" and o.name == "tp_all_reduce")
    return op.time_s / op.count


def test_a_tp8_decode_all_reduce_takes_the_measured_one_shot_time_on_mi300x_and_h100() -> None:
    msg = 8192 * 2.0  # one token's hidden state in 16 bits
    for hw in ("mi300x", "h100-sxm"):
        assert _decode_all_reduce(hw, 8) == pytest.approx(L + msg / B1)


def test_deepspeed_inference_keeps_the_ring_and_a_gpu_without_scale_up_link_too() -> None:
    ring = _decode_all_reduce("h100-sxm", 8, runtime="deepspeed-inference")
    assert ring > 5 * _decode_all_reduce("h100-sxm", 8)  # 2 x 7 collective steps of 8 us each
    assert CAT.get_runtime("deepspeed-inference").allreduce == "ring"
    assert math.isnan(float(predict_chip_ar("l40s")))  # PCIe-only: no peer-memory kernel


def test_upstream_vllm_on_rocm_reduces_through_rccl_and_amds_builds_do_not() -> None:
    """Upstream vLLM turned its custom all-reduce off on ROCm until PR #14125 (2025): its 0.6 builds ring through RCCL
    at every TP all-reduce, AMD's fork (vllm-0.6 rows) runs the one-shot kernel; one GPU has nothing to reduce."""
    upstream = _decode_all_reduce("mi300x", 8, runtime="vllm-0.6-rocm")
    assert upstream == pytest.approx(_decode_all_reduce("mi300x", 8, runtime="deepspeed-inference"))
    assert upstream > 5 * _decode_all_reduce("mi300x", 8, runtime="vllm-0.6")
    assert CAT.get_runtime("vllm-0.6-rocm").allreduce == "ring" and CAT.get_runtime("vllm-0.6").allreduce == "one-shot"
    assert CAT.get_runtime("vllm-0.6-rocm").max_num_seqs == CAT.get_runtime("vllm-0.6").max_num_seqs
    assert _decode_all_reduce("mi300x", 1, runtime="vllm-0.6-rocm") == 0.0


def test_argonne_rows_name_the_upstream_rocm_build() -> None:
    """Argonne's LLM-Inference-Bench built vLLM v0.6.1 from vllm-project/vllm (vLLM/MI300X/README.md): every one of its
    rows, dense and Mixtral, names that runtime; no other row does (AMD's images carry the custom all-reduce)."""
    from tcobench.perf.validate import load_rows

    rows = load_rows()
    assert {r.id for r in rows if r.runtime == "vllm-0.6-rocm"} == {r.id for r in rows if r.id.startswith("anlbench24-")}


def predict_chip_ar(hardware: str) -> float:
    hw = CAT.get_hardware(hardware)
    return float(Chip.of(hw, "fp8", resolve(hw, CAT.efficiency)).ar_latency)


def _large_all_reduce(hardware: str) -> float:
    """Seconds per decode-step all-reduce of Llama 3.1 70B at TP8 and batch 2048 (16 MB and more: the ring)."""
    p = predict(CAT.get_model("llama-3.1-70b"), CAT.get_hardware(hardware), chips=8, tp=8, batch=2048, input_len=128,
                output_len=16, precision="fp8", catalog=CAT, explain=True)
    op = next(o for o in p.ops if o.phase == "decode" and o.name == "tp_all_reduce")
    return op.time_s / op.count


def test_mi300x_rings_run_at_the_bus_bandwidth_rccl_reached() -> None:
    """MI300X's large all-reduces run at the bus bandwidth Azure's RCCL table levels off at (317 GB/s, 0.71 of the
    xGMI links' 448 GB/s); chips without a measured fraction keep the link's rate."""
    hw = CAT.get_hardware("mi300x")
    eff = resolve(hw, CAT.efficiency)
    assert eff.collective_bandwidth == pytest.approx(0.71)
    chip = Chip.of(hw, "fp8", eff)
    assert chip.up_bw == pytest.approx(448e9 * 0.71)
    h100 = CAT.get_hardware("h100-sxm")
    assert Chip.of(h100, "fp8", resolve(h100, CAT.efficiency)).up_bw == h100.scale_up.bandwidth.value  # type: ignore[union-attr]
    nbytes = 2048 * 8192 * 2.0
    expected = 2 * 7 / 8 * nbytes / (448e9 * 0.71) + 14 * eff.collective_latency
    assert _large_all_reduce("mi300x") == pytest.approx(expected, rel=1e-6)


def test_a_collective_bandwidth_above_the_link_is_refused() -> None:
    from tcobench.catalog.schema import Efficiency

    with pytest.raises(ValueError, match="collective_bandwidth"):
        Efficiency.model_validate({"collective_bandwidth": {"value": 1.2, "source": "x"}})


@pytest.mark.parametrize("hw, peer_links", [("mi300x", 1), ("gaudi2", 3)])
def test_a_group_on_a_full_mesh_reaches_only_its_peers_links(hw: str, peer_links: int) -> None:
    """MI300X's 7 xGMI links and Gaudi 2's 21 scale-up ports each go to one peer (1 and 3 per peer): a ring over k of
    the 8 chips runs on the k - 1 peers' links, (k - 1) / 7 of the chip's aggregate; a switch (H100) gives any group
    all of it."""
    from tcobench.perf.chip import Chip
    from tcobench.perf.efficiency import resolve

    cat = load_catalog()
    h = cat.get_hardware(hw)
    chip = Chip.of(h, "bf16", resolve(h, cat.efficiency))
    full = float(comm.tier_bandwidth(chip, 8.0))
    for k in (2.0, 4.0):
        assert float(comm.tier_bandwidth(chip, k)) == pytest.approx(full * (k - 1.0) / 7.0)
    links = 7 if hw == "mi300x" else 21
    assert float(comm.tier_bandwidth(chip, 2.0)) == pytest.approx(full * peer_links / links)
    nv = cat.get_hardware("h100-sxm")
    h100 = Chip.of(nv, "bf16", resolve(nv, cat.efficiency))
    assert float(comm.tier_bandwidth(h100, 2.0)) == float(comm.tier_bandwidth(h100, 8.0))


def _prefill_all_reduce(hardware: str, tp: int, ep: int = 1) -> float:
    """Seconds per prefill all-reduce of DeepSeek-V3's hidden state over a tp group, with ep attention groups."""
    p = predict(CAT.get_model("deepseek-v3"), CAT.get_hardware(hardware), chips=tp * ep, tp=tp, ep=ep, batch=1,
                input_len=4096, output_len=16, precision="fp8", catalog=CAT, explain=True)
    op = next(o for o in p.ops if o.phase == "prefill" and o.name == "tp_all_reduce")
    return op.time_s / op.count


def test_the_tensor_parallel_all_reduce_crosses_only_its_own_group() -> None:
    """The tp ranks of one attention group are adjacent: on 64 H100s as tp 8 x ep 8 each group's all-reduce stays on
    its node's NVLink (the expert exchange over all 64 is what crosses the NICs); a tp group of 16 spans two nodes,
    whose 8 ranks each pool their NICs (comm.ring_bandwidth), as in training's data-parallel rings."""
    inside = _prefill_all_reduce("h100-sxm", 8)
    assert _prefill_all_reduce("h100-sxm", 8, ep=8) == pytest.approx(inside)
    hw = CAT.get_hardware("h100-sxm")
    chip = Chip.of(hw, "fp8", resolve(hw, CAT.efficiency))
    across = _prefill_all_reduce("h100-sxm", 16)
    msg = 4096 * 7168 * 2.0  # the prompt's hidden state in 16 bits
    pooled = comm.ring_bandwidth(chip, 16.0, 1.0)
    assert float(pooled) == pytest.approx(min(float(chip.up_bw), 8 * float(chip.out_bw)))
    assert across == pytest.approx(float(comm.all_reduce(msg, 16.0, pooled, chip.alpha)))
    assert across > float(comm.all_reduce(msg, 16.0, chip.up_bw, chip.alpha))  # slower than one NVLink domain's ring

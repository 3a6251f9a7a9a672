"""Redundant experts (EPLB): replicas of routed experts beyond the model's own, so that experts + redundant divide by
the chips the experts are split over (DeepSeek-V3's 256 + 32 over 72 GPUs, SGLang's --ep-num-redundant-experts)."""

import json

import pytest

import tcobench
from tcobench.errors import DeploymentError, InputError

EP72 = {"chips": 72, "ep": 72, "batch": 72 * 16, "input_len": 2000, "output_len": 100, "precision": "fp8"}


def test_256_experts_over_72_chips_need_32_redundant_ones() -> None:
    with pytest.raises(DeploymentError, match="redundant"):
        tcobench.predict("deepseek-v3", "h100-sxm", **EP72)  # 256 % 72 != 0
    with pytest.raises(DeploymentError, match="redundant"):
        tcobench.predict("deepseek-v3", "h100-sxm", redundant_experts=16, **EP72)  # 272 % 72 != 0
    p = tcobench.predict("deepseek-v3", "h100-sxm", redundant_experts=32, **EP72)  # 288 = 4 x 72
    assert p.redundant_experts == 32 and p.tpot_s > 0


def test_redundant_experts_add_their_weights_to_each_chip() -> None:
    # over 32 chips 256 experts are 8 a chip and 288 are 9: the routed experts' bytes per chip grow by 1/8
    common = {"chips": 32, "ep": 32, "batch": 32, "input_len": 1000, "output_len": 100, "precision": "fp8"}
    plain = tcobench.predict("deepseek-v3", "h100-sxm", **common)
    extra = tcobench.predict("deepseek-v3", "h100-sxm", redundant_experts=32, **common)
    expert = 58 * 3 * 7168 * 2048  # one expert of each of the 58 MoE layers, fp8 (1 byte a weight)
    assert extra.weights_bytes - plain.weights_bytes == pytest.approx(expert, rel=1e-6)


def test_at_a_large_batch_a_chip_reads_all_the_copies_it_holds() -> None:
    def expert_bytes(redundant: int) -> float:
        p = tcobench.predict("deepseek-v3", "h100-sxm", chips=32, ep=32, batch=32 * 256, input_len=1000, output_len=100,
                             precision="fp8", redundant_experts=redundant, explain=True)
        return next(o.bytes for o in p.ops if o.phase == "decode" and o.name == "moe_experts")
    assert expert_bytes(32) > expert_bytes(0)


@pytest.mark.parametrize(("model", "layout", "match"), [
    ("llama-3.1-8b", {"redundant_experts": 8}, "not a mixture of experts"),
    ("deepseek-v3", {"redundant_experts": -1}, "redundant_experts"),
])
def test_bad_redundant_experts_are_named(model: str, layout: dict[str, int], match: str) -> None:
    with pytest.raises(InputError, match=match):
        tcobench.predict(model, "h100-sxm", **layout)


def test_redundant_experts_need_the_experts_split_over_chips() -> None:
    with pytest.raises(DeploymentError, match="redundant experts need moe_ep > 1"):
        tcobench.predict("deepseek-v3", "h100-sxm", tp=8, redundant_experts=32, precision="fp8")


def test_the_cli_flag_and_json(cli) -> None:  # type: ignore[no-untyped-def]
    args = ("predict", "--model", "deepseek-v3", "--hardware", "h100-sxm", "--chips", "72", "--ep", "72", "--batch", "1152",
            "--input-len", "2000", "--output-len", "100", "--precision", "fp8", "--redundant-experts", "32")
    r = cli(*args, "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["redundant_experts"] == 32
    assert "ep=72 redundant_experts=32" in cli(*args).out
    assert "redundant_experts" not in json.loads(cli("predict", "--model", "mixtral-8x7b", "--hardware", "h100-sxm",
                                                     "--json").out)
    bad = cli("predict", "--model", "deepseek-v3", "--hardware", "h100-sxm", "--chips", "72", "--ep", "72",
              "--precision", "fp8")
    assert bad.code != 0 and "redundant" in bad.err

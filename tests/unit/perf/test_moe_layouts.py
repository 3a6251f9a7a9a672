"""MoE layouts as engines name them: experts split over the chips of a tensor-parallel group (TensorRT-LLM's
--tp 8 --ep 8 on 8 GPUs) as well as over data-parallel attention groups (SGLang's --enable-dp-attention)."""

import json

import pytest

import tcobench
from tcobench.errors import DeploymentError


def test_trtllm_tp8_ep8_is_eight_chips_not_sixty_four(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("predict", "--model", "mixtral-8x7b", "--hardware", "h100-sxm", "--tp", "8", "--moe-ep", "8", "--json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert (doc["chips"], doc["tp"], doc["ep"], doc["moe_ep"]) == (8, 8, 1, 8)
    text = cli("predict", "--model", "mixtral-8x7b", "--hardware", "h100-sxm", "--tp", "8", "--moe-ep", "8").out
    assert "tp=8 pp=1 ep=1 moe_ep=8" in text
    assert "moe_ep" not in json.loads(cli("predict", "--model", "mixtral-8x7b", "--hardware", "h100-sxm", "--tp", "8",
                                          "--json").out)  # the default layout's document is as it was


def test_whole_experts_per_chip_cost_the_busiest_chip_a_whole_expert_at_batch_1() -> None:
    # at batch 1 a token meets 2 of 8 experts: sliced over 8 chips, every chip reads an eighth of both (2/8 of an
    # expert); split whole over 8 chips, the two chips holding them read one whole expert each, and the step waits for
    # them. At a large batch every expert is met, and either way a chip reads one expert's worth
    def expert_bytes(batch: int, **layout: int) -> float:
        p = tcobench.predict("mixtral-8x7b", "h100-sxm", tp=8, batch=batch, explain=True, **layout)
        return next(o.bytes for o in p.ops if o.phase == "decode" and o.name == "moe_experts")
    one_expert = 32 * 3 * 4096 * 14336 * 2  # gated FFN, bf16, in each of the 32 layers
    assert expert_bytes(1, moe_ep=8) == pytest.approx(4 * expert_bytes(1), rel=0.01)
    assert expert_bytes(1, moe_ep=8) == pytest.approx(one_expert, rel=0.01)
    assert expert_bytes(256, moe_ep=8) == pytest.approx(expert_bytes(256), rel=0.02)
    sliced = tcobench.predict("mixtral-8x7b", "h100-sxm", tp=8, batch=1)
    whole = tcobench.predict("mixtral-8x7b", "h100-sxm", tp=8, moe_ep=8, batch=1)
    assert whole.weights_bytes == sliced.weights_bytes and whole.tpot_s > sliced.tpot_s


@pytest.mark.parametrize("moe_ep", [3, 16])
def test_a_moe_ep_that_does_not_divide_the_experts_or_the_group_is_refused(moe_ep: int) -> None:
    with pytest.raises(DeploymentError, match="moe_ep"):
        tcobench.predict("mixtral-8x7b", "h100-sxm", tp=8, moe_ep=moe_ep)

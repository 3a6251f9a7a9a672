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


def test_whole_experts_per_chip_read_fewer_weights_at_small_batch() -> None:
    # at batch 1 a token meets 2 of 8 experts: split over 8 chips, each chip reads at most its own whole expert instead of
    # an eighth of every expert the token picked, so the decode step streams no more expert bytes than the sliced layout
    sliced = tcobench.predict("mixtral-8x7b", "h100-sxm", tp=8, batch=1, explain=True)
    whole = tcobench.predict("mixtral-8x7b", "h100-sxm", tp=8, moe_ep=8, batch=1, explain=True)
    def expert_bytes(p: tcobench.Prediction) -> float:
        return next(o.bytes for o in p.ops if o.phase == "decode" and o.name == "moe_experts")
    assert expert_bytes(whole) <= expert_bytes(sliced)
    assert whole.weights_bytes == sliced.weights_bytes


@pytest.mark.parametrize("moe_ep", [3, 16])
def test_a_moe_ep_that_does_not_divide_the_experts_or_the_group_is_refused(moe_ep: int) -> None:
    with pytest.raises(DeploymentError, match="moe_ep"):
        tcobench.predict("mixtral-8x7b", "h100-sxm", tp=8, moe_ep=moe_ep)

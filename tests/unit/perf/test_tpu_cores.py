"""Tensor parallelism over a chip's cores (TPU7x: two TensorCores, each its own device): every tensor-parallel
all-reduce adds a reduce-scatter and an all-gather over the die-to-die link (perf/comm.py, core_all_reduce)."""

import pytest
from pydantic import ValidationError

from tcobench.catalog import load_catalog
from tcobench.catalog.schema import Runtime
from tcobench.errors import MissingInputError
from tcobench.perf.comm import core_all_reduce
from tcobench.perf.efficiency import resolve
from tcobench.perf.predict import predict, stack_chip

CAT = load_catalog()
V7 = CAT.get_hardware("tpu-v7")
VLLM_TPU = CAT.runtimes["vllm-tpu"]
BY_CHIP = VLLM_TPU.model_copy(update={"tensor_parallel": "chips", "tensor_parallel_source": None})


def test_two_cores_pay_two_steps_and_half_the_message_each_way() -> None:
    m, bw, alpha = 1.5e6, 6e11, 4.4e-6
    assert float(core_all_reduce(m, 2.0, bw, alpha)) == pytest.approx(m / bw + 2 * alpha)
    assert float(core_all_reduce(m, 1.0, float("nan"), alpha)) == 0.0  # one rank per chip: no intra-chip stage


def test_only_a_stack_whose_tp_counts_cores_on_a_chip_with_cores_gets_them() -> None:
    eff = resolve(V7, CAT.efficiency)
    chip = stack_chip(V7, "bf16", eff, VLLM_TPU)
    assert float(chip.cores) == 2.0
    assert float(chip.core_bw) == pytest.approx(V7.cores.bandwidth.value * eff.collective_bandwidth)
    assert float(stack_chip(V7, "bf16", eff, BY_CHIP).cores) == 1.0
    assert float(stack_chip(V7, "bf16", eff, None).cores) == 1.0  # no stack: the chip is the rank
    v6e = CAT.get_hardware("tpu-v6e")  # one TensorCore per chip: nothing to add
    assert float(stack_chip(v6e, "bf16", resolve(v6e, CAT.efficiency), VLLM_TPU).cores) == 1.0


@pytest.mark.parametrize("tp", [1, 4])
def test_each_decode_step_pays_the_core_stage_of_its_two_all_reduces_per_layer(tp: int) -> None:
    model, batch = CAT.get_model("qwen3-32b"), 64
    kw = dict(chips=tp, tp=tp, batch=batch, input_len=1024, output_len=256, precision="bf16", catalog=CAT)
    cores = predict(model, V7, runtime=VLLM_TPU, **kw)
    chips = predict(model, V7, runtime=BY_CHIP, **kw)
    eff = resolve(V7, CAT.efficiency)
    msg = batch * model.hidden * 2  # the bf16 hidden state of the step's tokens
    one = msg / (V7.cores.bandwidth.value * eff.collective_bandwidth) + 2 * eff.collective_latency
    assert cores.tpot_s - chips.tpot_s == pytest.approx(2 * model.layers * one, rel=1e-6)


def test_cores_as_ranks_need_a_source_and_the_link() -> None:
    with pytest.raises(ValidationError, match="tensor_parallel_source"):
        Runtime(name="x", decode_attention="per-kv-head", source="s", tensor_parallel="cores")
    no_link = V7.model_copy(update={"cores": V7.cores.model_copy(update={"bandwidth": None})})
    with pytest.raises(MissingInputError, match="cores.bandwidth"):
        stack_chip(no_link, "bf16", resolve(V7, CAT.efficiency), VLLM_TPU)

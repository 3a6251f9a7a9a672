"""compare, plan and sweep under a chosen serving stack (--runtime): the stack's kernel traits and its cap on running
sequences apply as in predict, rows name the stack, and bad specs fail with the flag, the value and a close match."""

import pytest

from tcobench import api
from tcobench.api.inputs import runtimes_of
from tcobench.catalog import load_catalog
from tcobench.cost import OwnParameters
from tcobench.errors import InputError
from tcobench.perf import predict
from tcobench.search import compare

CAT = load_catalog()
PARAMS = OwnParameters.from_basis(CAT.get_cost("default"))
H100, MI300X = CAT.get_hardware("h100-sxm"), CAT.get_hardware("mi300x")


@pytest.mark.parametrize("stack", ["trtllm-0.6", "vllm-0.6-rocm", "tgi-gaudi-1.2", "vllm-gaudi-1.21"])
def test_compare_row_under_a_stack_equals_predict_under_it(stack: str) -> None:
    """The row compare picks with a stack is the one predict gives for that deployment and stack, figure for figure
    (per-query-head decode attention and 16-bit context attention for trtllm-0.6, RCCL's ring for vllm-0.6-rocm,
    static-shape buckets for the Gaudi stacks)."""
    model = CAT.get_model("llama-3.1-70b")
    hw = {"trtllm-0.6": H100, "vllm-0.6-rocm": MI300X, "tgi-gaudi-1.2": CAT.get_hardware("gaudi2"),
          "vllm-gaudi-1.21": CAT.get_hardware("gaudi3")}[stack]
    rows, _ = compare(model, [hw], input_len=1000, output_len=1000, catalog=CAT, params=PARAMS, slo_tpot=0.05,
                      runtimes={hw.id: CAT.get_runtime(stack)})
    (row,) = rows
    d = row.deployment
    assert d is not None and d.runtime == stack
    p = predict(model, hw, tp=d.tp, pp=d.pp, ep=d.ep, batch=d.batch, input_len=1000, output_len=1000,
                precision=d.precision, slo_tpot=0.05, catalog=CAT, runtime=stack)
    assert row.tpot_s == pytest.approx(p.tpot_s) and row.ttft_s == pytest.approx(p.ttft_s)
    assert row.output_tokens_per_s_per_chip == pytest.approx(p.output_tokens_per_s_per_chip)


def test_a_stack_that_reads_the_cache_per_query_head_is_slower_on_a_gqa_model() -> None:
    model = CAT.get_model("llama-3.1-8b")  # 32 query heads share 8 KV heads
    kw = dict(input_len=1000, output_len=1000, catalog=CAT, params=PARAMS, precisions=["bf16"])
    (plain,), _ = compare(model, [H100], **kw)  # type: ignore[arg-type]
    (old,), _ = compare(model, [H100], runtimes={"h100-sxm": CAT.get_runtime("trtllm-0.6")}, **kw)  # type: ignore[arg-type]
    assert plain.deployment is not None and plain.deployment.runtime == "default"
    assert old.output_tokens_per_s_per_chip < plain.output_tokens_per_s_per_chip


def test_the_stacks_cap_on_running_sequences_bounds_the_batch() -> None:
    model = CAT.get_model("llama-3.1-8b")
    (free,), _ = compare(model, [MI300X], input_len=1000, output_len=1000, catalog=CAT, params=PARAMS)
    assert free.deployment is not None and free.deployment.batch > 256  # without a cap the search goes past it
    res = api.compare("llama-3.1-8b", "mi300x,h100-sxm", input_len=1000, output_len=1000, runtime="mi300x=vllm-0.6-rocm")
    by_hw = {r.hardware: r.deployment for r in res.rows}
    assert by_hw["mi300x"] is not None and by_hw["mi300x"].batch <= 256 and by_hw["mi300x"].runtime == "vllm-0.6-rocm"
    assert by_hw["h100-sxm"] is not None and by_hw["h100-sxm"].runtime == "default"
    assert res.to_dict()["rows"][0]["deployment"]["runtime"] in ("vllm-0.6-rocm", "default")


def test_sweep_rows_name_the_stack_and_respect_its_cap() -> None:
    res = api.sweep("llama-3.1-8b", "mi300x", batch="64,256,512", precision="fp8", runtime="vllm-0.6", top=10)
    assert res.top and {r["runtime"] for r in res.top} == {"vllm-0.6"}
    assert max(r["batch"] for r in res.top) <= 256
    free = api.sweep("llama-3.1-8b", "mi300x", batch="64,256,512", precision="fp8", top=10)
    assert {r["runtime"] for r in free.top} == {"default"} and max(r["batch"] for r in free.top) == 512


def test_plan_replica_names_its_stack() -> None:
    res = api.plan("llama-3.1-8b", "mi300x", qps=2, input_len=1000, output_len=1000, runtime="vllm-0.6-rocm")
    (row,) = res.rows
    assert row.deployment is not None and row.deployment.runtime == "vllm-0.6-rocm" and row.deployment.batch <= 256


@pytest.mark.parametrize(("spec", "words"), [
    ("vllm06", ["unknown runtime 'vllm06'", "vllm-0.6"]),
    ("mi300=vllm-0.6", ["'mi300'", "not among the hardware", "mi300x"]),
    ("mi300x=", ["expected HW=RUNTIME"]),
    ("vllm-0.6,trtllm", ["2 runtimes for every chip"]),
    ("", ["names nothing"]),
])
def test_bad_runtime_specs_name_the_flag_the_value_and_a_close_match(spec: str, words: list[str]) -> None:
    with pytest.raises(InputError) as e:
        runtimes_of(CAT, spec, [H100, MI300X])
    assert "runtime" in e.value.params
    for w in words:
        assert w in str(e.value)


def test_one_stack_for_all_and_pairs_for_some() -> None:
    got = runtimes_of(CAT, "vllm-0.6,mi300x=vllm-0.6-rocm", [H100, MI300X])
    assert {k: v.id for k, v in got.items()} == {"h100-sxm": "vllm-0.6", "mi300x": "vllm-0.6-rocm"}
    assert runtimes_of(CAT, None, [H100]) == {}
    assert {k: v.id for k, v in runtimes_of(CAT, {"mi300x": "vllm-0.6"}, [H100, MI300X]).items()} == {"mi300x": "vllm-0.6"}

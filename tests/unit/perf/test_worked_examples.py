"""Worked examples from the seed discussions and first principles."""

import json

import pytest

from tcobench.catalog import load_catalog
from tcobench.catalog.params import count_params
from tcobench.perf import predict
from tcobench.perf.efficiency import resolve
from tcobench.perf.layer import model_flops
from tcobench.perf.precision import BYTES
from tcobench.perf.transformer import shape

CAT = load_catalog()
GPUS = [h for h in sorted(CAT.hardware) if CAT.hardware[h].kind == "gpu"]


def test_two_flops_per_parameter_per_token() -> None:
    # 74 TFLOP/s on a 175B model is ~211 tokens/s (DeepSpeed-Inference, seed discussion)
    s = shape(CAT.get_model("gpt-3-175b"))
    per_token = model_flops(s, 1.0, 0.0, 0.0)  # matmul FLOPs of one token, no attention, no LM head
    assert per_token == pytest.approx(2 * 175e9, rel=0.01)
    assert 74e12 / per_token == pytest.approx(211, rel=0.01)


def test_llama_2_7b_fp16_weights() -> None:
    p = predict(CAT.get_model("llama-2-7b"), CAT.get_hardware("h100-sxm"), precision="fp16", catalog=CAT)
    assert p.weights_bytes == pytest.approx(13.5e9, rel=0.01)


def test_kv_cache_bytes_per_token_gqa_vs_mha() -> None:
    # Llama-2-70B: 80 layers x 2 (K,V) x 8 KV heads x 128 x 2 B = 327,680 B/token
    # Llama-2-7B:  32 layers x 2 x 32 heads x 128 x 2 B = 524,288 B/token (MHA: larger despite 10x fewer params)
    for model_id, expected in (("llama-2-70b", 327_680), ("llama-2-7b", 524_288)):
        s = shape(CAT.get_model(model_id))
        assert s.kv_elems * s.layers * 2 == expected
        p = predict(CAT.get_model(model_id), CAT.get_hardware("h200-sxm"), batch=1, input_len=1000, output_len=24,
                    precision="bf16", catalog=CAT)
        assert p.kv_cache_bytes == pytest.approx(expected * 1024)


@pytest.mark.parametrize("hw", GPUS)
def test_decode_batch_1_memory_bound_and_prefill_2k_compute_bound(hw: str) -> None:
    p = predict(CAT.get_model("llama-2-7b"), CAT.get_hardware(hw), batch=1, input_len=2048, output_len=128,
                precision="fp16", catalog=CAT)
    assert p.bound_decode == "memory"
    assert p.bound_prefill == "compute"


def test_moe_decode_reads_only_touched_experts() -> None:
    m = CAT.get_model("mixtral-8x7b")
    one = predict(m, CAT.get_hardware("h100-sxm"), chips=2, tp=2, batch=1, catalog=CAT, explain=True)
    many = predict(m, CAT.get_hardware("h100-sxm"), chips=2, tp=2, batch=64, catalog=CAT, explain=True)
    bytes_of = lambda p: next(o.bytes for o in p.ops if o.phase == "decode" and o.name == "moe_experts")  # noqa: E731
    # batch 1 touches 2 of 8 experts per layer; batch 64 touches nearly all 8
    assert bytes_of(many) / bytes_of(one) == pytest.approx(4.0, rel=0.05)
    assert count_params(m).active < count_params(m).total


def test_impossible_deployments_are_one_line_errors(cli) -> None:
    r = cli("predict", "--model", "llama-2-70b", "--hardware", "h100-sxm", "--tp", "3")
    assert r.code == 2 and r.err.count("\n") == 1 and "tp does not divide the attention heads" in r.err
    r = cli("predict", "--model", "llama-2-70b", "--hardware", "h100-sxm", "--tp", "2", "--chips", "3")
    assert r.code == 2 and "not a multiple" in r.err


@pytest.mark.parametrize("args, reason", [
    (("--model", "llama-2-70b", "--tp", "3"), "tp does not divide the attention heads"),
    (("--model", "llama-2-70b", "--tp", "2", "--chips", "3", "--batch", "8"), "--chips 3 is not a multiple of tp x pp x ep = 2"),
    (("--model", "gpt-j-6b", "--input-len", "2048", "--output-len", "2048"), "exceeds gpt-j-6b's maximum context of 2048"),
])
def test_an_impossible_deployment_in_json_is_a_document_with_fits_false_and_the_reason(cli, args, reason) -> None:
    """An impossible deployment in --json: `fits: false` with the reason, never a NaN; the exit code and
    the one-line message stay those of the plain command."""
    r = cli("predict", "--hardware", "h100-sxm", *args, "--json")
    assert r.code == 2 and r.err.count("\n") == 1 and reason in r.err
    doc = json.loads(r.out)
    assert doc["fits"] is False and doc["memory"]["fits"] is False and reason in doc["reason"]
    assert doc["model"] in args and doc["hardware"] == "h100-sxm" and isinstance(doc["batch"], int)
    assert not any(k.endswith("_s") or k.startswith("mfu") for k in doc)  # no metric to misread



def test_past_the_context_names_the_lengths_and_the_flag_that_allows_it(cli) -> None:

    args = ("predict", "--model", "gpt-j-6b", "--hardware", "h100-sxm", "--input-len", "2048", "--output-len", "2048")
    r = cli(*args)
    assert r.code == 2 and r.err.count("\n") == 1
    assert "2048 + --output-len 2048 = 4096 tokens exceeds gpt-j-6b's maximum context of 2048" in r.err
    assert "--max-context 4096" in r.err
    r = cli(*args, "--max-context", "4096", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["tpot_s"] > 0

def test_does_not_fit_gives_reason_in_json(cli) -> None:

    r = cli("predict", "--model", "llama-3.1-405b", "--hardware", "h100-sxm", "--json")
    doc = json.loads(r.out)
    assert doc["memory"]["fits"] is False and "does not fit" in doc["reason"]
    assert "NaN" not in r.out


def test_predict_json_keys(cli) -> None:

    r = cli("predict", "--model", "llama-2-70b", "--hardware", "h100-sxm", "--chips", "8", "--tp", "2", "--batch", "auto",
            "--input-len", "1024", "--output-len", "256", "--precision", "fp8", "--json")
    doc = json.loads(r.out)
    keys = ("model hardware chips tp pp ep replicas batch input_len output_len precision ttft_s tpot_s e2e_s output_tokens_per_s "
            "output_tokens_per_s_per_chip prefill_tokens_per_s mfu_prefill mfu_decode mbu_decode bound_prefill bound_decode memory").split()
    assert set(keys) <= set(doc)
    assert set(doc["memory"]) == {"weights_bytes", "kv_cache_bytes", "activation_bytes", "capacity_bytes", "fits", "max_batch"}
    assert doc["replicas"] == 4 and doc["memory"]["fits"] is True
    assert doc["rates"] == {"matmuls": "fp8", "attention": "fp8", "lm_head": "bf16"}


def test_batch_auto_respects_slo(cli) -> None:

    free = json.loads(cli("predict", "--model", "llama-2-7b", "--hardware", "h100-sxm", "--batch", "auto", "--json").out)
    slo = json.loads(cli("predict", "--model", "llama-2-7b", "--hardware", "h100-sxm", "--batch", "auto", "--slo-tpot", "10ms", "--json").out)
    assert slo["tpot_s"] <= 0.010 < free["tpot_s"]
    assert slo["batch"] < free["batch"]


def test_user_hardware_file_works_in_predict(cli, tmp_path) -> None:
    chip = tmp_path / "chip.toml"
    chip.write_text('[source.d]\ntitle = "design"\n[hardware.hypo]\nname = "h"\nvendor = "v"\nkind = "asic"\n'
                    '[hardware.hypo.peak_dense]\nbf16 = { value = "2 PFLOP/s", source = "d" }\n'
                    '[hardware.hypo.memory]\ncapacity = { value = "256 GB", source = "d" }\nbandwidth = { value = "12 TB/s", source = "d" }\n')
    r = cli("predict", "--model", "llama-2-70b", "--hardware", str(chip), "--json")
    assert r.code == 0, r.err


def test_largest_batch_that_fits_is_the_edge_of_fits() -> None:
    m, hw = CAT.get_model("llama-2-70b"), CAT.get_hardware("h100-sxm")
    p = predict(m, hw, chips=2, tp=2, batch=1, input_len=1024, output_len=256, precision="fp8", catalog=CAT)
    assert p.max_batch > 1
    at = predict(m, hw, chips=2, tp=2, batch=p.max_batch, input_len=1024, output_len=256, precision="fp8", catalog=CAT)
    over = predict(m, hw, chips=2, tp=2, batch=p.max_batch + 1, input_len=1024, output_len=256, precision="fp8", catalog=CAT)
    assert at.fits and not over.fits
    huge = predict(CAT.get_model("llama-3.1-405b"), hw, catalog=CAT)
    assert huge.max_batch == 0 and not huge.fits


def test_a_pre_xqa_runtime_reads_each_kv_head_once_per_query_head(cli) -> None:
    """Llama-2-70B has 64 query heads over 8 KV heads: a per-query-head kernel reads the decode KV cache 8x;
    Llama-2-7B is multi-head attention, so the runtime makes no difference there."""

    def attention_bytes(model: str, *runtime: str) -> float:
        r = cli("predict", "--model", model, "--hardware", "h100-sxm", "--tp", "2", "--batch", "64", "--input-len", "2048",
                "--output-len", "256", "--precision", "fp8", "--explain", "--json", *runtime)
        assert r.code == 0, r.err
        doc = json.loads(r.out)
        assert doc["runtime"] == (runtime[1] if runtime else "default")
        return next(o["bytes"] for o in doc["ops"] if o["phase"] == "decode" and o["name"] == "attention")

    # decode attention bytes = KV read + KV written + q/o activations; the read dominates at 64 x 2176 positions
    ratio = attention_bytes("llama-2-70b", "--runtime", "trtllm-0.6") / attention_bytes("llama-2-70b")
    assert 7.9 < ratio < 8.0
    assert attention_bytes("llama-2-7b", "--runtime", "trtllm-0.6") == attention_bytes("llama-2-7b")


def test_unknown_runtime_names_the_flag_and_a_close_match(cli) -> None:
    r = cli("predict", "--model", "llama-2-7b", "--hardware", "h100-sxm", "--runtime", "trtllm-06")
    assert r.code == 2 and "--runtime" in r.err and "'trtllm-0.6'" in r.err


def test_quantised_matmuls_keep_the_hidden_state_in_16_bit() -> None:
    """fp8 and fp4 set the matmul peak; the hidden state and the all-reduce messages stay 16-bit."""
    for precision in ("fp8", "fp4", "bf16"):
        p = predict(CAT.get_model("llama-2-70b"), CAT.get_hardware("b200"), tp=2, batch=1, input_len=128, output_len=8,
                    precision=precision, catalog=CAT, explain=True)
        ar = next(o for o in p.ops if o.phase == "prefill" and o.name == "tp_all_reduce")
        assert ar.count == 160 and ar.bytes == 160 * 128 * 8192 * 2.0
    fp8 = predict(CAT.get_model("llama-2-70b"), CAT.get_hardware("h100-sxm"), tp=2, precision="fp8", catalog=CAT)
    bf16 = predict(CAT.get_model("llama-2-70b"), CAT.get_hardware("h100-sxm"), tp=2, precision="bf16", catalog=CAT)
    assert fp8.mfu_prefill > 0 and fp8.ttft_s < bf16.ttft_s  # the fp8 peak is still used for the matmuls


def test_quantised_weights_keep_the_embedding_and_lm_head_in_16_bit() -> None:
    """Llama-3.1-8B: 128,256 x 4,096 embedding + an untied LM head of the same size stay bf16 under fp8 and fp4
    (ModelOpt disables *lm_head*; embeddings are lookups); the other 6.98B weights take the quantised format."""
    m = CAT.get_model("llama-3.1-8b")
    p = count_params(m)
    head = p.embedding + p.lm_head
    assert head == 2 * 128_256 * 4_096
    for precision, wb in (("fp8", 1.0), ("fp4", 0.5 + 1 / 16), ("bf16", 2.0)):  # NVFP4: one fp8 scale per 16 weights
        got = predict(m, CAT.get_hardware("b200"), precision=precision, catalog=CAT, explain=True)
        assert got.weights_bytes == pytest.approx((p.total - head) * wb + head * 2.0, rel=1e-12)
        lm = next(o for o in got.ops if o.phase == "decode" and o.name == "lm_head")
        assert lm.bytes >= 128_256 * 4_096 * 2.0  # the whole head is read in 16-bit every step


def test_the_lm_head_runs_at_the_16_bit_rate_under_fp8() -> None:
    # at batch 4096 the LM head is compute-bound: its time is its FLOPs over the bf16 peak x bf16 efficiency
    m, h100 = CAT.get_model("llama-3.1-8b"), CAT.get_hardware("h100-sxm")
    eff = resolve(h100, CAT.efficiency)
    got = predict(m, h100, precision="fp8", batch=4096, input_len=128, output_len=128, catalog=CAT, explain=True)
    lm = next(o for o in got.ops if o.phase == "decode" and o.name == "lm_head")
    assert lm.bound == "compute"
    bf16 = h100.peak("bf16")
    assert bf16 is not None
    assert lm.time_s == pytest.approx(lm.flops / (bf16.value * eff.compute_for("bf16")) + eff.overhead, rel=1e-9)
    qkv = next(o for o in got.ops if o.phase == "decode" and o.name == "qkv_proj")  # the body runs at the fp8 rate
    assert qkv.bound == "compute"
    assert qkv.time_s / qkv.count == pytest.approx(qkv.flops / qkv.count / (h100.peak("fp8").value * eff.compute_for("fp8"))  # type: ignore[union-attr]
                                                   + eff.overhead, rel=1e-9)


@pytest.mark.parametrize("precision", ["fp8", "bf16"])
def test_matmuls_stream_weights_at_their_formats_rate_and_attention_at_the_chips(precision: str) -> None:
    # decode at batch 1 is memory-bound everywhere: a matmul's time is its bytes over the bandwidth x the weight
    # streaming factor of its format (H100: fp8 GEMMs measured slower than bf16), the KV read's the chip's factor
    m, h100 = CAT.get_model("llama-3.1-8b"), CAT.get_hardware("h100-sxm")
    eff = resolve(h100, CAT.efficiency)
    assert eff.memory_for("fp8") < eff.memory == eff.memory_for("bf16")
    got = predict(m, h100, precision=precision, batch=1, input_len=2048, output_len=128, catalog=CAT, explain=True)
    bw = h100.memory.bandwidth.value  # type: ignore[union-attr]
    ops = {o.name: o for o in got.ops if o.phase == "decode"}
    for name, factor in (("ffn", eff.memory_for(precision)), ("qkv_proj", eff.memory_for(precision)),
                         ("lm_head", eff.memory_for("bf16")), ("attention", eff.memory)):
        o = ops[name]
        assert o.bound == "memory", name
        assert o.time_s / o.count == pytest.approx(o.bytes / o.count / (bw * factor) + eff.overhead, rel=1e-9), name


@pytest.mark.parametrize(("precision", "kv", "hw", "rate", "runtime"), [
    ("fp4", "fp8", "b200", "fp8", "trtllm"),  # no 4-bit attention kernel: an fp4 model attends at the fp8 rate
    ("fp8", "bf16", "h100-sxm", "bf16", "default"),  # a 16-bit cache is not multiplied in fp8
    ("fp8", "fp8", "h100-sxm", "fp8", "trtllm"),  # FP8 context attention
    ("fp8", "fp8", "h100-sxm", "bf16", "trtllm-0.6"),  # ... which TensorRT-LLM 0.5/0.6 did not have
    ("bf16", "fp8", "h100-sxm", "bf16", "default"),  # an fp8 cache under a bf16 query is dequantised to bf16
])
def test_prefill_attention_runs_at_the_wider_of_activations_and_kv(precision: str, kv: str, hw: str, rate: str,
                                                                    runtime: str) -> None:
    # a 16k-token prompt makes the prefill's attention compute-bound: its time is its FLOPs over that format's rate
    m, chip = CAT.get_model("llama-3.1-70b"), CAT.get_hardware(hw)
    eff = resolve(chip, CAT.efficiency)
    got = predict(m, chip, precision=precision, kv=kv, batch=1, input_len=16384, output_len=1, tp=8, chips=8,
                  catalog=CAT, explain=True, runtime=runtime)
    assert got.rates["attention"] == rate
    attn = next(o for o in got.ops if o.phase == "prefill" and o.name == "attention")
    assert attn.bound == "compute"
    peak = chip.peak(rate)
    assert peak is not None
    launch = max(eff.eager_overhead, eff.overhead)  # a prefill runs eagerly: its operators pay the eager launch cost
    assert attn.time_s / attn.count == pytest.approx(attn.flops / attn.count / (peak.value * eff.compute_for(rate)) + launch,
                                                     rel=1e-9)


def test_palm_540b_2d_weight_stationary_on_64_tpu_v4(cli) -> None:
    """Pope et al. 2022: 64 chips as x = 4 (d_model) by yz = 16 (heads, d_ff); 48 heads do not split 64 ways in
    1D, but 16 ways in 2D. Decode attention is batch-sharded: each chip keeps 1/64 of the multi-query KV cache."""

    from tcobench.perf.layer import split_2d

    m = CAT.get_model("palm-540b")
    assert tuple(float(v) for v in split_2d(shape(m), 64)) == (4.0, 16.0)
    args = ("predict", "--model", "palm-540b", "--hardware", "tpu-v4", "--tp", "64", "--batch", "64", "--input-len", "1920",
            "--output-len", "128", "--weights", "int8")
    r = cli(*args)
    assert r.code == 2 and "tp does not divide the attention heads" in r.err
    r = cli(*args, "--tp-layout", "2d", "--json", "--explain")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["tp_layout"] == "2d" and doc["memory"]["fits"]
    # 118 layers x (K + V: 2 x 256) x 2048 tokens x 64 sequences x 2 B, over 64 chips
    assert doc["memory"]["kv_cache_bytes"] == pytest.approx(118 * 512 * 2048 * 64 * 2 / 64)
    names = {o["name"] for o in doc["ops"] if o["phase"] == "decode"}
    assert {"tp2d_all_gather_yz", "tp2d_reduce_scatter_yz", "attn_all_to_all"} <= names and "tp_all_reduce" not in names
    one_d = predict(m, CAT.get_hardware("tpu-v4"), chips=64, tp=16, pp=4, batch=64, input_len=1920, output_len=128,
                    weights="int8", catalog=CAT)
    assert doc["tpot_s"] < one_d.tpot_s  # the stand-in re-reads each stage's weights once per micro-batch


def test_the_2d_layout_refuses_moe_and_names_its_split(cli) -> None:
    r = cli("predict", "--model", "mixtral-8x7b", "--hardware", "h100-sxm", "--tp", "8", "--tp-layout", "2d")
    assert r.code == 2 and r.err.count("\n") == 1
    assert "tp=8 (2d, x=" in r.err and "the 2d layout needs a dense model" in r.err
    r = cli("predict", "--model", "palm-540b", "--hardware", "tpu-v4", "--tp", "64", "--tp-layout", "3d")
    assert r.code == 2 and "--tp-layout" in r.err and "'1d', '2d'" in r.err


def test_block_scaled_formats_store_their_scales() -> None:
    """NVFP4 keeps one FP8 E4M3 scale per 16 values (TensorRT-LLM's NVFP4LinearMethod: weight [out, in / 2] plus an
    fp8 scale per 16 inputs), MXFP6 one 8-bit scale per 32: 4.5 and 6.25 bits an element. Llama-3.1-70B's body in
    fp4 takes 12.5 % more than 4 bits a weight would."""
    assert BYTES["fp4"] == 4.5 / 8 and BYTES["fp6"] == 6.25 / 8 and BYTES["int4"] == 0.5 and BYTES["fp8"] == 1.0
    m = CAT.get_model("llama-3.1-70b")
    p = count_params(m)
    body = p.total - p.embedding - p.lm_head
    got = predict(m, CAT.get_hardware("b200"), precision="fp4", catalog=CAT)
    assert got.weights_bytes == pytest.approx(body * 0.5625 + (p.embedding + p.lm_head) * 2.0, rel=1e-12)
    assert got.weights_bytes > body * 0.5 * 1.12


def test_cuda_graph_padding_in_predict(cli) -> None:
    args = ("predict", "--model", "llama-3.1-70b", "--hardware", "h200-sxm", "--batch", "200", "--input-len", "128",
            "--output-len", "2048", "--precision", "fp8")
    plain = json.loads(cli(*args, "--json").out)
    r = cli(*args, "--cuda-graph-batches", "256,1,128", "--json")
    padded = json.loads(r.out)
    assert r.code == 0 and padded["cuda_graph"]["batch"] == 256 and 0.9 < padded["cuda_graph"]["share_of_decode_steps"] <= 1
    assert padded["tpot_s"] > plain["tpot_s"] and padded["ttft_s"] == plain["ttft_s"] and "cuda_graph" not in plain
    text = cli(*args, "--cuda-graph-batches", "1,128,256").out
    assert "CUDA graphs" in text and "padded from 200 to 256" in text
    bad = cli(*args, "--cuda-graph-batches", "64,x")
    assert bad.code == 2 and "--cuda-graph-batches" in bad.err and "'64,x'" in bad.err


@pytest.mark.parametrize(("model", "tp", "moves"), [
    ("llama-3.1-8b", 1, 3),  # SwiGLU: reads the gate and up outputs, writes their product
    ("llama-3.1-70b", 4, 3),  # ... each chip its 1/tp of the intermediate
    ("gpt-j-6b", 1, 2),  # GELU, not gated: reads one input, writes one output
])
def test_the_ffn_activation_is_a_memory_bound_kernel_over_the_intermediate(model: str, tp: int, moves: int) -> None:
    m = CAT.get_model(model)
    got = predict(m, CAT.get_hardware("h100-sxm"), precision="bf16", batch=8, input_len=1000, output_len=100, tp=tp,
                  chips=tp, catalog=CAT, explain=True)
    for phase, tokens in (("prefill", 1000), ("decode", 8)):
        act = next(o for o in got.ops if o.phase == phase and o.name == "ffn_activation")
        assert act.count == m.layers
        assert act.bytes / act.count == pytest.approx(moves * tokens * m.ffn_hidden / tp * 2.0, rel=1e-12)  # 16-bit
        assert act.bound == "memory"


def test_moe_activation_covers_the_routed_and_shared_experts() -> None:
    m = CAT.get_model("deepseek-v3")  # 256 routed experts, top 8, one shared, three dense layers
    assert m.moe is not None
    got = predict(m, CAT.get_hardware("h200-sxm"), precision="fp8", batch=1, input_len=512, output_len=1, tp=8, chips=8,
                  catalog=CAT, explain=True)
    act = next(o for o in got.ops if o.phase == "prefill" and o.name == "moe_activation")
    width = (m.moe.top_k + m.moe.shared_experts) * m.moe.expert_ffn_hidden / 8
    assert act.count == m.layers - m.moe.dense_layers
    assert act.bytes / act.count == pytest.approx(3 * 512 * width * 2.0, rel=1e-12)


def test_a_hardware_files_own_weight_streaming_factor_wins_and_names_its_source(tmp_path) -> None:
    # the record's own [efficiency] memory_at beats every catalog table; a format it does not name keeps `memory`
    chip = tmp_path / "chip.toml"
    chip.write_text('[source.d]\ntitle = "design"\n[hardware.hypo]\nname = "h"\nvendor = "v"\nkind = "gpu"\n'
                    '[hardware.hypo.peak_dense]\nbf16 = { value = "2 PFLOP/s", source = "d" }\nfp8 = { value = "4 PFLOP/s", source = "d" }\n'
                    '[hardware.hypo.memory]\ncapacity = { value = "256 GB", source = "d" }\nbandwidth = { value = "12 TB/s", source = "d" }\n'
                    '[hardware.hypo.efficiency]\nmemory = { value = 0.9, source = "d" }\n'
                    'memory_at = { fp8 = { value = 0.45, source = "d" } }\n')
    hw = CAT.hardware_ref(str(chip), where="--hardware")
    eff = resolve(hw, CAT.efficiency)
    assert (eff.memory_for("fp8"), eff.memory_for("bf16"), eff.memory_for("fp4")) == (0.45, 0.9, 0.9)
    assert eff.sources["memory_at.fp8"] == "hardware.hypo.efficiency (d)"
    fp8 = predict(CAT.get_model("llama-3.1-8b"), hw, precision="fp8", batch=1, catalog=CAT, explain=True)
    bf16 = predict(CAT.get_model("llama-3.1-8b"), hw, precision="bf16", batch=1, catalog=CAT, explain=True)
    ffn8, ffn16 = (next(o for o in p.ops if o.phase == "decode" and o.name == "ffn") for p in (fp8, bf16))
    # half the bytes at half the streaming rate: the same time
    assert ffn8.time_s == pytest.approx(ffn16.time_s, rel=0.02)


def test_predict_shows_the_efficiency_factors_it_ran_with(cli) -> None:
    # JSON and --explain give the factor per operator class in the format it ran in, as the catalog resolves them
    b200 = CAT.get_hardware("b200")
    eff = resolve(b200, CAT.efficiency)
    args = ("predict", "--model", "llama-3.1-70b", "--hardware", "b200", "--precision", "fp4", "--batch", "64")
    doc = json.loads(cli(*args, "--json").out)["efficiency"]
    assert doc["matmuls"] == {"precision": "fp4", "compute": eff.compute_for("fp4"), "weight_streaming": eff.memory_for("fp4")}
    assert doc["attention"] == {"precision": "fp8", "compute": eff.compute_for("fp8")}
    assert doc["lm_head"]["weight_streaming"] == eff.memory_for("bf16") == eff.memory != eff.memory_for("fp4")
    assert (doc["overhead_s"], doc["collective_latency_s"]) == (eff.overhead, eff.collective_latency)
    text = " ".join(cli(*args, "--explain").out.split())  # the console wraps long lines
    assert f"matmuls (fp4): compute {eff.compute_for('fp4'):g}, weight streaming {eff.memory_for('fp4'):g}" in text
    assert "memory_at.fp4 from efficiency.b200" in text

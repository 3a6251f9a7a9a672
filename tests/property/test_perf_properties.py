"""Invariants of the performance model, and the vectorised path against the scalar reference."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tcobench.catalog import load_catalog
from tcobench.perf import Batch, Chip, Engine, Formats, Layout, evaluate
from tcobench.perf.efficiency import resolve
from tcobench.perf.layer import routing_imbalance
from tcobench.perf.transformer import shape
from tests.unit.perf.reference import ttft_tpot_throughput

CAT = load_catalog()
H100 = CAT.get_hardware("h100-sxm")
CHIP = Chip.of(H100, "bf16", resolve(H100, CAT.efficiency))
FP8 = Chip.of(H100, "fp8", resolve(H100, CAT.efficiency))  # its LM head runs at the bf16 rate
FP8_KV16 = Chip.of(H100, "fp8", resolve(H100, CAT.efficiency), kv="bf16")  # and its attention too, on a 16-bit cache


def as_dict(c: Chip) -> dict:
    return dict(peak=c.peak, bw=c.mem_bw, ce=c.compute_eff, me=c.memory_eff, ovh=c.overhead, alpha=c.alpha, up_bw=c.up_bw,
                out_bw=c.out_bw, domain=c.up_domain, chunk=c.prefill_chunk, head_rate=c.head_rate,
                attn_rate=c.attn_rate, mm_me=c.matmul_memory_eff, head_me=c.head_memory_eff, ar_lat=c.ar_latency, ar_bw=c.ar_bw,
                gg_full=c.gg_full, gg_loss=c.gg_loss, gg_least=c.gg_least, eager=c.eager_overhead)


def run(s, chip: Chip, *, batch, input_len, output_len, tp=1, ep=1, weight_bytes=2.0, kv_bytes=2.0, two_d=False,
        kv_per_query_head=False, graph_batches=None):
    """``evaluate`` with the records built from the axes these tests vary."""
    return evaluate(s, chip, Batch(batch, input_len, output_len), Layout(tp=tp, ep=ep, two_d=two_d),
                    Formats(weight_bytes, kv_bytes), engine=Engine(kv_per_query_head, graph_batches))


MODELS = ["llama-2-7b", "llama-2-70b", "mixtral-8x7b", "deepseek-v3", "gpt-3-175b", "palm-540b"]


@settings(max_examples=60, deadline=None)
@given(model=st.sampled_from(MODELS), batch=st.integers(1, 512), s_in=st.integers(1, 8192), s_out=st.integers(1, 4096),
       tp=st.sampled_from([1, 2, 4, 8]), ep=st.sampled_from([1, 2, 4, 8]), per_q=st.booleans(),
       fmt=st.sampled_from([("bf16", 2.0, 2.0), ("fp8", 1.0, 1.0), ("fp8-kv16", 0.5, 2.0)]), two_d=st.booleans(),
       graphs=st.sampled_from([None, [1, 2, 4, 8, 16, 32, 64, 128, 256, 384], [3, 100, 300]]))
def test_vectorised_equals_scalar_reference(model: str, batch: int, s_in: int, s_out: int, tp: int, ep: int, per_q: bool,
                                            fmt: tuple[str, float, float], two_d: bool, graphs: list[int] | None) -> None:
    m = CAT.get_model(model)
    if ep > 1 and m.moe is None:
        ep = 1
    s = shape(m)
    two_d = two_d and m.moe is None  # the 2D layout covers dense models
    compute, wb, kvb = fmt  # the compute rate, bytes per weight and per KV element (activations move in 16-bit)
    chip = {"bf16": CHIP, "fp8": FP8, "fp8-kv16": FP8_KV16}[compute]
    r = run(s, chip, batch=batch, input_len=s_in, output_len=s_out, tp=tp, ep=ep, kv_per_query_head=per_q,
            weight_bytes=wb, kv_bytes=kvb, two_d=two_d, graph_batches=graphs)
    ttft, tpot, tput = ttft_tpot_throughput(s, as_dict(chip), batch, s_in, s_out, tp, ep, wb, kvb, 2.0, per_q, two_d, graphs)
    assert float(r.ttft_s) == pytest.approx(ttft, rel=1e-9)
    assert float(r.tpot_s) == pytest.approx(tpot, rel=1e-9)
    assert float(r.output_tokens_per_s) == pytest.approx(tput, rel=1e-9)


def test_a_grid_equals_one_by_one() -> None:
    s = shape(CAT.get_model("llama-2-70b"))
    batch = np.array([1, 8, 64, 512])[:, None]
    tp = np.array([1, 2, 4, 8])[None, :]
    grid = run(s, CHIP, batch=batch, input_len=1024, output_len=256, tp=tp)
    for i, b in enumerate(batch[:, 0]):
        for j, t in enumerate(tp[0]):
            one = run(s, CHIP, batch=int(b), input_len=1024, output_len=256, tp=int(t))
            assert grid.tpot_s[i, j] == pytest.approx(float(one.tpot_s))
            assert grid.code[i, j] == int(one.code)


@settings(max_examples=40, deadline=None)
@given(batch=st.integers(1, 256), s_in=st.integers(16, 4096), s_out=st.integers(16, 1024),
       grow=st.floats(1.01, 4.0), which=st.sampled_from(["batch", "input_len", "output_len"]))
def test_time_never_falls_when_work_grows(batch: int, s_in: int, s_out: int, grow: float, which: str) -> None:
    s = shape(CAT.get_model("llama-2-7b"))
    base = dict(batch=batch, input_len=s_in, output_len=s_out)
    more = dict(base)
    more[which] = base[which] * grow
    a, b = run(s, CHIP, **base), run(s, CHIP, **more)
    assert float(b.ttft_s) >= float(a.ttft_s) - 1e-15
    assert float(b.tpot_s) >= float(a.tpot_s) - 1e-15


@settings(max_examples=40, deadline=None)
@given(scale=st.floats(0.1, 0.99), field=st.sampled_from(["peak", "mem_bw", "up_bw"]))
def test_slower_hardware_is_never_faster(scale: float, field: str) -> None:
    import dataclasses

    s = shape(CAT.get_model("llama-2-70b"))
    slow = dataclasses.replace(CHIP, **{field: getattr(CHIP, field) * scale})
    kw = dict(batch=np.array([1, 16, 256]), input_len=2048, output_len=256, tp=4)
    a, b = run(s, CHIP, **kw), run(s, slow, **kw)
    assert np.all(b.ttft_s >= a.ttft_s) and np.all(b.tpot_s >= a.tpot_s)


@pytest.mark.parametrize("batch", [1, 8, 64])
def test_per_chip_throughput_does_not_rise_with_tp_unless_memory_bound(batch: int) -> None:
    s = shape(CAT.get_model("llama-2-70b"))
    tps = np.array([2, 4, 8])
    r = run(s, CHIP, batch=batch, input_len=512, output_len=256, tp=tps)
    per_chip = r.output_tokens_per_s_per_chip
    for i in range(len(tps) - 1):
        rises = per_chip[i + 1] > per_chip[i] * (1 + 1e-9)
        assert not rises or r.bound_decode[i] == 1  # only a memory-bound replica gains from spreading weights


@settings(max_examples=40, deadline=None)
@given(model=st.sampled_from(MODELS), batch=st.integers(1, 512), ctx=st.integers(1, 8192), tp=st.sampled_from([1, 2, 4, 8]))
def test_reading_kv_per_query_head_is_never_faster_and_costs_only_decode(model: str, batch: int, ctx: int, tp: int) -> None:
    s = shape(CAT.get_model(model))
    kw = dict(batch=batch, input_len=ctx, output_len=64, tp=tp)
    shared, per_q = run(s, CHIP, **kw), run(s, CHIP, kv_per_query_head=True, **kw)
    assert float(per_q.tpot_s) >= float(shared.tpot_s)
    assert float(per_q.ttft_s) == float(shared.ttft_s)  # the prefill kernel is not the decode kernel
    assert float(per_q.kv_cache_bytes) == float(shared.kv_cache_bytes)  # the cache is stored once either way
    if s.heads == s.kv_heads and tp <= s.kv_heads:  # multi-head attention: nothing to share, nothing changes
        assert float(per_q.tpot_s) == float(shared.tpot_s)


@settings(max_examples=40, deadline=None)
@given(model=st.sampled_from(MODELS), batch=st.integers(1, 600), s_in=st.integers(1, 4096), s_out=st.integers(1, 4096),
       tp=st.sampled_from([1, 2, 8]))
def test_cuda_graph_padding_never_speeds_a_step_and_a_captured_batch_is_not_padded(model: str, batch: int, s_in: int,
                                                                                    s_out: int, tp: int) -> None:
    s = shape(CAT.get_model(model))
    args = dict(batch=batch, input_len=s_in, output_len=s_out, tp=tp)
    plain = run(s, FP8, **args)
    padded = run(s, FP8, graph_batches=[1, 2, 4, 8, 16, 32, 64, 128, 256, 384, 512], **args)
    exact = run(s, FP8, graph_batches=[batch], **args)
    assert float(padded.tpot_s) >= float(plain.tpot_s) * (1 - 1e-12)
    assert float(padded.output_tokens_per_s) <= float(plain.output_tokens_per_s) * (1 + 1e-12)
    assert float(padded.ttft_s) == float(plain.ttft_s)  # padding is a decode-step matter
    assert float(exact.tpot_s) == pytest.approx(float(plain.tpot_s), rel=1e-12)
    expected = batch if batch > 512 else min(g for g in (1, 2, 4, 8, 16, 32, 64, 128, 256, 384, 512) if g >= batch)
    assert float(padded.graph_batch) == expected


@settings(max_examples=40, deadline=None)
@given(batch=st.integers(1, 512), s_in=st.integers(16, 4096), tp=st.sampled_from([1, 2, 4, 8]), ep=st.sampled_from([1, 2, 4, 8]))
def test_moe_ep_defaults_to_ep_and_only_moves_the_expert_work(batch: int, s_in: int, tp: int, ep: int) -> None:
    """moe_ep = ep is the default layout exactly; splitting the experts over all tp x ep chips of a stage (TensorRT-LLM's
    --tp N --ep N) changes only the routed experts' operators, never attention or the dense parts."""
    s = shape(CAT.get_model("mixtral-8x7b"))
    work = Batch(batch, s_in, 256)
    plain = evaluate(s, CHIP, work, Layout(tp=tp, ep=ep), detail=True)
    same = evaluate(s, CHIP, work, Layout(tp=tp, ep=ep, moe_ep=ep), detail=True)
    assert float(same.tpot_s) == float(plain.tpot_s) and float(same.ttft_s) == float(plain.ttft_s)
    spread = evaluate(s, CHIP, work, Layout(tp=tp, ep=ep, moe_ep=tp * ep), detail=True)
    assert float(spread.weights_bytes) == float(plain.weights_bytes)  # the same chips hold the same experts
    assert plain.decode is not None and spread.decode is not None
    for (name, *a), (_, *b) in zip(plain.decode.ops, spread.decode.ops, strict=True):
        if not name.startswith("moe_"):
            assert [float(x) for x in a] == [float(x) for x in b], name
    if tp > 1 and 8 % (tp * ep) == 0:  # whole experts per chip instead of slices: fewer experts read, and the busiest
        # chip's share of the routed tokens (uneven under random routing) instead of an even slice of every expert
        flops = {n: float(f) * float(c) for n, c, f, *_ in plain.decode.ops}
        flops_spread = {n: float(f) * float(c) for n, c, f, *_ in spread.decode.ops}
        busiest = float(routing_imbalance(s, batch, tp * ep)) / float(routing_imbalance(s, batch, ep))
        assert busiest >= 1.0
        assert flops_spread["moe_experts"] == pytest.approx(flops["moe_experts"] * busiest)


@settings(max_examples=30, deadline=None)
@given(batch=st.integers(1, 256), s_in=st.integers(16, 16384), s_out=st.integers(16, 4096),
       window=st.sampled_from([128, 1024, 4096]), share=st.sampled_from([None, 16, 32]))
def test_a_local_attention_window_never_costs_more_and_a_wide_one_costs_nothing(batch: int, s_in: int, s_out: int,
                                                                               window: int, share: int | None) -> None:
    """Layers that attend within a window read and keep at most `window` positions: never slower, never more KV; a
    window wider than the whole sequence changes nothing."""
    m = CAT.get_model("llama-2-7b")
    full = shape(m)
    local = shape(m.model_copy(update={"window": window, "window_layers": share}))
    wide = shape(m.model_copy(update={"window": s_in + s_out + 1, "window_layers": share}))
    work = Batch(batch, s_in, s_out)
    a, b, c = (evaluate(x, CHIP, work) for x in (full, local, wide))
    assert float(b.ttft_s) <= float(a.ttft_s) * (1 + 1e-12) and float(b.tpot_s) <= float(a.tpot_s) * (1 + 1e-12)
    assert float(b.kv_cache_bytes) <= float(a.kv_cache_bytes) * (1 + 1e-12)
    for x, y in ((a.ttft_s, c.ttft_s), (a.tpot_s, c.tpot_s), (a.kv_cache_bytes, c.kv_cache_bytes),
                 (a.output_tokens_per_s, c.output_tokens_per_s)):
        assert float(y) == pytest.approx(float(x), rel=1e-12)
    layers = share if share is not None else full.layers
    if s_in + s_out > window:  # the windowed layers hold exactly `window` positions per sequence
        per_layer = float(a.kv_cache_bytes) / full.layers
        expected = per_layer * (full.layers - layers) + per_layer * layers * window / (s_in + s_out)
        assert float(b.kv_cache_bytes) == pytest.approx(expected, rel=1e-9)

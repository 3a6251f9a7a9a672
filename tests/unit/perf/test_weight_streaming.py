"""Wafer-scale execution: weights resident in on-wafer SRAM where they fit, streamed from external memory
(MemoryX-style, over the wafer's external I/O) where they do not, with the batch amortising the stream."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dataclasses

import tcobench
from tcobench.catalog import load_catalog
from tcobench.perf.memory import streamed_weights
from tcobench.perf.transformer import shape

CAT = load_catalog()


def _io_bw(hw: str) -> float:
    bw = CAT.hardware[hw].external_io.bandwidth
    assert bw is not None
    return float(bw.value)


def test_cs2_runs_llama_2_70b_by_streaming_and_a_decode_step_is_one_pass_of_the_weights() -> None:
    p = tcobench.predict("llama-2-70b", "cs-2", batch=1)
    assert p.weights_streamed and p.fits and p.max_batch > 1
    params = CAT.models["llama-2-70b"]
    resident = shape(params).total_params * 2.0  # bf16: the whole model crosses the I/O once per pass
    assert p.tpot_s == pytest.approx(resident / _io_bw("cs-2"), rel=1e-3)
    assert p.bound_decode == "memory"
    assert p.weights_bytes < resident / 10  # only two layers are held on the wafer


def test_the_batch_amortises_the_stream() -> None:
    one = tcobench.predict("llama-2-70b", "cs-2", batch=1)
    many = tcobench.predict("llama-2-70b", "cs-2", batch=32)
    assert many.tpot_s == pytest.approx(one.tpot_s, rel=0.05)  # the step is the stream, whatever the batch
    assert many.output_tokens_per_s > 20 * one.output_tokens_per_s


def test_a_model_that_fits_stays_resident_and_is_far_faster() -> None:
    small = tcobench.predict("llama-2-7b", "cs-2", batch=1)
    assert not small.weights_streamed and small.fits
    assert small.tpot_s < 0.01


def test_a_gpu_that_does_not_fit_does_not_silently_stream() -> None:
    p = tcobench.predict("llama-2-70b", "h100-sxm", batch=1)
    assert not p.fits and not p.weights_streamed


def test_gc200_runs_a_model_over_a_long_pipeline() -> None:
    p = tcobench.predict("llama-2-7b", "gc200", chips=32, pp=32, batch=1)
    assert p.fits and not p.weights_streamed and p.tpot_s > 0


@settings(max_examples=30, deadline=None)
@given(resident=st.floats(1e6, 1e12), layers=st.integers(1, 200), pp=st.integers(1, 8))
def test_streaming_never_holds_more_than_resident_once_there_are_two_layers_per_stage(resident: float, layers: int,
                                                                                        pp: int) -> None:
    s = dataclasses.replace(shape(CAT.models["llama-2-7b"]), layers=layers)
    held = float(streamed_weights(s, resident, float(pp)))
    per_stage = s.layers / pp
    assert held == pytest.approx(2.0 * resident / max(per_stage, 1.0))
    if per_stage >= 2:
        assert held <= resident


def test_json_says_the_weights_stream(cli) -> None:
    import json
    doc = json.loads(cli("predict", "--model", "llama-2-70b", "--hardware", "cs-2", "--json").out)
    assert doc["memory"]["weights_streamed"] is True and doc["memory"]["fits"] is True
    small = json.loads(cli("predict", "--model", "llama-2-7b", "--hardware", "cs-2", "--json").out)
    assert "weights_streamed" not in small["memory"]


CS2 = CAT.get_hardware("cs-2")


@settings(max_examples=30, deadline=None)
@given(faster=st.floats(1.0, 100.0), batch=st.sampled_from([1.0, 4.0, 16.0, 64.0]),
       model=st.sampled_from(["llama-2-70b", "llama-2-13b", "llama-2-7b"]))
def test_a_faster_stream_never_slows_a_step_and_a_bigger_batch_never_lowers_throughput(faster: float, batch: float,
                                                                                      model: str) -> None:
    from tcobench.perf import Batch, Chip, evaluate
    from tcobench.perf.efficiency import resolve
    chip = Chip.of(CS2, "bf16", resolve(CS2, CAT.efficiency))
    s = shape(CAT.models[model])
    work = Batch(batch, 1024.0, 256.0)
    base = evaluate(s, chip, work)
    quick = evaluate(s, dataclasses.replace(chip, stream_bw=float(chip.stream_bw) * faster), work)
    assert float(quick.tpot_s) <= float(base.tpot_s) * (1 + 1e-12)
    assert bool(quick.streamed) == bool(base.streamed)  # whether to stream depends on memory, not on the link
    more = evaluate(s, chip, Batch(batch * 2.0, 1024.0, 256.0))
    if bool(base.streamed) and bool(more.streamed):
        assert float(more.output_tokens_per_s) >= float(base.output_tokens_per_s)

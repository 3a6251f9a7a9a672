"""Static shapes on Gaudi stacks (catalog runtimes with buckets): a prompt prefills at its padded length, a decode step
runs at the padded batch and reads the padded KV positions; the buckets follow vllm-hpu-extension's find_bucket."""

import numpy as np
import pytest
from pydantic import ValidationError

from tcobench.catalog import load_catalog
from tcobench.catalog.schema import Runtime
from tcobench.perf import predict
from tcobench.perf.deployment import Batch, Engine, Formats, Layout, Padding, bucket
from tcobench.perf.inference import evaluate
from tcobench.perf.predict import stack_padding
from tcobench.perf.chip import Chip
from tcobench.perf.efficiency import resolve
from tcobench.perf.transformer import shape

CAT = load_catalog()
MODEL, GAUDI2 = CAT.get_model("llama-2-70b"), CAT.get_hardware("gaudi2")
CHIP = Chip.of(GAUDI2, "fp8", resolve(GAUDI2, CAT.efficiency), kv="fp8")
S = shape(MODEL)
LAY, FMT = Layout(8.0, 1.0, 1.0, 8.0), Formats.of("fp8", "fp8", "fp8")


@pytest.mark.parametrize(("v", "lo", "step", "padded"), [
    (5, 1, 32, 8),          # below the step: the next power of two from min
    (32, 1, 32, 32), (33, 1, 32, 64), (65, 1, 32, 96),  # from the step on: its multiples
    (100, 128, 128, 128),   # below min: min
    (1472, 128, 256, 1536), (1868, 128, 256, 2048),
    (1024, 8, 8, 1024), (1025, 8, 8, 1032),  # min = step: plain multiples (TGI's round_up)
    (7, 1, 0, 7),           # no bucket
])
def test_bucket_pads_as_find_bucket(v: int, lo: int, step: int, padded: int) -> None:
    assert bucket(v, lo, step) == padded


def test_decode_over_the_allocated_cache_costs_what_that_context_costs_unpadded() -> None:
    """TGI on Gaudi reads every sequence's whole cache (2,048 positions) each step: a decode step at 222 in / 292 out
    costs what an unpadded one at a mean context of 2,048 (1,024 in / 2,048 out) costs, and more than its own."""
    tgi = Engine(padding=Padding(allocated=True, total_len=2048.0))
    padded = evaluate(S, CHIP, Batch(1024.0, 222.0, 292.0), LAY, FMT, engine=tgi)
    same = evaluate(S, CHIP, Batch(1024.0, 1024.0, 2048.0), LAY, FMT)
    own = evaluate(S, CHIP, Batch(1024.0, 222.0, 292.0), LAY, FMT)
    assert padded.tpot_s == pytest.approx(same.tpot_s)
    assert padded.tpot_s > own.tpot_s * 1.2


def test_the_padded_batch_runs_the_matmuls_and_the_real_one_attends() -> None:
    """65 sequences pad to 96 (step 32): slower than 65 unpadded, faster than 96 (whose attention reads 96 contexts)."""
    eng = Engine(padding=Padding(batch_min=1.0, batch_step=32.0))
    lengths = (1000.0, 1000.0)
    t65 = evaluate(S, CHIP, Batch(65.0, *lengths), LAY, FMT, engine=eng).tpot_s
    assert evaluate(S, CHIP, Batch(65.0, *lengths), LAY, FMT).tpot_s < t65 < evaluate(S, CHIP, Batch(96.0, *lengths), LAY, FMT).tpot_s
    assert evaluate(S, CHIP, Batch(64.0, *lengths), LAY, FMT, engine=eng).tpot_s == pytest.approx(
        evaluate(S, CHIP, Batch(64.0, *lengths), LAY, FMT).tpot_s)  # on a bucket: nothing padded


def test_a_prompt_prefills_at_its_bucket() -> None:
    eng = Engine(padding=Padding(prompt_min=128.0, prompt_step=128.0))
    assert evaluate(S, CHIP, Batch(1.0, 222.0, 100.0), LAY, FMT, engine=eng).ttft_s == pytest.approx(
        evaluate(S, CHIP, Batch(1.0, 256.0, 100.0), LAY, FMT).ttft_s)


def test_paged_blocks_padded_to_the_block_bucket() -> None:
    """vllm-fork's flat paged attention: each sequence's context in whole 128-token blocks, the batch's total padded
    to the block bucket (step 256 blocks), averaged over the generation; no block bucket reads the mean context."""
    pad = Padding(block_min=128.0, block_step=256.0, block_size=128.0)
    positions = pad.decode_positions(64.0, 64.0, 1868.0, 2048.0)
    real = 64.0 * (1868.0 + 1024.0)
    assert real * 1.02 < positions < real + 256 * 128  # at least the blocks' round-up, at most one bucket step more
    assert Padding().decode_positions(64.0, 64.0, 1868.0, 2048.0) == pytest.approx(real)
    many = Padding(block_min=np.array([[128.0], [1.0]]), block_step=np.array([[256.0], [0.0]]),
                   block_size=np.array([[128.0], [1.0]]))  # one value per candidate stack, as a search passes them
    assert np.allclose(many.decode_positions(np.array([[64.0]]), np.array([[64.0]]), 1868.0, 2048.0), [[positions], [real]])


def test_the_gaudi_runtimes_pad_and_default_does_not() -> None:
    assert stack_padding(CAT.get_runtime("default")) is None
    tgi = stack_padding(CAT.get_runtime("tgi-gaudi-1.2"))
    assert tgi is not None and tgi.allocated and tgi.total_len == 2048 and tgi.batch(1001) == 1008
    vllm = stack_padding(CAT.get_runtime("vllm-gaudi-1.21-tutorial"))
    assert vllm is not None and not vllm.allocated and vllm.prompt(1868) == 2048 and vllm.batch(64) == 64
    oh = stack_padding(CAT.get_runtime("optimum-habana-1.6"))
    assert oh is not None and oh.allocated and np.isnan(oh.total_len)  # the prompt plus the output length


def test_predict_under_tgi_gaudi_is_slower_than_the_default_stack() -> None:
    kw = dict(chips=8, tp=8, batch=1024, input_len=222, output_len=292, precision="fp8", catalog=CAT)
    plain, tgi = predict(MODEL, GAUDI2, **kw), predict(MODEL, GAUDI2, runtime="tgi-gaudi-1.2", **kw)  # type: ignore[arg-type]
    assert tgi.tpot_s > plain.tpot_s and tgi.ttft_s > plain.ttft_s
    assert tgi.output_tokens_per_s < plain.output_tokens_per_s


@pytest.mark.parametrize(("fields", "message"), [
    ({"kv_block_bucket": {"min": 128, "step": 128, "source": "s"}}, "block_size"),
    ({"decode_kv": "allocated"}, "decode_kv_source"),
    ({"max_total_tokens": 2048}, "decode_kv = 'allocated'"),
    ({"decode_batch_bucket": {"min": 0, "step": 8, "source": "s"}}, "greater than or equal to 1"),
])
def test_static_shape_fields_are_checked(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Runtime(name="x", decode_attention="per-kv-head", source="s", **fields)  # type: ignore[arg-type]


def test_the_serving_simulation_decodes_at_the_padded_shapes() -> None:
    """The simulator's decode steps under TGI on Gaudi: the padded batch (1001 -> 1008) over the 2,048-token
    allocated cache, whatever the sequences hold; a stack without padding reads their contexts."""
    from tcobench.perf.steps import ModelSteps

    kw = dict(max_tokens=2048, max_seqs=1024, max_context=600)
    plain = ModelSteps.build(S, CHIP, LAY, FMT, Engine(), **kw)  # type: ignore[arg-type]
    tgi = ModelSteps.build(S, CHIP, LAY, FMT, Engine(padding=stack_padding(CAT.get_runtime("tgi-gaudi-1.2"))), **kw)  # type: ignore[arg-type]
    assert tgi.padded(1001, np.array(1001 * 400.0))[:2] == (1008, 1008)
    wide = ModelSteps.build(S, CHIP, LAY, FMT, Engine(), max_tokens=2048, max_seqs=1024, max_context=2048)  # a grid to 2,048
    assert tgi.decode_run(1001, np.array([1001 * 400.0]))[0] == pytest.approx(wide.decode_run(1008, np.array([1008 * 2048.0]))[0], rel=1e-3)
    assert tgi.step(1001, 1001 * 400.0, [], 0) > plain.step(1001, 1001 * 400.0, [], 0)

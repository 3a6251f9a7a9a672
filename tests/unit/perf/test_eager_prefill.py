"""A prefill runs eagerly (issue 18): its operators pay the chip's eager launch cost, a decode step the graph one."""

from __future__ import annotations

import dataclasses

import pytest

from tcobench.catalog import load_catalog
from tcobench.perf.chip import Chip
from tcobench.perf.deployment import Batch, Engine, Formats, Layout
from tcobench.perf.efficiency import resolve
from tcobench.perf.inference import evaluate
from tcobench.perf.steps import ModelSteps
from tcobench.perf.transformer import shape

CAT = load_catalog()


def _chip(hw: str) -> Chip:
    h = CAT.get_hardware(hw)
    return Chip.of(h, "bf16", resolve(h, CAT.efficiency))


@pytest.mark.parametrize(("hw", "eager_us"), [("h100-sxm", 10.3), ("h200-sxm", 10.2), ("a100-sxm-80gb", 10.3)])
def test_gpus_take_the_measured_eager_launch_cost(hw: str, eager_us: float) -> None:
    assert float(_chip(hw).eager_overhead) == pytest.approx(eager_us * 1e-6)


def test_a_tpu_keeps_its_one_overhead() -> None:
    chip = _chip("tpu-v5e")
    assert chip.eager_overhead != chip.eager_overhead  # NaN: a compiled program, no per-kernel launch from the host


@pytest.mark.parametrize("input_len", [128.0, 2048.0])
def test_the_ttft_grows_by_the_launch_gap_per_prefill_operator_and_the_tpot_not_at_all(input_len: float) -> None:
    s, chip = shape(CAT.get_model("llama-2-7b")), _chip("h100-sxm")
    graph_only = dataclasses.replace(chip, eager_overhead=float("nan"))
    batch = Batch(1.0, input_len, 8.0)
    eager, plain = evaluate(s, chip, batch, detail=True), evaluate(s, graph_only, batch, detail=True)
    assert eager.prefill is not None
    ops = sum(float(count) for _name, count, _f, _b, _t, bound in eager.prefill.ops if bound != 2)  # collectives: alpha
    gap = float(chip.eager_overhead) - float(chip.overhead)
    assert gap > 5e-6
    assert float(eager.ttft_s) - float(plain.ttft_s) == pytest.approx(ops * gap, rel=1e-9)
    assert float(eager.tpot_s) == float(plain.tpot_s)


def test_a_serving_step_with_a_prompt_runs_eagerly_and_a_decode_only_step_from_a_graph() -> None:
    s, chip = shape(CAT.get_model("llama-3.1-8b")), _chip("h100-sxm")
    lay, fmt = Layout(1.0), Formats.of("bf16")
    steps = ModelSteps.build(s, chip, lay, fmt, Engine(), max_tokens=2048, max_seqs=16, max_context=4096)
    graph_only = ModelSteps.build(s, dataclasses.replace(chip, eager_overhead=float("nan")), lay, fmt, Engine(),
                                  max_tokens=2048, max_seqs=16, max_context=4096)
    assert steps.step(8, 8 * 1000.0, [], 0) == graph_only.step(8, 8 * 1000.0, [], 0)
    assert steps.step(8, 8 * 1000.0, [(512, 0)], 1) > graph_only.step(8, 8 * 1000.0, [(512, 0)], 1)
    # a lone prompt is one step that costs what evaluate's prefill costs
    r = evaluate(s, chip, Batch(1.0, 1000.0, 0.0), lay, fmt)
    assert steps.step(0, 0.0, [(1000, 0)], 1) == pytest.approx(float(r.ttft_s), rel=1e-9)

"""Speed of one scalar call: ``tcobench.predict`` one configuration at a time, as a notebook loop calls it.

Baseline, run in the same process and interleaved round by round: llm-analysis's ``LLMAnalysis.inference``
(github.com/cli99/llm-analysis, the per-configuration calculator its README shows), on the closest model and
GPU it ships (LLaMA-65B on an H100 SXM 80GB; tcobench runs Llama 2 70B on h100-sxm), tp 4, batch 16, input 1,000
+ i tokens so no call repeats, 256 output tokens. Both do a full inference estimate (latency, throughput, memory)
per call; neither caches. Also printed: ``perf.evaluate`` on one configuration (the core without predict's
input checks, catalog lookups and result record) and the vectorised rate for comparison.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/predict_call.py [--calls 2000] [--rounds 5]

llm-analysis is not a dependency of tcobench: install it into the environment that runs this script
(``pip install llm-analysis==0.2.2``, which brings transformers) or pass ``--no-peer``.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import tcobench  # noqa: E402
from tcobench.perf import Batch, Chip, Formats, Layout, evaluate  # noqa: E402
from tcobench.perf.efficiency import resolve  # noqa: E402
from tcobench.perf.transformer import shape  # noqa: E402


def rate(fn: Callable[[int], object], calls: int) -> float:
    """Calls per second of ``fn(i)`` over ``calls`` calls."""
    start = time.perf_counter()
    for i in range(calls):
        fn(i)
    return calls / (time.perf_counter() - start)


def peer() -> Callable[[int], object] | None:
    try:
        from llm_analysis import analysis  # type: ignore[import-not-found]
        from llm_analysis.config import (  # type: ignore[import-not-found]
            get_dtype_config_by_name, get_gpu_config_by_name, get_model_config_by_name,
        )
    except ImportError:
        return None
    analysis.logger.setLevel(logging.ERROR)
    model = get_model_config_by_name("decapoda-research_llama-65b-hf")
    gpu = get_gpu_config_by_name("h100-sxm-80gb")
    dtype = get_dtype_config_by_name("w16a16e16")

    def call(i: int) -> object:
        a = analysis.LLMAnalysis(model, gpu, dtype, analysis.ParallelismConfig(tp_size=4), flops_efficiency=0.7,
                                 hbm_memory_efficiency=0.8)
        return a.inference(batch_size_per_gpu=16, seq_len=1000 + i % 1000, num_tokens_to_generate=256)

    return call


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-peer", action="store_true", help="Skip llm-analysis even when it is installed.")
    args = ap.parse_args()

    cat = tcobench.load_catalog()
    model, hw = cat.get_model("llama-2-70b"), cat.get_hardware("h100-sxm")
    chip = Chip.of(hw, "bf16", resolve(hw, cat.efficiency))
    s = shape(model)

    def ours(i: int) -> object:
        return tcobench.predict(model, hw, tp=4, batch=16, input_len=1000 + i % 1000, output_len=256, catalog=cat)

    def core(i: int) -> object:
        return evaluate(s, chip, Batch(16.0, 1000.0 + i % 1000, 256.0), Layout(tp=4.0), Formats())

    other = None if args.no_peer else peer()
    if other is None and not args.no_peer:
        print("llm-analysis is not installed here (pip install llm-analysis==0.2.2); timing tcobench alone")
    for fn in (ours, core, *([other] if other else [])):
        rate(fn, 50)  # warm up: imports, caches, first-call costs
    rows: dict[str, list[float]] = {"tcobench.predict": [], "perf.evaluate, one configuration": []}
    if other:
        rows["llm-analysis inference()"] = []
    for _ in range(args.rounds):  # interleaved, so a busy machine slows every contender alike
        rows["tcobench.predict"].append(rate(ours, args.calls))
        rows["perf.evaluate, one configuration"].append(rate(core, args.calls))
        if other:
            rows["llm-analysis inference()"].append(rate(other, args.calls // 4))

    grid = np.arange(1, 1_000_001, dtype=float)
    start = time.perf_counter()
    evaluate(s, chip, Batch(grid % 512 + 1, 1000.0, 256.0), Layout(tp=4.0), Formats())
    vectorised = grid.size / (time.perf_counter() - start)

    print(f"one configuration per call (median of {args.rounds} interleaved rounds of {args.calls:,} calls; one core)")
    base = statistics.median(rows["llm-analysis inference()"]) if other else None
    for name, rates in rows.items():
        med = statistics.median(rates)
        ratio = f"  {med / base:.2f}x llm-analysis" if base else ""
        print(f"  {name:34} {med:>9,.0f} calls/s  ({min(rates):,.0f}-{max(rates):,.0f}){ratio}")
    print(f"  {'perf.evaluate, 1M configurations':34} {vectorised:>9,.0f} configurations/s in one call")


if __name__ == "__main__":
    main()

"""Speed of the serving simulator: 10,000 requests on llama-3.1-70b (4 x H100, fp8) at several arrival rates.

Each rate is simulated with the step-run fast path (``perf.serving.simulate``: decode-only steps between events
costed in one vectorised call) and, as the baseline in the same process, with every step one loop iteration
(``runs=False``); the two must give the same timeline, which the script checks. The step-cost tables are built
once (their time is printed apart).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/serving_sim.py [--requests 10000] [--rates 2,8,14,30]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from tcobench.catalog import load_catalog  # noqa: E402
from tcobench.perf import Chip, Engine, Formats, Layout  # noqa: E402
from tcobench.perf.efficiency import resolve  # noqa: E402
from tcobench.perf.serving import Scheduler, Slo, simulate, summarize  # noqa: E402
from tcobench.perf.steps import ModelSteps, kv_capacity  # noqa: E402
from tcobench.perf.traffic import Traffic  # noqa: E402
from tcobench.perf.transformer import shape  # noqa: E402


def best_of(fn, repeat: int):  # type: ignore[no-untyped-def]
    """(result, the fastest of ``repeat`` wall times in seconds)."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--rates", default="2,8,14,30")
    ap.add_argument("--input-len", type=int, default=1000)
    ap.add_argument("--output-len", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cat = load_catalog()
    hw = cat.get_hardware("h100-sxm")
    chip = Chip.of(hw, "fp8", resolve(hw, cat.efficiency))
    s = shape(cat.get_model("llama-3.1-70b"))
    lay, fmt = Layout(4.0, 1.0, 1.0, 4.0), Formats.of("fp8")
    max_tokens, max_seqs = int(chip.prefill_chunk), 256
    steps, build_s = best_of(lambda: ModelSteps.build(s, chip, lay, fmt, Engine(), max_tokens=max_tokens, max_seqs=max_seqs,
                                                      max_context=args.input_len + args.output_len), args.repeat)
    sched = Scheduler(max_tokens, max_seqs, kv_capacity(s, chip, lay, fmt, max_tokens, max_seqs))
    print(f"llama-3.1-70b on 4 x h100-sxm, fp8, {args.input_len} in / {args.output_len} out, {args.requests:,} poisson "
          f"requests per run; step tables built in {build_s * 1e3:.1f} ms")
    print(f"{'rate/s':>7} {'steps':>9} {'step runs':>10} {'plain loop':>11} {'speed-up':>9} {'TTFT p99':>10} {'saturated':>10}")
    for rate in (float(x) for x in args.rates.split(",")):
        traffic = Traffic.open("poisson", rate, args.requests, args.input_len, args.output_len)
        fast, t_fast = best_of(lambda: simulate(steps, traffic, sched), args.repeat)  # noqa: B023
        slow, t_slow = best_of(lambda: simulate(steps, traffic, sched, runs=False), 1)  # noqa: B023
        same = all(np.allclose(getattr(fast, k), getattr(slow, k), rtol=1e-9, atol=1e-9, equal_nan=True)
                   for k in ("arrival", "admitted", "first", "done")) and fast.steps == slow.steps
        if not same:
            raise SystemExit(f"rate {rate:g}: the step-run path and the plain loop disagree")
        r = summarize(fast, traffic, sched, Slo())
        print(f"{rate:>7g} {fast.steps:>9,} {t_fast * 1e3:>8.0f} ms {t_slow * 1e3:>8.0f} ms {t_slow / t_fast:>8.1f}x "
              f"{r.ttft_s['p99'] * 1e3:>7.0f} ms {'yes' if r.saturated else 'no':>10}")


if __name__ == "__main__":
    main()

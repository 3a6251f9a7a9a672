"""Speed of the vectorised performance model: configurations per second on one core.

A grid of batch x input_len x output_len x tp x precision x hardware is evaluated through
``tcobench.perf.evaluate`` in chunks; every configuration gets the full TTFT/TPOT/throughput/memory
result. Printed against a baseline in the same process: the scalar ``predict`` path, one
configuration at a time (what a per-configuration calculator does).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/perf_grid.py [--configs 10000000]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from tcobench.catalog import load_catalog  # noqa: E402
from tcobench.perf import BYTES, Batch, Chip, Formats, Layout, Limits, evaluate, predict  # noqa: E402
from tcobench.perf.precision import activation_bytes  # noqa: E402
from tcobench.perf.efficiency import resolve  # noqa: E402
from tcobench.perf.transformer import shape  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", type=int, default=10_000_000)
    ap.add_argument("--model", default="llama-2-70b")
    args = ap.parse_args()
    cat = load_catalog()
    model = cat.get_model(args.model)
    s = shape(model)
    hardware = [h for h in ("a100-sxm-80gb", "h100-sxm", "h200-sxm", "b200", "mi300x", "gaudi3", "tpu-v5p", "l40s")]
    precisions = ["bf16", "fp8"]
    batch = np.unique(np.geomspace(1, 4096, 160).astype(int))
    s_in = np.unique(np.geomspace(64, 32768, 40).astype(int))
    s_out = np.unique(np.geomspace(16, 8192, 30).astype(int))
    tp = np.array([1, 2, 4, 8])
    per_hw_prec = batch.size * s_in.size * s_out.size * tp.size
    total = per_hw_prec * len(hardware) * len(precisions)
    reps = max(1, int(np.ceil(args.configs / total)))
    B, I, O, T = (a.ravel() for a in np.meshgrid(batch, s_in, s_out, tp, indexing="ij"))

    evaluated = 0
    t0 = time.perf_counter()
    for _ in range(reps):
        for hw_id in hardware:
            hw = cat.get_hardware(hw_id)
            eff = resolve(hw, cat.efficiency)
            for p in precisions:
                if hw.peak(p) is None:
                    continue
                chip = Chip.of(hw, p, eff)
                for lo in range(0, B.size, 1_000_000):
                    sl = slice(lo, lo + 1_000_000)
                    r = evaluate(s, chip, Batch(B[sl], I[sl], O[sl]), Layout(tp=T[sl]),
                                 Formats(BYTES[p], BYTES[p], activation_bytes(p)), limits=Limits(model.max_context))
                    evaluated += r.tpot_s.size
    vec_s = time.perf_counter() - t0
    vec_rate = evaluated / vec_s

    hw = cat.get_hardware("h100-sxm")
    n = 300
    t0 = time.perf_counter()
    for i in range(n):
        predict(model, hw, batch=int(batch[i % batch.size]), input_len=1024, output_len=256, tp=2, chips=2, catalog=cat)
    scalar_rate = n / (time.perf_counter() - t0)

    print(f"model {model.id}; grid {len(hardware)} hardware x {len(precisions)} precisions x {batch.size} batch x "
          f"{s_in.size} input_len x {s_out.size} output_len x {tp.size} tp")
    print(f"vectorised: {evaluated:,} configurations in {vec_s:.2f} s = {vec_rate:,.0f} configurations/s (one core)")
    print(f"baseline, scalar predict() one at a time: {scalar_rate:,.0f} configurations/s")
    print(f"ratio vectorised / scalar: {vec_rate / scalar_rate:,.0f}x")


if __name__ == "__main__":
    main()

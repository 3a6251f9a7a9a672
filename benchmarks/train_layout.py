"""Speed of `tcobench train --layout auto`: every layout of a job searched at once by one vectorised step call.

Printed against a baseline in the same process: the same layouts through ``perf.training.step`` one at a time
(what a per-configuration calculator does).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/train_layout.py [--chips 16384] [--model gpt-3-175b]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from tcobench.catalog import load_catalog  # noqa: E402
from tcobench.perf.chip import Chip  # noqa: E402
from tcobench.perf.deployment import Formats  # noqa: E402
from tcobench.perf.efficiency import resolve  # noqa: E402
from tcobench.perf.train import _grid, train  # noqa: E402
from tcobench.perf.training import Parallel, TrainBatch, step  # noqa: E402
from tcobench.perf.stacks import framework
from tcobench.perf.transformer import shape  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chips", type=int, default=16384)
    ap.add_argument("--model", default="gpt-3-175b")
    ap.add_argument("--hardware", default="h100-sxm")
    ap.add_argument("--baseline", type=int, default=2000, help="layouts timed one at a time for the baseline")
    args = ap.parse_args()
    cat = load_catalog()
    m, hw = cat.get_model(args.model), cat.get_hardware(args.hardware)
    train(m, hw, chips=args.chips, catalog=cat)  # warm caches (catalog, shapes)
    t0 = time.perf_counter()
    r = train(m, hw, chips=args.chips, catalog=cat)
    auto_s = time.perf_counter() - t0
    print(f"--layout auto, {args.model} on {args.chips:,} x {args.hardware}: {r.searched:,} layouts ({r.valid:,} valid and "
          f"fitting) in {auto_s:.3f} s, {r.searched / auto_s:,.0f} layouts/s; fastest {r.layout}")
    s = shape(m)
    chip = Chip.of(hw, "bf16", resolve(hw, cat.efficiency))
    g = _grid(s.layers, s.heads, s.experts, args.chips, hw, {})
    assert g is not None
    n = min(args.baseline, g["tp"].size)
    fw, fmt = framework("megatron"), Formats(2.0, 2.0, 2.0)
    t0 = time.perf_counter()
    for i in range(n):
        step(s, chip, Parallel(*(float(g[k][i]) for k in ("tp", "pp", "dp", "cp", "ep", "vpp", "zero"))),
             TrainBatch(float(g["micro_batch"][i]), 2048.0, 2048.0), fmt, fw, recompute=float(g["rc"][i]))
    one_s = (time.perf_counter() - t0) / n
    print(f"baseline, one layout at a time: {1 / one_s:,.0f} layouts/s ({n:,} timed)")
    print(f"ratio: the vectorised search is {r.searched / auto_s * one_s:.1f}x the one-at-a-time rate")


if __name__ == "__main__":
    main()

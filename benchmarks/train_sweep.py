"""Speed of ``sweep --train``: training jobs per second through the vectorised, chunked grid, against a baseline in
the same process: the same kind of points through ``perf.training.step`` one at a time (scalar inputs, the model's
plain path: what a per-configuration calculator does), priced the same way.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/train_sweep.py [--model gpt-3-175b] [--chips 64:16384:x2]
"""

from __future__ import annotations

import argparse
import math
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import tcobench  # noqa: E402
from tcobench.catalog import load_catalog  # noqa: E402
from tcobench.perf.train import DEFAULT_TOKENS_PER_STEP  # noqa: E402
from tcobench.perf.training import Parallel, TrainBatch, step  # noqa: E402
from tcobench.perf.stacks import framework
from tcobench.search.sweep import parse_axis  # noqa: E402
from tcobench.search.train_sweep import AXES, ZERO_NAMES, TrainGrid, parse_choices  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="gpt-3-175b")
    ap.add_argument("--hardware", default="h100-sxm,b200,mi300x,a100-sxm-80gb")
    ap.add_argument("--chips", default="64:16384:x2")
    ap.add_argument("--baseline", type=int, default=2000, help="points timed one at a time for the baseline")
    args = ap.parse_args()
    grid_text = dict(chips=args.chips, tp="1,2,4,8", pp="1,2,4,8,16", cp="1,2", ep="1", vpp="1,2", zero="1,3",
                     micro_batch="1,2,4,8", recompute="none,selective,full")
    kw = dict(hardware=args.hardware, top=10, pareto=True, **grid_text)
    tcobench.sweep_training(args.model, chips="64", hardware="h100-sxm", top=1)  # warm: catalog, shapes, imports
    t0 = time.perf_counter()
    res = tcobench.sweep_training(args.model, **kw)  # type: ignore[arg-type]
    wall = time.perf_counter() - t0
    rate = res.evaluated / wall
    best = res.top[0]
    print(f"sweep --train, {args.model} on {args.hardware}, chips {args.chips}: {res.evaluated:,} training jobs "
          f"({res.feasible:,} feasible) in {wall:.2f} s, {rate:,.0f} jobs/s (estimate and pricing included); cheapest: "
          f"{best['chips']} x {best['hardware']} tp{best['tp']} pp{best['pp']} dp{best['dp']}, {best['time_to_train_s'] / 86400:.1f} days")

    # Baseline: points spread evenly over one candidate's grid, each through the scalar model and priced.
    cat = load_catalog()
    m, hw = cat.get_model(args.model), cat.get_hardware(args.hardware.split(",")[0])
    axes = {a: parse_axis(v, a) for a, v in grid_text.items() if a not in ("zero", "recompute")}
    axes["zero"] = parse_choices(grid_text["zero"], "zero", ZERO_NAMES)
    axes["recompute"] = parse_choices(grid_text["recompute"], "recompute", ("none", "selective", "full"))
    grid = TrainGrid(m, {a: axes[a] for a in AXES}, fw=framework("megatron"), seq_len=2048, global_batch=None,
                     tokens=1e12, deadline_s=None)
    plane = TrainGrid.plane(hw, "bf16", cat, 1e-3, 700.0)
    flat = np.linspace(0, grid.per_cand - 1, min(args.baseline, grid.per_cand)).round().astype(np.int64)
    coords = [dict(zip(AXES, (float(grid.axes[a][i]) for a, i in zip(AXES, idx, strict=True)), strict=True))
              for idx in zip(*np.unravel_index(flat, grid.dims), strict=True)]
    t0 = time.perf_counter()
    for c in coords:
        dp = c["chips"] / (c["tp"] * c["pp"] * c["cp"])
        if dp < 1 or dp != math.floor(dp):
            continue  # invalid: a calculator would not run it (counted as done, which flatters the baseline)
        gb = max(round(DEFAULT_TOKENS_PER_STEP / 2048.0 / (c["micro_batch"] * dp)), 1) * c["micro_batch"] * dp
        r = step(grid.shape, plane.chip, Parallel(c["tp"], c["pp"], dp, c["cp"], c["ep"], c["vpp"], c["zero"]),
                 TrainBatch(c["micro_batch"], gb, 2048.0), plane.formats, grid.fw, recompute=c["recompute"])
        seconds = math.ceil(1e12 / (gb * 2048.0)) * float(r.step_time_s)
        _ = plane.usd_per_chip_s * c["chips"] * seconds
    one = (time.perf_counter() - t0) / len(coords)
    print(f"baseline, one job at a time (scalar step, invalid layouts skipped): {1 / one:,.0f} jobs/s ({len(coords):,} timed)")
    print(f"ratio: the vectorised sweep is {rate * one:.1f}x the one-at-a-time rate")


if __name__ == "__main__":
    main()

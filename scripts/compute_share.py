"""Diagnosis for issue 18: the throughput rows' signed error against the share of their modelled serving cycle that
is compute-bound. Not part of the model; it changes nothing and prints what the model already computes.

A throughput row's cycle (inference.py) is its batched prefill plus ``output_len`` decode steps. The compute-bound
share counts the batched prefill as compute-bound where its chunks hold at least ``RIDGE_TOKENS`` tokens (fp8 and
bf16 GEMMs on 8192-wide Llama-70B weights are compute-bound from m = 512 in tcobench's own H100 measurement,
benchmarks/results/h100-sxm-2026-11-24.json), and a decode step by the time its compute-bound operators take
(the ``explain`` breakdown). Rows are binned by that share per vendor / source family; a family whose error
rises with the share is missing time in its compute-bound work, not in its memory traffic.

    .venv/bin/python scripts/compute_share.py [--json]   (--json prints every row's share and error)
"""

from __future__ import annotations

import json
import statistics
import sys
from dataclasses import asdict, dataclass

from tcobench.catalog import load_catalog
from tcobench.perf import validate

RIDGE_TOKENS = 512
BINS = ((0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.0))


@dataclass(frozen=True)
class RowShare:
    id: str
    family: str
    error: float  # predicted / published - 1
    prefill_share: float  # of the modelled cycle
    compute_share: float  # of the modelled cycle


def share(o: validate.Outcome) -> RowShare | None:
    """The row's prefill and compute-bound shares of its modelled cycle; None without a prediction."""
    p = o.prediction
    if p is None or o.error is None or p.output_tokens_per_s <= 0 or p.replicas <= 0:
        return None
    cycle = p.batch * p.output_len / (p.output_tokens_per_s / p.replicas)  # s per replica for `batch` requests
    prefill = min(max(1.0 - p.output_len * p.tpot_s / cycle, 0.0), 1.0)
    ops = [op for op in p.ops if op.phase == "decode"]
    total = sum(op.time_s for op in ops)
    decode_compute = sum(op.time_s for op in ops if op.bound == "compute") / total if total > 0 else 0.0
    chunk = min(float(p.efficiency.get("prefill_chunk", 0.0)), p.batch * p.input_len / max(p.ep, 1))
    prefill_compute = 1.0 if chunk >= RIDGE_TOKENS else 0.0
    return RowShare(o.row.id, f"{o.vendor} / {o.row.ref.split('-')[0]}", o.error, prefill,
                    prefill * prefill_compute + (1.0 - prefill) * decode_compute)


def shares() -> list[RowShare]:
    out = validate.run(load_catalog(), explain=True, server=False)
    return [s for o in out if o.row.phase == "throughput" and (s := share(o)) is not None]


def binned(rows: list[RowShare]) -> dict[str, list[tuple[float, int] | None]]:
    """Family -> per bin of compute-bound share: (median signed error, rows), or None for an empty bin."""
    out: dict[str, list[tuple[float, int] | None]] = {}
    for fam in sorted({r.family for r in rows}):
        cells: list[tuple[float, int] | None] = []
        for i, (lo, hi) in enumerate(BINS):
            last = i == len(BINS) - 1
            e = [r.error for r in rows if r.family == fam and lo <= r.compute_share and (r.compute_share <= hi if last else r.compute_share < hi)]
            cells.append((statistics.median(e), len(e)) if e else None)
        out[fam] = cells
    return out


def main() -> None:
    rows = shares()
    if "--json" in sys.argv[1:]:
        print(json.dumps([asdict(r) for r in rows], indent=1))
        return
    print("throughput rows: median signed error (rows) by the compute-bound share of the modelled cycle")
    print(f"{'family':<20}" + "".join(f"  {f'{lo:.0%}-{hi:.0%}':>11}" for lo, hi in BINS))
    for fam, cells in binned(rows).items():
        print(f"{fam:<20}" + "".join(f"  {'-':>11}" if c is None else f"  {f'{c[0]:+.0%} ({c[1]})':>11}" for c in cells))


if __name__ == "__main__":
    main()

"""What-if: how the large-batch throughput rows would move if the decode-attention kernel read the KV cache
at a smaller fraction of the HBM bandwidth than the chip's streaming rate (``memory_eff``), the rate tcobench
charges it today. A diagnosis for docs/model.md ("Decode attention's KV read"), not part of the model: every
attention operator's memory time is divided by the factor, on every row alike, and tcobench ships at 1.

For each vendor / source family of throughput rows it prints the median share of a decode step that attention
takes (at factor 1) and the median signed error at each factor; a family whose error attention could explain
falls towards 0 as the factor drops, in proportion to that share.

    .venv/bin/python scripts/attention_sensitivity.py [--json]   (--json adds every row's signed error per factor)
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tcobench.catalog import load_catalog
from tcobench.perf import validate
from tcobench.perf.roofline import Phase
from tcobench.perf.vec import Vec

FACTORS = (1.0, 0.9, 0.75, 0.5, 0.35)
FAMILIES = ("NVIDIA / MLPERF41", "NVIDIA / INF", "NVIDIA / AZURE", "NVIDIA / TRT10", "NVIDIA / TRT", "NVIDIA / ROCMBLOG",
            "AMD / MLPERF41", "AMD / INF", "AMD / AZURE", "AMD / ROCMBLOG")


@dataclass(frozen=True)
class Result:
    """The throughput rows at one factor."""

    factor: float
    median_abs_error: float
    compared: int
    median_error_by_family: dict[str, float]
    rows: dict[str, float]  # row id -> signed error


@contextmanager
def attention_read(factor: float) -> Iterator[None]:
    """Within the block, every operator named attention* reads its bytes at ``factor`` x its usual memory_eff."""
    op = Phase.op

    def scaled(self: Phase, name: str, count: Vec, flops: Vec, nbytes: Vec, rate: Vec | None = None,
               memory_eff: Vec | None = None) -> None:
        if name.startswith("attention"):
            memory_eff = (self.chip.memory_eff if memory_eff is None else memory_eff) * factor
        op(self, name, count, flops, nbytes, rate, memory_eff)

    Phase.op = scaled  # type: ignore[method-assign]
    try:
        yield
    finally:
        Phase.op = op  # type: ignore[method-assign]


def family(o: validate.Outcome) -> str:
    return f"{o.vendor} / {o.row.ref.split('-')[0]}"


def decode_share(o: validate.Outcome) -> float | None:
    """Attention's share of the decode step's time (the ``explain`` breakdown)."""
    if o.prediction is None:
        return None
    ops = [op for op in o.prediction.ops if op.phase.startswith("decode")]
    total = sum(op.time_s for op in ops)
    return sum(op.time_s for op in ops if op.name.startswith("attention")) / total if total > 0 else None


def main() -> None:
    catalog = load_catalog()
    rows: list[Result] = []
    shares: dict[str, list[float]] = {}
    for factor in FACTORS:
        with attention_read(factor):
            # Server rows left out, as scripts/validate_sensitivity.py does: their rate bisection is slow
            out = [o for o in validate.run(catalog, explain=factor == 1.0, server=False) if o.row.phase == "throughput"]
        if factor == 1.0:
            for o in out:
                s = decode_share(o)
                if s is not None and o.error is not None:
                    shares.setdefault(family(o), []).append(s)
        errs = [abs(o.error) for o in out if o.error is not None]
        by = {f: statistics.median(e) for f in FAMILIES
              if (e := [o.error for o in out if o.error is not None and family(o) == f])}
        rows.append(Result(factor, statistics.median(errs), len(errs), by,
                           {o.row.id: o.error for o in out if o.error is not None}))
    if "--json" in sys.argv[1:]:
        print(json.dumps({"attention_share": {f: statistics.median(s) for f, s in shares.items()},
                          "factors": [dataclasses.asdict(r) for r in rows]}, indent=1))
        return
    fams = [f for f in FAMILIES if f in rows[0].median_error_by_family]
    count = {f: len(shares.get(f, [])) for f in fams}
    print("decode-attention KV read at factor x memory_eff -> throughput rows: median |error| and the median signed")
    print("error per vendor / source family (rows; attention's median share of a decode step at factor 1)")
    print(f"{'family':<18} {'rows':>4} {'share':>6}" + "".join(f"  x{f:<5.2f}" for f in FACTORS))
    for f in fams:
        print(f"{f:<18} {count[f]:>4} {statistics.median(shares[f]):>6.0%}"
              + "".join(f"  {r.median_error_by_family[f]:>+6.1%}" for r in rows))
    print(f"{'all throughput':<18} {rows[0].compared:>4} {'':>6}" + "".join(f"  {r.median_abs_error:>6.1%}" for r in rows)
          + "  (median |error|)")


if __name__ == "__main__":
    main()

"""What-if: how the validation error would move if low-precision matmuls ran slower than the GEMM
microbenchmarks behind the catalog's efficiencies. A diagnosis for docs/model.md, not part of the model:
no measurement supports any of these factors, so tcobench ships with all of them at 1.

    .venv/bin/python scripts/validate_sensitivity.py [--json]   (--json adds every row's signed error per factor)
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import sys

from tcobench.catalog import load_catalog
from tcobench.perf import validate
from tcobench.perf.efficiency import Efficiencies

LOW = ("fp8", "int8", "fp6", "fp4", "int4")


def scaled(factor: float):  # type: ignore[no-untyped-def]
    """Multiply the compute efficiency of every low-precision matmul by ``factor``."""
    def adjust(e: Efficiencies) -> Efficiencies:
        at = {p: e.compute_for(p) * factor for p in LOW}
        return dataclasses.replace(e, compute_at={**e.compute_at, **at})
    return adjust


def main() -> None:
    catalog = load_catalog()
    rows = []
    for factor in (1.0, 0.9, 0.8, 0.7, 0.65, 0.6, 0.5):
        # without the MLPerf Server rows (phase server): their rate bisection would add ~5 s a factor, and this
        # what-if is about the steady-state phases the figures in docs/model.md were made from
        out = validate.run(catalog, adjust=scaled(factor), server=False)
        errs = [abs(o.error) for o in out if o.error is not None]
        families = {k: v["median_abs_error"] for k, v in validate.group_errors(out, "source").items()}
        batching = {k: v["median_error"] for k, v in validate.group_errors(out, "batching,phase").items()
                    if k.endswith("throughput")}
        rows.append({"factor": factor, "median_abs_error": statistics.median(errs), "max_abs_error": max(errs),
                     "within_10pct": sum(e <= 0.10 for e in errs), "compared": len(errs), "by_source": families,
                     "signed_throughput": batching, "rows": {o.row.id: o.error for o in out if o.error is not None}})
    if "--json" in sys.argv[1:]:
        print(json.dumps(rows, indent=1))
        return
    families = list(rows[0]["by_source"])
    kinds = sorted(rows[0]["signed_throughput"])
    print("low-precision compute efficiency x factor -> validate: median |error| overall and per source family;")
    print("median signed error of the throughput rows by how the measured stack batched")
    print(f"{'factor':>6}  {'median':>7}  {'max':>6}  {'within 10%':>10}" + "".join(f"  {f:>7}" for f in families)
          + "".join(f"  {k.split(' / ')[0] + ' thr':>12}" for k in kinds))
    for r in rows:
        print(f"{r['factor']:>6.2f}  {r['median_abs_error']:>7.1%}  {r['max_abs_error']:>6.1%}  "
              f"{str(r['within_10pct']) + '/' + str(r['compared']):>10}" + "".join(f"  {r['by_source'][f]:>7.1%}" for f in families)
              + "".join(f"  {r['signed_throughput'][k]:>+12.1%}" for k in kinds))


if __name__ == "__main__":
    main()

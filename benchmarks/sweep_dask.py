"""Speed of ``sweep`` on Dask: configurations per second in this process, then on a local cluster of 1 and 2
worker processes (one thread each), on the same grid; the ratio is against the single-process sweep run first in
this process. Beside them, N plain processes (multiprocessing, no Dask) each sweeping 1/N of the candidates: what
the machine itself gives N processes, the ceiling for N workers. Each cluster is started, and tcobench imported on its workers, before its timing begins (printed apart) and every run's
result is checked equal to the single-process one.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/sweep_dask.py [--batch 1:4096] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from tcobench.catalog import load_catalog  # noqa: E402
from tcobench.search import candidates  # noqa: E402
from tcobench.search.executor import connect  # noqa: E402
from tcobench.search.sweep import AXES, iter_rows, parse_axis, sweep  # noqa: E402


def _alone(job: tuple[str, list[str], dict[str, str]]) -> int:
    """One plain process sweeping its share of the candidates (the machine's own ceiling for N processes)."""
    model_id, hw, axes_text = job
    cat = load_catalog()
    axes = {a: parse_axis(v, a) for a, v in axes_text.items()}
    cands = candidates([cat.get_hardware(h) for h in hw], ["bf16", "fp8"])
    return sweep(cat.get_model(model_id), cands, axes, catalog=cat, usd_per_chip_s=[1e-3] * len(cands)).evaluated


def _warm_plain(_: int) -> None:
    _warm()


def _warm() -> None:
    import tcobench.search.sweep  # noqa: F401


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="llama-3.1-70b")
    ap.add_argument("--hardware", default="h100-sxm,h200-sxm,b200,mi300x")
    ap.add_argument("--tp", default="1,2,4,8")
    ap.add_argument("--batch", default="1:8192")
    ap.add_argument("--input-len", default="128:32768:x2")
    ap.add_argument("--output-len", default="128,512,2048")
    ap.add_argument("--workers", default="1,2")
    args = ap.parse_args()
    cat = load_catalog()
    model = cat.get_model(args.model)
    cands = candidates([cat.get_hardware(h) for h in args.hardware.split(",")], ["bf16", "fp8"])
    axes = {a: parse_axis(v, a) for a, v in zip(AXES, (args.tp, "1", "1", args.batch, args.input_len, args.output_len),
                                                strict=True)}
    prices = [1e-3] * len(cands)

    def run(executor: object = None) -> tuple[float, str, int]:
        start = time.perf_counter()
        r = sweep(model, cands, axes, catalog=cat, usd_per_chip_s=prices, top_k=10, executor=executor)  # type: ignore[arg-type]
        wall = time.perf_counter() - start
        return wall, json.dumps([r.evaluated, list(iter_rows(r.top)), list(iter_rows(r.front))]), r.evaluated

    base_wall, base_doc, n = run()
    print(f"grid: {n:,} configurations ({args.model}, {len(cands)} hardware x precision candidates)")
    print(f"single process: {base_wall:.2f} s, {n / base_wall:,.0f} configurations/s")
    hw = args.hardware.split(",")
    axes_text = dict(zip(AXES, (args.tp, "1", "1", args.batch, args.input_len, args.output_len), strict=True))
    for w in (int(x) for x in args.workers.split(",")):
        with multiprocessing.get_context("spawn").Pool(w) as pool:
            pool.map(_warm_plain, range(w))
            t = time.perf_counter()
            done = sum(pool.map(_alone, [(args.model, hw[i::w], axes_text) for i in range(w)]))
            wall = time.perf_counter() - t
        print(f"{w} plain process{'es' if w > 1 else ''} side by side (no Dask; the machine's ceiling): {wall:.2f} s, "
              f"{done / wall:,.0f} configurations/s, {base_wall / wall * done / n:.2f}x the single process")
    for w in (int(x) for x in args.workers.split(",")):
        t = time.perf_counter()
        ex = connect(workers=w)
        ex.client.run(_warm)  # type: ignore[union-attr]  # every worker imports tcobench before the timing
        up = time.perf_counter() - t
        try:
            wall, doc, _ = run(ex)
        finally:
            ex.close()
        same = "same result" if doc == base_doc else "DIFFERENT RESULT"
        print(f"{w} Dask worker{'s' if w > 1 else ''}: {wall:.2f} s, {n / wall:,.0f} configurations/s, "
              f"{base_wall / wall:.2f}x the single process ({same}; cluster start and imports {up:.1f} s, not counted)")


if __name__ == "__main__":
    main()

"""Speed of ``compare`` and ``plan`` on Dask: wall time in this process and on a local cluster of 2 worker processes
(one thread each), for the work that takes seconds: ``compare --train`` (every chip's runs on 1, 2, 4, ... chips),
``compare --rate`` (every row's replica simulated at a rate) and ``plan`` with SLOs (every row's fleet sized by
simulation). The plain served ``compare`` (one vectorised call, well under a second) is timed too, to show what a
cluster costs where there is nothing to spread. Single process and cluster alternate, ``--rounds`` times, with the
cluster started and warmed before the first timing; every cluster result is checked equal to the single process's.

    OMP_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python benchmarks/compare_dask.py [--rounds 2] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import tcobench  # noqa: E402
from tcobench.api.training import compare_training  # noqa: E402


def cases(model: str) -> dict[str, Callable[..., Any]]:
    """What is timed: name -> a call taking ``scheduler=``."""
    return {
        "compare (served)": lambda **kw: tcobench.compare(model, workload="chat", **kw),
        "compare --rate 2": lambda **kw: tcobench.compare(model, workload="chat", rate=2, slo_ttft="2s",
                                                          slo_tpot="100ms", **kw),
        "plan --qps 10 with SLOs": lambda **kw: tcobench.plan(model, workload="chat", qps=10, slo_ttft="2s",
                                                              slo_tpot="100ms", **kw),
        "compare --train": lambda **kw: compare_training(model, tokens=1e12, **kw),
    }


def doc(res: Any) -> str:
    return json.dumps({k: v for k, v in res.to_dict().items() if k != "workers"})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="llama-3.1-70b")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    from tcobench.search.executor import connect

    start = time.perf_counter()
    ex = connect(args.workers)  # kept open: each call below connects to its scheduler, as --scheduler does
    address = ex.address  # type: ignore[union-attr]
    todo = cases(args.model)
    for call in todo.values():  # warm both sides: imports, the catalog, NumPy's first calls
        call(), call(scheduler=address)
    print(f"{args.model}, every catalog chip; cluster of {args.workers} workers started and warmed in "
          f"{time.perf_counter() - start:.1f} s (not counted); load average {os.getloadavg()[0]:.2f}")
    for rnd in range(1, args.rounds + 1):
        for name, call in todo.items():
            t0 = time.perf_counter()
            one = call()
            t1 = time.perf_counter()
            two = call(scheduler=address)
            t2 = time.perf_counter()
            same = "same result" if doc(one) == doc(two) else "RESULTS DIFFER"
            print(f"round {rnd}  {name:<24} 1 process {t1 - t0:6.2f} s   {args.workers} Dask workers {t2 - t1:6.2f} s"
                  f"   {(t1 - t0) / (t2 - t1):.2f}x   ({same})")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    ex.close()


if __name__ == "__main__":
    main()

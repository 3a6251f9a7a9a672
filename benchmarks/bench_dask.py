"""Highest sustained request rate of ``bench`` in one process, then spread over a local Dask cluster of 1 and 2
worker processes (``bench --workers N``), against the same fast local server. Not a test; prints figures.

    .venv/bin/python benchmarks/bench_dask.py [--rates 500,1000,2000] [--duration 3] [--workers 1,2]

The server is tests/servers/delay.py in its own process (TTFT 5 ms, 1 ms per token, 16 tokens; raw sockets, the
server of benchmarks/bench_client.py). Each rate (constant arrivals, ``--duration`` seconds, one second of warm-up)
runs through ``tcobench.bench``, as a user would, in every mode in turn before the next rate: on a shared machine
the modes of one rate see the same neighbours. The clusters are started once, before the first rate, and each
bench call joins its cluster by address (``scheduler=``); they are started as ``bench --workers`` starts its own
(``connect(quiet=True)``: no Dask profiler, slow system and memory monitors). A rate is *sustained* when the
level finished at least 95 % of the requests it was asked for per second with none failed; it is *accurate* when,
besides, the TTFT p50 is within 1 ms of the server's injected 5 ms and the client lag p50 is under 1 ms (the
client's own delay stays out of the latencies; the lag p99 is printed beside it). Ratios are against the single-process run, measured first in this
same run. The cluster's start-up is outside every level's timing (levels start at a common instant after it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import tcobench  # noqa: E402
from benchmarks.bench_client import start_server  # noqa: E402
from tcobench.search.executor import connect  # noqa: E402

TTFT_S, TPOT_S, TOKENS = 0.005, 0.001, 16


def run_level(url: str, rate: float, duration: float, scheduler: str | None) -> dict[str, Any]:
    res = tcobench.bench(url, "m", api="completions", rate=rate, arrival="constant", duration=duration,
                         input_len=16, output_len=TOKENS, timeout=30.0, scheduler=scheduler)
    rows = []
    for m in res.measured:
        lv = m.level
        asked = lv.rate or 0.0
        achieved = lv.requests_per_s or 0.0
        ttft = lv.ttft_s.p50 if lv.ttft_s else None
        lag = lv.client_lag_s.p99 if lv.client_lag_s else None
        lag50 = lv.client_lag_s.p50 if lv.client_lag_s else None
        sustained = achieved >= 0.95 * asked and lv.requests_failed == 0
        accurate = sustained and ttft is not None and abs(ttft - TTFT_S) < 1e-3 and lag50 is not None and lag50 < 1e-3
        rows.append({"rate": asked, "achieved": achieved, "ok": lv.requests_ok, "failed": lv.requests_failed,
                     "ttft_p50_ms": None if ttft is None else ttft * 1e3, "lag_p50_ms": None if lag50 is None else lag50 * 1e3,
                     "lag_p99_ms": None if lag is None else lag * 1e3,
                     "client_cpu_share": lv.client_cpu_share, "client_bound": lv.client_bound, "clients": lv.clients,
                     "sustained": sustained, "accurate": accurate})
    return rows[0]


def best(rows: list[dict[str, Any]], key: str) -> float:
    """The highest rate with ``key`` true below the first rate where it is false."""
    top = 0.0
    for r in rows:
        if not r[key]:
            break
        top = r["rate"]
    return top


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="500,1000,1500,2000,3000,4000,6000")
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    proc, url = start_server("delay", TTFT_S, TPOT_S, TOKENS)
    out: dict[str, Any] = {"machine": f"{os.cpu_count()} CPUs", "server": f"delay TTFT {TTFT_S * 1e3:g} ms, "
                           f"{TPOT_S * 1e3:g} ms/token, {TOKENS} tokens", "duration_s": args.duration, "modes": {}}
    clusters = {n: connect(workers=n, quiet=True) for n in (int(w) for w in args.workers.split(","))}
    modes: list[tuple[str, str | None]] = [("1 process", None)]
    modes += [(f"{n} Dask worker{'s' if n > 1 else ''}", ex.address) for n, ex in clusters.items()]
    out["load_average_before"] = os.getloadavg()
    try:
        for rate in rates:
            for name, address in modes:
                r = run_level(url, rate, args.duration, address)
                out["modes"].setdefault(name, []).append(r)
                print(f"  {name:<16} {r['rate']:>6.0f}/s  achieved {r['achieved']:>7.1f}/s  failed {r['failed']:>3}  TTFT p50 "
                      f"{r['ttft_p50_ms'] or float('nan'):6.2f} ms  lag p50/p99 {r['lag_p50_ms'] or float('nan'):5.2f}/{r['lag_p99_ms'] or float('nan'):6.2f} ms  "
                      f"client CPU {r['client_cpu_share'] or 0:4.0%}  {'BOUND' if r['client_bound'] else ''}", flush=True)
    finally:
        for ex in clusters.values():
            ex.close()
        proc.terminate()
        proc.wait()
    out["load_average_after"] = os.getloadavg()
    print("load average before/after: " + " / ".join(", ".join(f"{x:.2f}" for x in out[k])
                                                   for k in ("load_average_before", "load_average_after")))
    base = {k: best(out["modes"]["1 process"], k) for k in ("sustained", "accurate")}
    print("\nhighest sustained rate (and with latencies accurate to 1 ms), ratio to 1 process:")
    for name, rows in out["modes"].items():
        s, a = best(rows, "sustained"), best(rows, "accurate")
        print(f"  {name:<16} {s:>6.0f}/s  x{s / base['sustained'] if base['sustained'] else float('nan'):.2f}   "
              f"accurate {a:>6.0f}/s  x{a / base['accurate'] if base['accurate'] else float('nan'):.2f}")
        out["modes"][name] = {"levels": rows, "sustained": s, "accurate": a}
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

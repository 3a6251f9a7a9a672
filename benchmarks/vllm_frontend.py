"""What vLLM's CPU build adds to a request outside its engine: measured, level by level, client beside server.

The serving simulator times engine steps only. A client's TTFT also holds the API server's own work on the request
(HTTP, rendering and tokenising the prompt, detokenising, the SSE event) and whatever delays the delivery of the
first chunk. vLLM's own TTFT histogram (``vllm:time_to_first_token_seconds``) runs from the request's arrival time,
taken in the API process as the prompt enters the engine client, to the moment the API process handles the engine's
output that holds the first token (``v1/metrics/stats.py``, ``update_from_output``). So, per level:

    client TTFT - server TTFT   the front end: HTTP in, tokenising, detokenising and streaming out the first token,
                                and any wait for the API process (it shares the machine's cores with the engine)
    client chunks per token     1.0: one SSE event a token; less: tokens delivered in bursts

It runs closed loops at concurrency 1 with 128-token and 1-token outputs (the idle front end, and the front end of a
request that is nothing but its prefill) and open loops at the rates ``benchmarks/serving_load_vllm.py`` uses, and
prints the client's and the server's TTFT p50 and p99 (the server's from its histogram buckets, linearly
interpolated), their difference, and the chunks per token.

    .venv/bin/python benchmarks/vllm_frontend.py [--url http://127.0.0.1:PORT] [--rates 1,2,3,4] [--requests 24] [--json]
    .venv/bin/python benchmarks/vllm_frontend.py --render SAVED.json

Without ``--url`` it starts the server as the tests do (``TCOBENCH_VLLM_PYTHON`` or ``.venv-vllm``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # tests.servers: the helpers that start the real servers
    sys.path.insert(0, str(REPO))

import tcobench  # noqa: E402

MODEL = "tiny-llama"
TTFT = "vllm:time_to_first_token_seconds"


def histograms(url: str) -> dict[str, dict[float, float]]:
    """vLLM's Prometheus histograms: {name: {upper bound: cumulative count}}, summed over labels; plus ``_count``
    and ``_sum`` under the bound ``nan`` keys ``-1`` and ``-2``."""
    with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=10) as r:
        text = r.read().decode()
    out: dict[str, dict[float, float]] = {}
    for line in text.splitlines():
        if not line.startswith("vllm:") or " " not in line:
            continue
        name_labels, _, value = line.rpartition(" ")
        name = name_labels.split("{", 1)[0]
        try:
            v = float(value)
        except ValueError:
            continue
        if name.endswith("_bucket") and 'le="' in name_labels:
            le = name_labels.split('le="', 1)[1].split('"', 1)[0]
            h = out.setdefault(name[:-7], {})
            bound = float("inf") if le == "+Inf" else float(le)
            h[bound] = h.get(bound, 0.0) + v
        elif name.endswith("_count") or name.endswith("_sum"):
            base, key = (name[:-6], -1.0) if name.endswith("_count") else (name[:-4], -2.0)
            h = out.setdefault(base, {})
            h[key] = h.get(key, 0.0) + v
    return out


def quantile(before: dict[float, float], after: dict[float, float], q: float) -> float | None:
    """The ``q`` quantile of the observations made between two reads of a histogram (linear within a bucket)."""
    bounds = sorted(b for b in after if b >= 0)
    cum = [after[b] - before.get(b, 0.0) for b in bounds]
    total = cum[-1] if cum else 0.0
    if total <= 0:
        return None
    rank, lo, prev = q * total, 0.0, 0.0
    for b, c in zip(bounds, cum, strict=True):
        if c >= rank:
            if b == float("inf"):
                return lo
            return lo + (b - lo) * ((rank - prev) / (c - prev) if c > prev else 1.0)
        lo, prev = b, c
    return lo


def level(url: str, requests: int, output_len: int, **load: Any) -> dict[str, Any]:
    """One bench level (no warm-up: the server's histograms then hold exactly its requests), client beside server."""
    before = histograms(url)
    r = tcobench.bench(url, MODEL, api="completions", num_requests=requests, input_len=64, output_len=output_len,
                       warmup=0, **load)
    d = r.to_dict()["details"][0]
    deadline = time.monotonic() + 15.0
    while True:  # the server counts a request a moment after its stream ends
        after = histograms(url)
        n = after.get(TTFT, {}).get(-1.0, 0.0) - before.get(TTFT, {}).get(-1.0, 0.0)
        if n >= requests or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    server = {f"p{int(q * 100)}": quantile(before.get(TTFT, {}), after.get(TTFT, {}), q) for q in (0.5, 0.99)}
    server["mean"] = ((after[TTFT][-2.0] - before.get(TTFT, {}).get(-2.0, 0.0)) / n) if n else None
    return {"load": {k: v for k, v in load.items()}, "output_len": output_len, "requests_ok": d["requests_ok"],
            "client_ttft_s": {k: d["ttft_s"][k] for k in ("p50", "p99", "mean")},
            "client_e2e_s": {k: d["e2e_s"][k] for k in ("p50", "p99", "mean")},
            "server_ttft_s": server, "chunks_per_token": d.get("chunks_per_usage_token"),
            "client_cpu_share": d.get("client_cpu_share"), "client_bound": d.get("client_bound")}


def streams(url: str, n: int, output_len: int = 128) -> dict[str, Any]:
    """``n`` streams one after another (loadgen's own client), each request's chunk times kept: where a late first
    chunk comes from. A stream is *held* when its first chunk came after half its E2E (the engine makes its 128
    tokens at an even pace, so such a stream was held back and delivered in a rush at its end); for those, how long
    the rest of the stream took after its first chunk (a whole stream delivered at once takes about 0)."""
    import asyncio

    from tcobench.loadgen.api import Api
    from tcobench.loadgen.client import Client
    from tcobench.loadgen.prompts import LengthDist, RandomPrompts

    prompts = RandomPrompts(LengthDist.parse("64"), seed=7)

    async def run() -> list[Any]:
        out = []
        async with Client(url, MODEL, Api.COMPLETIONS) as c:
            await c.prewarm(1)
            for i in range(n):
                out.append(await c.send(i, prompts[i], output_len, intended_ns=time.perf_counter_ns()))
        return out

    results = [r for r in asyncio.run(run()) if r.ok and r.chunk_ns]
    ttft = [(r.chunk_ns[0] - r.sent_ns) / 1e9 for r in results]
    rest = [(r.chunk_ns[-1] - r.chunk_ns[0]) / 1e9 for r in results]
    e2e = [(r.done_ns - r.sent_ns) / 1e9 for r in results]
    med = sorted(ttft)[len(ttft) // 2]
    late = [i for i, (t, e) in enumerate(zip(ttft, e2e, strict=True)) if t > 0.5 * e]
    return {"requests": len(results), "ttft_median_s": med, "late": late, "held_share": len(late) / len(results),
            "late_ttft_s": [ttft[i] for i in late], "late_rest_s": [rest[i] for i in late],
            "late_e2e_s": [e2e[i] for i in late], "rest_median_s": sorted(rest)[len(rest) // 2],
            "e2e_median_s": sorted(e2e)[len(e2e) // 2]}


def measure(url: str, rates: tuple[float, ...], requests: int) -> dict[str, Any]:
    level(url, 16, 128, concurrency=8)  # prime: the CPU build batches only after a burst of work
    rows = [level(url, requests, 128, concurrency=1), level(url, requests, 1, concurrency=1)]
    rows += [level(url, requests, 128, rate=r, arrival="poisson") for r in rates]
    return {"measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "input_len": 64, "levels": rows,
            "streams": streams(url, 2 * requests)}


def render(doc: dict[str, Any]) -> str:
    def ms(x: float | None) -> str:
        return "n/a" if x is None else f"{x * 1e3:.1f}"

    lines = [f"vLLM CPU build, tiny Llama, {doc['input_len']}-token prompts, measured {doc['measured']}",
             f"{'level':>14} {'out':>4} {'client TTFT p50':>15} {'p99':>7} {'server TTFT p50':>15} {'p99':>7} "
             f"{'front end p50':>13} {'mean':>7} {'chunks/token':>12}"]
    for lv in doc["levels"]:
        load = lv["load"]
        name = f"c={load['concurrency']}" if "concurrency" in load else f"{load['rate']:g} req/s"
        c, s = lv["client_ttft_s"], lv["server_ttft_s"]
        front = None if s["p50"] is None else c["p50"] - s["p50"]
        front_mean = None if s["mean"] is None else c["mean"] - s["mean"]
        cpt = lv["chunks_per_token"]
        lines.append(f"{name:>14} {lv['output_len']:>4} {ms(c['p50']):>12} ms {ms(c['p99']):>7} {ms(s['p50']):>12} ms "
                     f"{ms(s['p99']):>7} {ms(front):>10} ms {ms(front_mean):>7} {'n/a' if cpt is None else f'{cpt:.2f}':>12}")
    st = doc.get("streams")
    if st:
        lines.append(f"{st['requests']} streams one after another: TTFT median {ms(st['ttft_median_s'])} ms, E2E median "
                     f"{ms(st['e2e_median_s'])} ms; {len(st['late'])} held ({st['held_share']:.0%}: first chunk after half the E2E), at positions "
                     f"{st['late']}: TTFT " + ", ".join(ms(x) for x in st["late_ttft_s"]) + " ms, the rest of the "
                     "stream after the first chunk " + ", ".join(ms(x) for x in st["late_rest_s"])
                     + f" ms (median stream {ms(st['rest_median_s'])} ms)")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", help="A running vLLM server serving tiny-llama [default: start one]")
    ap.add_argument("--rates", default="1,2,3,4")
    ap.add_argument("--requests", type=int, default=24)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--render", type=Path, help="Print the table of a saved --json document instead of measuring")
    args = ap.parse_args()
    rates = tuple(float(x) for x in args.rates.split(","))
    if args.render:
        doc = json.loads(args.render.read_text())
    elif args.url:
        doc = measure(args.url, rates, args.requests)
    else:
        from tests.servers.vllm import VllmServer, build_model, vllm_python

        python = vllm_python()
        if python is None:
            raise SystemExit("vLLM CPU build not installed: run scripts/setup-vllm.sh (or set TCOBENCH_VLLM_PYTHON)")
        with tempfile.TemporaryDirectory() as tmp:
            server = VllmServer(python, build_model(python, Path(tmp) / "model"), Path(tmp) / "vllm.log").start()
            try:
                doc = measure(server.url, rates, args.requests)
            finally:
                server.stop()
    print(json.dumps(doc, indent=1) if args.json else render(doc))


if __name__ == "__main__":
    main()

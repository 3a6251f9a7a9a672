"""The serving simulator against a real server: vLLM's CPU build serving the tests' tiny model.

1. Measure closed-loop levels (``tcobench.bench``, concurrency 1, 2, 4, 8) and fit a step profile
   (``perf.profile.fit_linear``: base + per sequence + per prompt token, least squares) to each level's mean E2E as
   bench measures it, and its mean TTFT and inter-token latency as the server's own histograms say
   (``vllm:time_to_first_token_seconds``, ``vllm:inter_token_latency_seconds``).
2. Measure open-loop levels at three Poisson rates, and simulate the same rates with the fitted profile and the
   server's scheduler limits (max_num_seqs 16, 2048 tokens per step, its 262,144-token KV cache).
3. Print simulated vs measured TTFT, TPOT and E2E p50 and the relative errors, and the TTFT p99: first the engine's
   steps alone, then with the stack's own time outside them as the catalog's runtime ``vllm-cpu-0.32`` holds it
   (measured by ``benchmarks/vllm_frontend.py``: the time a request spends between the client and the engine, and
   the share of streams the API process holds back whole).

Why the fit does not take bench's TTFT and TPOT: the CPU server shares two cores with the client (docs/bench.md,
"Against the real vLLM CPU server"), and its API process often delivers a whole stream at once, which moves the
client's TTFT toward E2E and its TPOT toward 0 (at concurrency 1: TTFT ~ E2E). E2E, the end of the stream, is not
moved by that, and the server's TTFT histogram is taken from the engine's timestamps, before delivery. The
comparison prints bench's p50s all the same, and the server's mean TTFT and inter-token latency beside them.

    .venv/bin/python benchmarks/serving_vs_vllm.py [--url http://127.0.0.1:PORT] [--rates 1.5,3,4.5] [--json]

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
from tcobench.perf.profile import Level, fit_linear  # noqa: E402
from tcobench.perf.serving import Scheduler, serve  # noqa: E402
from tcobench.perf.traffic import Traffic  # noqa: E402

MODEL = "tiny-llama"
RUNTIME = "vllm-cpu-0.32"  # the catalog's profile of this stack's front end
# the test server's limits (tests/servers/vllm.py, and what vLLM 0.32 logs at start-up on this machine)
SCHEDULER = Scheduler(max_tokens=2048, max_seqs=16, kv_tokens=262_144.0)


def server_metrics(url: str) -> dict[str, float]:
    """vLLM's Prometheus counters and histogram sums, summed over labels."""
    with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=10) as r:
        text = r.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("vllm:") and " " in line:
            name_labels, _, value = line.rpartition(" ")
            name = name_labels.split("{", 1)[0]
            try:
                out[name] = out.get(name, 0.0) + float(value)
            except ValueError:
                continue
    return out


def _level(url: str, input_len: int, output_len: int, requests: int, **load: Any) -> dict[str, Any]:
    """One bench level (no warm-up, so the server's histograms hold exactly its requests), with the server's own mean
    TTFT, inter-token latency and E2E over the level."""
    before = server_metrics(url)
    r = tcobench.bench(url, MODEL, api="completions", num_requests=requests, input_len=input_len, output_len=output_len,
                       warmup=0, **load)
    detail = dict(r.to_dict()["details"][0])
    deadline = time.monotonic() + 15.0
    while True:  # the server counts a request a moment after its stream ends
        after = server_metrics(url)
        done = after.get("vllm:request_success_total", 0.0) - before.get("vllm:request_success_total", 0.0)
        if done >= requests or time.monotonic() > deadline:
            break
        time.sleep(0.1)

    def mean(name: str) -> float | None:
        n = after.get(f"{name}_count", 0.0) - before.get(f"{name}_count", 0.0)
        return (after.get(f"{name}_sum", 0.0) - before.get(f"{name}_sum", 0.0)) / n if n else None

    detail["server"] = {"ttft_mean_s": mean("vllm:time_to_first_token_seconds"),
                        "itl_mean_s": mean("vllm:inter_token_latency_seconds"),
                        "e2e_mean_s": mean("vllm:e2e_request_latency_seconds")}
    return detail


def burst(level: dict[str, Any]) -> bool:
    """Whether a level's streams mostly came whole: the client's TTFT p50 is over half its E2E p50."""
    return bool(level["ttft_s"]["p50"] > 0.5 * level["e2e_s"]["p50"])


def compare(url: str, *, concurrency: tuple[int, ...] = (1, 2, 4, 8), rates: tuple[float, ...] = (1.5, 3.0, 4.5),
            input_len: int = 64, output_len: int = 128, fit_requests: int = 16, rate_requests: int = 24,
            simulated: int = 2000) -> dict[str, Any]:
    """Fit, measure and simulate (module docstring); the figures as a document."""
    _level(url, input_len, output_len, 16, concurrency=8)  # prime: the CPU build batches only after a burst of work
    fit_levels = [_level(url, input_len, output_len, fit_requests, concurrency=c) for c in concurrency]
    levels = [Level(d["concurrency"], fit_requests, input_len, output_len, ttft_s=d["server"]["ttft_mean_s"],
                    tpot_s=d["server"]["itl_mean_s"], e2e_s=d["e2e_s"]["mean"]) for d in fit_levels]
    profile = fit_linear(levels, SCHEDULER)
    stack = tcobench.load_catalog().get_runtime(RUNTIME)
    frontend = float(stack.frontend.value) if stack.frontend is not None else 0.0
    held = float(stack.held_streams.value) if stack.held_streams is not None else 0.0
    rows = []
    for rate in rates:
        m = _level(url, input_len, output_len, rate_requests, rate=rate, arrival="poisson")
        remeasured = burst(m)
        if remeasured:  # the streams came whole (docstring): measure the level once more, and say so
            m = _level(url, input_len, output_len, rate_requests, rate=rate, arrival="poisson")
        traffic = Traffic.open("poisson", rate, simulated, input_len, output_len, seed=1)
        sim = serve(profile, traffic, SCHEDULER)
        front = serve(profile, traffic, SCHEDULER, frontend_s=frontend, held_share=held)
        row: dict[str, Any] = {"rate": rate, "requests_measured": m["requests_ok"], "requests_simulated": simulated}
        for key in ("ttft_s", "tpot_s", "e2e_s"):
            s, meas = getattr(sim, key)["p50"], m[key]["p50"]
            row[key] = {"simulated_p50": s, "measured_p50": meas, "error": (s - meas) / meas if meas else None}
        row["ttft_s"]["simulated_p99"], row["ttft_s"]["measured_p99"] = sim.ttft_s["p99"], m["ttft_s"]["p99"]
        row["server"] = {**m["server"], "simulated_ttft_mean_s": sim.ttft_s["mean"], "simulated_itl_mean_s": sim.itl_s["mean"]}
        row["with_frontend"] = {key: {"simulated_p50": getattr(front, key)["p50"], "simulated_p99": getattr(front, key)["p99"],
                                      "measured_p50": m[key]["p50"], "measured_p99": m[key]["p99"]}
                                for key in ("ttft_s", "tpot_s", "e2e_s")}
        row["saturated"] = sim.saturated
        row["remeasured_after_burst"] = remeasured
        rows.append(row)
    return {"profile": profile.to_dict(), "runtime": {"id": RUNTIME, "frontend_s": frontend, "held_share": held},
            "fit_levels": [{"concurrency": lv.concurrency, "server_ttft_mean_s": lv.ttft_s, "server_itl_mean_s": lv.tpot_s,
                            "e2e_mean_s": lv.e2e_s,
                            "bench_ttft_p50_s": d["ttft_s"]["p50"], "bench_tpot_p50_s": d["tpot_s"]["p50"]}
                           for lv, d in zip(levels, fit_levels, strict=True)],
            "input_len": input_len, "output_len": output_len, "rates": rows}


def render(doc: dict[str, Any]) -> str:
    p = doc["profile"]
    lines = [f"fitted step profile: {p['base_s'] * 1e3:.3f} ms + {p['per_seq_s'] * 1e3:.3f} ms per decoding sequence + "
             f"{p['per_token_s'] * 1e6:.2f} us per prompt token (closed-loop levels "
             + ", ".join(f"c={lv['concurrency']}" for lv in doc["fit_levels"])
             + f"; {doc['input_len']} in / {doc['output_len']} out)",
             f"{'rate/s':>6}  {'TTFT p50 sim':>12} {'measured':>9} {'error':>7}  {'TPOT p50 sim':>12} {'measured':>9} "
             f"{'error':>7}  {'E2E p50 sim':>11} {'measured':>9} {'error':>7}  {'TTFT p99 sim':>12} {'measured':>9}"]
    for r in doc["rates"]:
        cells = []
        for key in ("ttft_s", "tpot_s", "e2e_s"):
            c = r[key]
            err = f"{c['error']:+.0%}" if c["error"] is not None else "n/a"
            cells.append(f"{c['simulated_p50'] * 1e3:>9.1f} ms {c['measured_p50'] * 1e3:>6.1f} ms {err:>7}")
        t = r["ttft_s"]
        lines.append(f"{r['rate']:>6g}  " + "  ".join(cells)
                     + f"  {t['simulated_p99'] * 1e3:>9.1f} ms {t['measured_p99'] * 1e3:>6.1f} ms")
    lines.append("the server's own histograms (engine timestamps, before delivery), means:")
    lines.append(f"{'rate/s':>6}  {'TTFT sim':>9} {'server':>9} {'error':>7}  {'ITL sim':>9} {'server':>9} {'error':>7}")
    for r in doc["rates"]:
        s = r["server"]
        cells = []
        for sim, meas in ((s["simulated_ttft_mean_s"], s["ttft_mean_s"]), (s["simulated_itl_mean_s"], s["itl_mean_s"])):
            err = f"{(sim - meas) / meas:+.0%}" if meas else "n/a"
            cells.append(f"{sim * 1e3:>6.1f} ms {(meas or 0) * 1e3:>6.1f} ms {err:>7}")
        lines.append(f"{r['rate']:>6g}  " + "  ".join(cells))
    rt = doc.get("runtime")
    if rt and all("with_frontend" in r for r in doc["rates"]):
        lines.append(f"with the stack's front end (runtime {rt['id']}: {rt['frontend_s'] * 1e3:.1f} ms a request, "
                     f"{rt['held_share']:.0%} of streams held whole), against bench:")
        lines.append(f"{'rate/s':>6}  {'TTFT p50 sim':>12} {'measured':>9} {'error':>7}  {'TTFT p99 sim':>12} {'measured':>9} "
                     f"{'error':>7}  {'TPOT p50 sim':>12} {'measured':>9} {'error':>7}")
        for r in doc["rates"]:
            w = r["with_frontend"]
            cells = []
            for key, q in (("ttft_s", "p50"), ("ttft_s", "p99"), ("tpot_s", "p50")):
                sim, meas = w[key][f"simulated_{q}"], w[key][f"measured_{q}"]
                err = f"{(sim - meas) / meas:+.0%}" if meas else "n/a"
                cells.append(f"{sim * 1e3:>9.1f} ms {meas * 1e3:>6.1f} ms {err:>7}")
            lines.append(f"{r['rate']:>6g}  " + "  ".join(cells))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", help="A running vLLM server serving tiny-llama [default: start one]")
    ap.add_argument("--rates", default="1.5,3,4.5")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--render", type=Path, help="Print the tables of a saved --json document instead of measuring")
    args = ap.parse_args()
    rates = tuple(float(x) for x in args.rates.split(","))
    if args.render:
        doc = json.loads(args.render.read_text())
    elif args.url:
        doc = compare(args.url, rates=rates)
    else:
        from tests.servers.vllm import VllmServer, build_model, vllm_python

        python = vllm_python()
        if python is None:
            raise SystemExit("vLLM CPU build not installed: run scripts/setup-vllm.sh (or set TCOBENCH_VLLM_PYTHON)")
        with tempfile.TemporaryDirectory() as tmp:
            server = VllmServer(python, build_model(python, Path(tmp) / "model"), Path(tmp) / "vllm.log").start()
            try:
                doc = compare(server.url, rates=rates)
            finally:
                server.stop()
    print(json.dumps(doc, indent=1) if args.json else render(doc))


if __name__ == "__main__":
    main()

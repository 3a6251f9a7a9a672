"""Latency against load, measured and simulated: vLLM's CPU build at several Poisson rates, saved as one bench run
whose levels carry the serving simulation of the same load, then drawn by ``tcobench report``.

1. Start vLLM's CPU build serving the tests' tiny Llama (as the tests do), unless ``--url`` and ``--model-dir``.
2. Probe this CPU and calibrate the probe on the served model's own architecture (as
   tests/integration/test_bench_predicted_vllm.py does), so perf has a chip for it.
3. ``tcobench bench --rate R1,R2,... --hardware <calibrated profile> --model-spec <model dir> --precision fp32
   --save``: each level's prediction holds the simulator's percentiles at that level's rate and request count.
4. ``tcobench report --run ID --format svg|png --out-dir DIR``: the report's "TTFT p99 against request rate" and
   "Interactivity against throughput" charts, measured and simulated side by side.

    .venv/bin/python benchmarks/serving_load_vllm.py --db runs.sqlite --out-dir figures [--rates 1,2,3,4]

The simulator runs with its default scheduler limits (vLLM's defaults: 256 sequences, the efficiency data's 8,192
tokens a step), not the test server's 16 and 2,048; at these rates neither binds (a few requests in flight).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # tests.servers: the helpers that start the real servers
    sys.path.insert(0, str(REPO))

import tcobench

MODEL = "tiny-llama"


def tcobench_cli(*args: str) -> str:
    """Run ``python -m tcobench ARGS`` with this interpreter and return its standard output."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-m", "tcobench", *args], env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"tcobench {' '.join(args[:3])} ... failed ({out.returncode}): {out.stderr.strip()}")
    return out.stdout


def calibrated_profile(model_dir: Path, work: Path) -> Path:
    """A hardware profile of this CPU: probed, then calibrated on the served model's architecture."""
    probed = work / "cpu.toml"
    tcobench.probe(device="cpu", output=probed, quick=True, hardware_id="bench-host-cpu")
    m = tcobench.measure(str(model_dir), hardware=str(probed), batch="1,4", context="64,192", prefill="16,64,128",
                         budget=0.02, rounds=1)
    run = m.to_run("serving_load_vllm", {"model": str(model_dir), "hardware": str(probed)})
    run = type(run)(**{**{k: getattr(run, k) for k in ("command", "provenance", "inputs", "outputs", "tool_version")},
                       "id": 1})
    out = work / "calibrated.toml"
    tcobench.calibrate([run], holdout=0, output=out)
    return out


def capture(url: str, model_dir: Path, db: str, rates: str, requests: int, out_dir: Path | None, fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        profile = calibrated_profile(model_dir, Path(tmp))
        tcobench_cli("--db", db, "bench", "--url", url, "--model", MODEL, "--api", "completions", "--rate", rates,
                     "--num-requests", str(requests), "--input-len", "64", "--output-len", "128", "--quiet",
                     "--hardware", str(profile), "--model-spec", str(model_dir), "--precision", "fp32",
                     "--label", "serving_load_vllm")
    run_id = str(json.loads(tcobench_cli("--db", db, "runs", "list", "--command", "bench", "--limit", "1", "--json"))[0]["id"])
    print(f"saved bench run {run_id} in {db}")
    if out_dir is not None:
        print(tcobench_cli("--db", db, "report", "--run", run_id, "--format", fmt, "--out-dir", str(out_dir)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True, help="The results store to save the bench run in (a SQLite file or URL)")
    ap.add_argument("--rates", default="1,2,3,4", help="Poisson rates, requests/s [default: 1,2,3,4]")
    ap.add_argument("--requests", type=int, default=32, help="Requests measured per rate [default: 32]")
    ap.add_argument("--out-dir", type=Path, help="Write the report's figures of the run here")
    ap.add_argument("--format", default="svg", choices=("svg", "png"))
    ap.add_argument("--url", help="A running vLLM server serving tiny-llama (with --model-dir) [default: start one]")
    ap.add_argument("--model-dir", type=Path, help="The served model's directory (its config.json), with --url")
    args = ap.parse_args()
    if args.url:
        if args.model_dir is None:
            raise SystemExit("--url needs --model-dir (the served model's config.json, for the prediction)")
        capture(args.url, args.model_dir, args.db, args.rates, args.requests, args.out_dir, args.format)
        return
    from tests.servers.vllm import VllmServer, build_model, vllm_python

    python = vllm_python()
    if python is None:
        raise SystemExit("vLLM CPU build not installed: run scripts/setup-vllm.sh (or set TCOBENCH_VLLM_PYTHON)")
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_model(python, Path(tmp) / "model")
        server = VllmServer(python, model_dir, Path(tmp) / "vllm.log").start()
        try:
            capture(server.url, model_dir, args.db, args.rates, args.requests, args.out_dir, args.format)
        finally:
            server.stop()


if __name__ == "__main__":
    main()

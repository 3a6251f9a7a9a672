"""Predicted vs measured for the decoder runs in a gpu_measure.py result file (same process, same shapes).

    .venv/bin/python benchmarks/gpu_compare.py benchmarks/results/h100-sxm-2026-11-24.json --hardware h100-sxm
"""

from __future__ import annotations

import argparse
import json
import statistics

from tcobench.catalog import load_catalog
from tcobench.perf import predict


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--hardware", default="h100-sxm")
    args = ap.parse_args()
    cat = load_catalog()
    hw = cat.get_hardware(args.hardware)
    res = json.load(open(args.results))
    print(f"measured on: {res['device']} (torch {res['torch']}); predicted for: {hw.id}")
    print(f"{'model':14} {'phase':8} {'batch':>5} {'tokens':>6} {'measured':>10} {'predicted':>10} {'error':>7}")
    errors = {"prefill": [], "decode": []}
    for r in res["decoder"]:
        model = cat.get_model(r["model"])
        if r["phase"] == "prefill":
            p = predict(model, hw, batch=1, input_len=r["input_len"], output_len=1, catalog=cat)
            got, n = p.ttft_s, r["input_len"]
        else:
            # one step at context c: the model's TPOT is taken at input_len + output_len / 2, so pass output_len 2
            p = predict(model, hw, batch=r["batch"], input_len=r["context"] - 1, output_len=2, catalog=cat)
            got, n = p.tpot_s, r["context"]
        err = got / r["s"] - 1
        errors[r["phase"]].append(abs(err))
        print(f"{r['model']:14} {r['phase']:8} {r['batch']:>5} {n:>6} {r['s'] * 1e3:>8.2f}ms {got * 1e3:>8.2f}ms {err:>+7.0%}")
    for phase, e in errors.items():
        print(f"{phase}: median |error| {statistics.median(e):.1%}, max {max(e):.1%} over {len(e)} runs")


if __name__ == "__main__":
    main()

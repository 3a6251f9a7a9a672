"""Calibrate perf's factors to a GPU run of benchmarks/gpu_measure.py (its JSON, as that script wrote it).

    PYTHONPATH=src .venv/bin/python benchmarks/calibrate_gpu_json.py ../shared/measurements/h200-2026-12-04-gpu_measure.json --hardware h200-sxm

gpu_measure.py's decoder records (a Llama-shaped model with random weights: prefill timed eagerly at batch 1, decode
steps replayed from a CUDA graph) become the records of one ``measure`` run per model, in bf16, and
``tcobench.calibrate`` fits them against the catalog chip's datasheet (a datasheet's peaks are never raised),
with a k-fold check. Prints, per model, the factors before and after and |predicted / measured - 1| before, after
and held out. Its decoder differs from ``local/decoder.py``: no RoPE, no norm weights; the same operators otherwise.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("json", type=Path)
    ap.add_argument("--hardware", default="h200-sxm")
    ap.add_argument("--holdout", type=int, default=5)
    args = ap.parse_args()

    import tcobench
    from tcobench.api.measured import model_spec
    from tcobench.catalog import load_catalog
    from tcobench.records import Provenance, Run

    doc = json.loads(args.json.read_text())
    cat = load_catalog()
    print(f"{args.json.name}: {doc['device']}, torch {doc['torch']}; calibrated against {args.hardware} (datasheet)")
    for name in dict.fromkeys(r["model"] for r in doc["decoder"]):
        rows = [r for r in doc["decoder"] if r["model"] == name]
        records = [{"phase": r["phase"], "batch": r["batch"], "input_len": r.get("input_len", r.get("context")),
                    "seconds": r["s"], "median_s": r["s"], "high_s": r["s"], "reps": 0} for r in rows]
        outputs = {"model": name, "model_spec": model_spec(cat.get_model(name)), "precision": "bf16",
                   "device": {"description": doc["device"], "host": "gpu_measure.py"}, "records": records}
        run = Run(command="measure", provenance=Provenance.MEASURED, inputs={"from": str(args.json)}, outputs=outputs,
                  tool_version="gpu_measure.py", id=0)
        k = min(args.holdout, len(records))
        r = tcobench.calibrate([run], hardware=args.hardware, holdout=k if k >= 2 else 0)
        s = r.fit_summary()
        print(f"\n{name}: {len(records)} records")
        for f in r.factors:
            unit = (lambda v: f"{v * 1e6:.3g} us") if f.name == "overhead" else (lambda v: f"{v:.3g}")  # noqa: E731
            print(f"  {f.name:17} {unit(f.before):>9} -> {unit(f.after):>9}")
        line = f"  median |pred / meas - 1|: before {s['before']['median_abs_error']:.1%}, after {s['after']['median_abs_error']:.1%}"
        if "held_out" in s:
            line += f", held out ({s['held_out']['folds']}-fold) {s['held_out']['median_abs_error']:.1%}"
        print(line)
        for rec, b, a, h in zip(r.records, r.predicted_before, r.predicted_after, r.predicted_held_out, strict=True):
            print(f"    {rec.phase:8}{rec.batch:>5}{rec.input_len:>6}  measured {rec.seconds * 1e3:7.2f} ms  before {b * 1e3:7.2f}"
                  f"  after {a * 1e3:7.2f}" + (f"  held-out {h * 1e3:7.2f}" if h is not None else ""))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""How much the MLPerf Offline rows move when each request has its own length: the step simulator on the
dataset's per-sample lengths against the same run with every request at the mean (issue 18).

The validation rows give MLPerf v4.1 Llama-2-70B and Mixtral-8x7B Offline results as steady-state predictions at
the mean prompt and the mean output. A real run differs in two ways the steady state leaves out: the lengths vary
(a long request holds a slot, and KV room, longer), and the run is finite (LoadGen issues one query of `samples_per_query` samples, and the last, longest requests
drain at a shrinking batch). Both are simulated here, one replica on its share of the samples (every replica gets
the same share), all queued at t = 0, with the engine's batch cap and prefill chunk of the row:

- fixed: every request at the row's input_len / output_len (where the batch cap fits the KV cache, the
  simulator's whole-run rate is the steady state's within about 1 %, a check of the two against each other);
- dataset: prompts drawn (seeded, with replacement, as LoadGen draws from the performance set) from the dataset's
  per-sample token counts; outputs from the same samples' reference answers, scaled so that their mean is the
  row's output_len (the submission's measured tokens per sample). Mixtral's are its own reference generation
  (mean 144.8; MLCommons gives tokens_per_sample 144.84, language/mixtral-8x7b/README.md), so the scale is ~1.01;
  Llama-2's are GPT-4's OpenOrca answers (mean 218.9) while Llama-2-70B's own are longer (294.45 tokens a sample in
  MLCommons' fp16 reference run, language/llama2-70b/README.md), so their shape scaled by ~1.3 is an assumption.

Printed per replica (output tokens/s): the steady state (what validate compares), the fixed and the dataset runs,
the dataset run against the steady state, the mean running batch (fixed > dataset), and the row's error now and
with the dataset run in place of the steady state. Every request is admitted when its prompt fits and the newest
is preempted (recomputed) when the KV cache is full: vLLM's rule, and TensorRT-LLM's MAX_UTILIZATION, which
NVIDIA's harness runs (`trtllm_batch_sched_policy` default "max_util", closed/NVIDIA/code/common/arguments.py and
code/harness/harness_llm/main_llm.cc). AMD's (and Dell's) harness sorts the query's samples longest prompt first
(`--sorting descending`, closed/AMD/code/llama2-70b-99/test_VllmFp8/test_VllmFp8_Offline_perf.sh); NVIDIA's does
not (`enable_sort = False`). Samples per replica: `samples_per_query` of the row's run (SAMPLES_PER_QUERY) over
its replicas.

Per-sample lengths: openshift-psap/performance-dashboard mlperf-data/summaries/{llama2-70b-99,mixtral-8x7b}.csv
(input_length, output_length; the token counts of MLCommons' processed datasets, 24,576 and 15,000 samples),
@7cd1065d for Llama-2 and @67033bae for Mixtral, the commits validation.toml cites. Pass the directory that holds
the two files.

Usage: PYTHONPATH=src .venv/bin/python scripts/mlperf_offline_lengths.py DIR [--row PATTERN ...]
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tcobench.catalog import Catalog, Hardware, Model, load_catalog
from tcobench.perf.efficiency import Efficiencies, resolve
from tcobench.perf.predict import predict
from tcobench.perf.traffic import Traffic
from tcobench.perf.validate import Row, _efficiencies, load_rows

Ints = NDArray[np.int64]

DATASETS = {"llama-2-70b": "llama2-70b-99.csv", "mixtral-8x7b": "mixtral-8x7b.csv"}
MAX_OUTPUT = 1024  # max_new_tokens of both benchmarks' reference implementations
# vLLM's max_num_seqs in AMD's (and Dell's) Offline harness: the LLMConfig default of VllmFp8/mainVllmFp8_Offline.py,
# not overridden by test_VllmFp8_Offline_perf.sh; the rows' batch is "auto" (the steady state's largest that fits)
VLLM_MAX_SEQS = 2048

# samples_per_query of each row's run, as read in mlcommons/inference_results_v4.1@198fc467
# closed/<submitter>/results/<system>/<benchmark>/Offline/performance/run_1/mlperf_log_summary.txt (the systems of
# the rows' sources): LoadGen's target_qps x min_duration x 1.1, or the performance set where that is more
SAMPLES_PER_QUERY = {
    "mlperf41-h100x8-offline": 200_640,  # NVIDIA DGX-H100_H100-SXM-80GBx8_TRT (min_duration 2,400 s)
    "mlperf41-h200x8-offline": 274_560,  # NVIDIA H200-SXM-141GBx8_TRT
    "mlperf41-b200x1-offline": 100_320,  # NVIDIA B200-SXM-180GBx1_TRT
    "mlperf41-mi300x8-offline": 52_800,  # AMD 8xMI300X_2xEPYC-9374F (min_duration 600 s)
    "mlperf41-mi300x1-offline": 24_576,  # AMD 1xMI300X_2xEPYC-9374F
    "mlperf41-mi300x8turin-offline": 54_780,  # AMD 8xMI300X_2xEPYC-TURIN
    "mlperf41-dell-mi300x8-offline": 52_800,  # Dell XE9680_MI300X_192GBx8
    "mlperf41-mixtral-h100x8-nvidia-offline": 971_520,  # NVIDIA DGX-H100_H100-SXM-80GBx8_TRT
    "mlperf41-mixtral-h200x8-nvidia-offline": 1_119_360,  # NVIDIA H200-SXM-141GBx8_TRT
    "mlperf41-mixtral-h100x8-google-offline": 971_520,  # Google DGX-H100_H100-SXM-80GBx8_TRT
    "mlperf41-mixtral-h100x8-hpe-offline": 971_520,  # HPE_Cray_XD670_H100_SXM_80GBx8_TRT
    "mlperf41-mixtral-h200x8-gigabyte-offline": 1_119_360,  # GIGABYTE_G593_SD1_H200_SXM_141GBx8_TRT
    "mlperf41-mixtral-h100x4-dell-offline": 485_760,  # Dell XE8640_H100_SXM_80GBx4_TRT
    "mlperf41-mixtral-h100x4-fujitsu-offline": 528_000,  # Fujitsu GX2560M7_H100_SXM_80GBx4_TRT
    "mlperf41-mixtral-h100x8-supermicro-offline": 971_520,  # Supermicro AS_4125GS_TNHR2_LCC_H100_SXM_80GBx8_TRT
}


def read_lengths(path: Path) -> tuple[Ints, Ints]:
    """The (input, output) token counts of a dataset summary CSV with an input_length,output_length header."""
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    return data[:, 0], data[:, 1]


def dataset_traffic(n: int, inputs: Ints, outputs: Ints, output_mean: float, seed: int = 0, *,
                    longest_first: bool = False) -> Traffic:
    """``n`` requests queued at t = 0, each a sample drawn with replacement; outputs scaled to ``output_mean``;
    ``longest_first``: in order of prompt length, longest first (AMD's harness, ``--sorting descending``)."""
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, inputs.size, n)
    if longest_first:
        pick = pick[np.argsort(-inputs[pick], kind="stable")]
    scaled = np.clip(np.rint(outputs * (output_mean / outputs.mean())), 1, MAX_OUTPUT).astype(np.int64)
    return Traffic(inputs[pick].astype(np.int64), scaled[pick], np.zeros(n), None, f"{n:,} dataset samples at t = 0")


def fixed_traffic(n: int, input_len: int, output_len: int) -> Traffic:
    return Traffic(np.full(n, input_len, np.int64), np.full(n, output_len, np.int64), np.zeros(n), None,
                   f"{n:,} requests of {input_len} / {output_len} at t = 0")


def per_replica(row: Row, replicas: int) -> int:
    if row.id not in SAMPLES_PER_QUERY:
        raise SystemExit(f"row {row.id}: its run's samples_per_query is not in SAMPLES_PER_QUERY; add it from the "
                         "submission's mlperf_log_summary.txt")
    return max(1, round(SAMPLES_PER_QUERY[row.id] / replicas))


def whole_run(row: Row, model: Model, hw: Hardware, cat: Catalog, traffic: Traffic, common: dict[str, Any]) -> tuple[float, float]:
    """Output tokens/s of one replica over the whole run (tokens / makespan), and its mean running batch."""
    p = predict(model, hw, batch=row.batch, **common)
    auto = VLLM_MAX_SEQS if (row.stack or "").startswith("vLLM") else max(1, p.max_batch)
    seqs = auto if row.batch == "auto" else int(row.batch)
    eff: Efficiencies = common["efficiencies"] or resolve(hw, cat.efficiency)
    one = {**common, "chips": row.tp * row.pp * row.ep}
    q = predict(model, hw, batch=seqs, traffic=traffic, max_seqs=seqs, preempt=True,
                max_batched_tokens=max(seqs, int(eff.prefill_chunk)), **one)
    assert q.serving is not None
    return float(traffic.output_len.sum()) / q.serving.makespan_s, q.serving.mean_running


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("dir", type=Path, help="directory holding llama2-70b-99.csv and mixtral-8x7b.csv")
    ap.add_argument("--row", action="append", default=[], help="row id or pattern [default: every MLPerf v4.1 Offline row]")
    ap.add_argument("--max-requests", type=int, default=0, help="cap the samples simulated per replica (0: none)")
    args = ap.parse_args(argv)
    cat = load_catalog()
    lengths = {m: read_lengths(args.dir / f) for m, f in DATASETS.items()}
    pats = args.row or ["mlperf41-*offline"]
    rows = [r for r in load_rows() if not r.skip and r.phase == "throughput" and r.model in DATASETS and any(fnmatch.fnmatchcase(r.id, p) for p in pats)]
    print(f"{'row':44} {'n/replica':>9} {'steady':>8} {'fixed':>8} {'dataset':>8} {'vs steady':>9} {'running':>13} {'error':>13}")
    for row in rows:
        hw, model = cat.get_hardware(row.hardware), cat.get_model(row.model)
        common: dict[str, Any] = {"efficiencies": _efficiencies(row, hw, cat, None), "tp": row.tp, "tp_layout": row.tp_layout, "pp": row.pp,
                  "ep": row.ep, "moe_ep": row.moe_ep, "input_len": row.input_len, "output_len": row.output_len,
                  "precision": row.precision, "weights": row.weights, "kv": row.kv, "catalog": cat, "max_context": row.context,
                  "graph_batches": row.cuda_graph_batches,
                  "runtime": cat.get_runtime(row.runtime) if row.runtime else None}
        steady = predict(model, hw, batch=row.batch, **{**common, "chips": row.chips})
        n = per_replica(row, steady.replicas)
        if args.max_requests:
            n = min(n, args.max_requests)
        ins, outs = lengths[row.model]
        fixed, run_fixed = whole_run(row, model, hw, cat, fixed_traffic(n, row.input_len, row.output_len), common)
        longest_first = (row.stack or "").startswith("vLLM")  # AMD's (and Dell's) harness sorts the query's samples
        dist, run_dist = whole_run(row, model, hw, cat, dataset_traffic(n, ins, outs, row.output_len, longest_first=longest_first),
                                   common)
        ss = steady.output_tokens_per_s / steady.replicas
        err_now = steady.output_tokens_per_s / row.published - 1
        err_dist = dist * steady.replicas / row.published - 1
        print(f"{row.id:44} {n:>9,} {ss:>8,.0f} {fixed:>8,.0f} {dist:>8,.0f} {dist / ss - 1:>+9.1%} {run_fixed:>6,.0f}>{run_dist:<6,.0f}"
              f" {err_now:>+5.0%} -> {err_dist:+.0%}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

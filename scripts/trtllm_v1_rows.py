#!/usr/bin/env python3
"""Write the validation rows for TensorRT-LLM v1.0's published throughput tables (TOML, to stdout).

Source: NVIDIA/TensorRT-LLM docs/source/performance/perf-overview.md @00f37686 ("NEW for v1.0"), the three
Llama tables (3.1 8B, 3.3 70B, 3.1 405B), every cell as printed; blank cells have no row. The metric is
"Total Output Throughput (tokens/sec)" of the whole TP group: output tokens over the time from the first
request's start to the last one's end (tensorrt_llm/bench/dataclasses/reporting.py @02499765).

What the rows need and where it comes from:
- requests per ISL/OSL: the same document's `$num_requests` table (30000 for 128/128, ...), fixed lengths
  (token-norm-dist with both stdevs 0).
- the engine's largest batch and max_num_tokens: the run passes neither, so trtllm-bench's heuristic picks
  them (tensorrt_llm/bench/build/tuning.py @04cba882, `calc_engine_setting` / `finetune_setting`, called from
  the PyTorch flow's get_settings with the run's kv_cache_free_gpu_mem_fraction). Restated here from its
  documented rule, not copied: requests that fit = 0.95 x (GPU memory x gpus - weights) / (KV bytes per token
  x (ISL + OSL)), KV per token counted with max(tp, kv_heads) heads; batch = that / pp, capped at 4096 and
  rounded up (multiple of 32, at least 64, below 256; of 128 below 1024; else of 256); tokens = batch x
  (1 + ISL/OSL) capped at 32768 and rounded up (256, at least 2048, below 4096; 512 below 8192; else 1024);
  with chunked prefill off, tokens below the ISL are raised to ISL + batch.
- KV cache in fp8: the PyTorch flow sets the KV dtype from the checkpoint's quantisation when the checkpoint
  names none (`_KV_CACHE_MAP` in the same get_settings), fp8 for these FP8/FP4 checkpoints.
- `--kv_cache_free_gpu_mem_fraction 0.95`: "In many cases", the document says ("we fall back to 0.90 or lower
  if out-of-memory errors are encountered"); 0.95 for every row, a stated assumption. As tcobench's
  memory_utilization: (weights + 0.95 x (capacity - weights)) / capacity per GPU.
- GPU memory in the heuristic: the catalog's capacity in GiB (the heuristic reads the device's). Its weights are
  every parameter at 1 byte (FP8) or 0.5 (NVFP4, scales left out); tcobench's own weights (in memory_utilization)
  count the NVFP4 scales and the 16-bit embedding and LM head.
- Llama 3.3 70B has Llama 3.1 70B's shape; llama-3.1-70b stands in for it.
- Decode CUDA graphs: the runs pass `--extra_llm_api_options` with `cuda_graph_config: enable_padding: true` and
  batch_sizes 1, 2, 4, ..., 256, 384, 512, 1024, ..., 8192 (the same document's dense-model llm_options.yml).
  The PyTorch model engine keeps the listed sizes up to min(max_batch_size, max_num_tokens) and adds that cap
  itself (`_filter_cuda_graph_batch_sizes`), then pads a generation-only batch up to the next captured size
  (`_round_up_batch_size`, `_get_padded_batch`); an iteration with any context request runs without a graph
  (`ScheduledRequests.can_run_cuda_graph`). tensorrt_llm/_torch/pyexecutor/model_engine.py @1a0dc5f7 (a tree
  near v1.0; the same logic on both sides of it). Written as the row's `cuda_graph_batches`.

Usage: .venv/bin/python scripts/trtllm_v1_rows.py >> src/tcobench/perf/data/validation.toml
"""

from __future__ import annotations

import math

from tcobench.catalog import load_catalog
from tcobench.catalog.params import count_params
from tcobench.perf import predict

SOURCE = ("NVIDIA/TensorRT-LLM docs/source/performance/perf-overview.md @00f37686 (v1.0), table '{table}', column "
          "'{gpu} TP{tp} ({prec})', row {isl}/{osl}: Total Output Throughput (tokens/sec), trtllm-bench throughput "
          "--backend pytorch, {requests} requests of fixed lengths")
REQUESTS = {(128, 128): 30000, (128, 2048): 3000, (128, 4096): 1500, (1000, 2000): 1500, (2048, 128): 3000,
            (2048, 2048): 1500, (5000, 500): 1500, (1000, 1000): 3000, (500, 2000): 3000, (20000, 2000): 1000}
LENGTHS = [(128, 128), (128, 2048), (128, 4096), (500, 2000), (1000, 1000), (1000, 2000), (2048, 128), (2048, 2048),
           (5000, 500), (20000, 2000)]
# table -> (model id, [(gpu label, hardware id, tp, precision, [value per LENGTHS row, None for a blank cell])])
TABLES = {
    "Llama 3.1 8B": ("llama-3.1-8b", [
        ("H200", "h200-sxm", 1, "fp8", [27911, 26221, 18027, 20770, 17744, 16828, 3538, 12194, 3902, 1804]),
        ("H100", "h100-sxm", 1, "fp8", [28312, 22714, 14325, 17660, 15220, 13899, 3450, 9305, 3459, 1351]),
    ]),
    "Llama 3.3 70B": ("llama-3.1-70b", [
        ("B200", "b200", 1, "fp4", [11147, 9922, 6831, 7762, 7007, 6271, 1339, 4783, 1459, 665]),
        ("GB200", "gb200", 1, "fp4", [12189, 11309, 7849, 9028, 7326, 6513, 1450, 5646, 1602, 755]),
        ("H200", "h200-sxm", 1, "fp8", [3803, 4336, 2872, 3666, 2909, 2994, 442, 2003, 566, 283]),
        ("H100", "h100-sxm", 2, "fp8", [6378, 6651, 4199, 5222, 4205, 4146, 762, 3082, 898, 437]),
    ]),
    "Llama 3.1 405B": ("llama-3.1-405b", [
        ("B200", "b200", 4, "fp4", [6281, 8020, 6345, 6244, 5209, 4933, 749, 4212, 1048, 672]),
        ("GB200", "gb200", 4, "fp4", [6740, 8151, 6608, 6540, 5389, 5135, 797, 4407, 1112, 739]),
        ("H200", "h200-sxm", 8, "fp8", [3814, 5348, 4741, 4724, 3330, 3722, 456, 2948, 650, 505]),
        ("H100", "h100-sxm", 8, "fp8", [3627, 4340, 3116, 3994, 2919, 2895, 453, 2296, 610, 345]),
    ]),
}
KV_FRACTION = 0.95
# cuda_graph_config.batch_sizes of the document's llm_options.yml for dense models
GRAPH_BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 384, 512, 1024, 2048, 4096, 8192]
# bytes per weight as the heuristic counts them (its BYTES_PER_ELEM: FP8 1, NVFP4 0.5, the block scales left out)
HEURISTIC_BYTES = {"fp8": 1.0, "fp4": 0.5}


def round_up(x: float, step: int) -> int:
    return step * math.ceil(x / step)


def tuned(requests_fit: float, isl: int, osl: int, pp: int = 1) -> tuple[int, int]:
    """(max_batch_size, max_num_tokens) by trtllm-bench's documented rule (module docstring)."""
    bs = min(requests_fit, 4096) / pp
    tokens = min(bs * (1 + isl / osl), 32768)
    max_bs = max(64, round_up(bs, 32)) if bs < 256 else round_up(bs, 128) if bs < 1024 else round_up(bs, 256)
    if tokens < 4096:
        max_tokens = max(2048, round_up(tokens, 256))
    elif tokens < 8192:
        max_tokens = round_up(tokens, 512)
    else:
        max_tokens = round_up(tokens, 1024)
    if max_tokens < isl:  # chunked prefill is off by default: a whole prompt must fit in one step
        max_tokens = isl + max_bs
    return max_bs, max_tokens


def captured(max_bs: int, max_tokens: int) -> list[int]:
    """The decode batch sizes the engine captures graphs at: the listed ones up to its cap, and the cap."""
    cap = min(max_bs, max_tokens)
    return [b for b in GRAPH_BATCHES if b < cap] + [cap]


def main() -> None:
    cat = load_catalog()
    print("\n# TensorRT-LLM v1.0 perf-overview (PyTorch backend, in-flight batching): rows written by scripts/trtllm_v1_rows.py,")
    print("# whose docstring gives the source and how each engine setting is derived. Every cell of the three Llama tables.")
    for table, (model_id, columns) in TABLES.items():
        model = cat.get_model(model_id)
        for label, hw_id, tp, prec, values in columns:
            hw = cat.get_hardware(hw_id)
            cap = hw.memory.capacity.value  # type: ignore[union-attr]
            weights = predict(model, hw, tp=tp, precision=prec, catalog=cat).weights_bytes  # per GPU, as tcobench counts them
            # the heuristic counts every weight at the checkpoint's format, KV heads at max(tp, kv_heads)
            w_heur = count_params(model).total * HEURISTIC_BYTES[prec]
            kv_token = 2 * model.layers * max(tp, model.kv_head_count) * model.head_size * 1.0  # fp8 KV
            util = round((weights + KV_FRACTION * (cap - weights)) / cap, 3)
            for (isl, osl), value in zip(LENGTHS, values, strict=True):
                if value is None:
                    continue
                fit = KV_FRACTION * (cap * tp - w_heur) / (kv_token * (isl + osl))
                max_bs, max_tokens = tuned(fit, isl, osl)
                n = REQUESTS[(isl, osl)]
                rid = f"trtllm10-{model_id.replace('.', '')}-{hw_id}-tp{tp}-{isl}-{osl}"  # no dots: TOML keys
                print(f"\n[row.{rid}]")
                print('ref = "TRT10-PERF"')
                print(f'source = "{SOURCE.format(table=table, gpu=label, tp=tp, prec=prec.upper(), isl=isl, osl=osl, requests=n)}"')
                print('runtime = "trtllm"')
                print(f'model = "{model_id}"')
                print(f'hardware = "{hw_id}"')
                print(f"chips = {tp}\ntp = {tp}\nbatch = {max_bs}\nrequests = {n}")
                print(f"input_len = {isl}\noutput_len = {osl}")
                print(f'precision = "{prec}"\nkv = "fp8"')
                print(f"engine = {{ memory_utilization = {util}, prefill_chunk = {max_tokens} }}")
                print(f"cuda_graph_batches = {captured(max_bs, max_tokens)}")
                print(f'metric = "output_tokens_per_s"\npublished = {value}\nphase = "throughput"\nbatching = "inflight"')
                if isl + osl > model.max_context:
                    print(f"context = {isl + osl}")
                if model_id == "llama-3.1-70b":
                    print('note = "Llama 3.3 70B, which has Llama 3.1 70B\'s shape"')


if __name__ == "__main__":
    main()

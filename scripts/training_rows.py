# Generates src/tcobench/perf/data/training_validation.toml from docs/research/training-rows.toml (research notes);
# every value below is read from the research row (which quotes its source); choices are stated in `note`.
import tomllib
d = {r["id"]: r for r in tomllib.load(open("docs/research/training-rows.toml", "rb"))["row"]}
out = ["""# Published training results expressed as `tcobench train` inputs, for `tcobench validate` (the training rows).
# Each row: the model (a catalog id, or `arch` for a GPT-3-style model of that shape: learned positions, GELU 4h FFN,
# LayerNorm, biases, tied embeddings), the hardware, the layout the source states, one published figure and how it
# is compared (`metric`):
#   tokens_per_s            tokens per second of the whole job (MLPerf: tokens trained / time to train, so evaluation
#                           and start-up inside the timed region count against the run)
#   step_time_s             seconds per optimizer step
# MLPerf rows also give `eval_every` and `eval_sequences`: the timed region includes evaluation, every 24,576 sequences
# (MLLOG eval_start at epoch_num 50,331,648 tokens) over 11,590,004 tokens (MLLOG eval_samples: 5,660 sequences of
# 2,048), forward only, in the results logs of every NVIDIA, CoreWeave, Azure and Intel submission read
# (training_results_v3.0@63e326c, v3.1@d06288b); the model adds that forward time to each step's share (perf/validate_training.py).
#   tflops_megatron2021     the paper's TFLOP/s per GPU: 96 B s l h^2 (1 + s / 6h + V / 16 l h) per step, which counts
#                           the recomputed forward (Narayanan et al. 2021, section 5.1), over step time x GPUs
#   tflops_8n               BigScience's TFLOP/s per GPU: 8 x parameters x tokens per step over step time x GPUs
#                           (bigscience tr11-176B-ml README: "the 4*2 co-efficient")
# Rows whose configuration the source does not state (micro-batch, recomputation, FFN width, ...) are listed with
# `skip`. Kept aside as the project's independent check and never added here: MLPerf Training v4.0 results and the
# Llama 3 paper's training-efficiency table. The research notes with quotes per row: docs/training.md, 'Sources'.
"""]

def q(v):
    if isinstance(v, str): return '"' + v.replace('"', "'") + '"'
    if isinstance(v, bool): return "true" if v else "false"
    return repr(v)

def row(rid, **kw):
    lines = [f"[row.{rid}]"]
    for k, v in kw.items():
        if v is None: continue
        if isinstance(v, dict):
            lines.append(f"{k} = {{ " + ", ".join(f"{a} = {q(b)}" for a, b in v.items()) + " }")
        else:
            lines.append(f"{k} = {q(v)}")
    out.append("\n".join(lines) + "\n")

for rid in ("N21-1.7B", "N21-3.6B", "N21-7.5B", "N21-18B", "N21-39B", "N21-76B", "N21-145B", "N21-310B", "N21-530B", "N21-1T"):
    r = d[rid]; a = r["arch"]; L = r["layout"]
    row(rid.lower().replace(".", "_"), ref=rid, source=r["source"] + "; configuration: " + r["source_verified_in"].split("; ")[-1],
        arch={"layers": a["layers"], "hidden": a["hidden"], "heads": a["heads"], "vocab": a["vocab"]},
        hardware="a100-sxm-80gb", chips=r["chips"], tp=L["tp"], pp=L["pp"], vpp=1, zero=0, sequence_parallel=False,
        micro_batch=r["micro_batch"], global_batch=r["global_batch"], seq_len=a["seq_len"], recompute="full",
        precision="fp16", framework="megatron-2021", metric="tflops_megatron2021", published=r["tflops_per_chip"], group="Megatron-LM 2021",
        note="fp16 (same A100 peak as bf16); local DDP without overlap of the gradient all-reduce (framework 'plain'); no interleaving flag in the authors' script")

for rid in [k for k in d if k.startswith("K22")]:
    sp = d[rid]["layout"]["sp"] is True
    rc = "full" if "full" in rid else "selective"
    r = d[rid]; a = r["arch"]; L = r["layout"]
    row(rid.lower(), ref=rid, source=r["source"] + "; " + r.get("source_verified_in", ""),
        arch={"layers": a["layers"], "hidden": a["hidden"], "heads": a["heads"], "vocab": a["vocab"]},
        hardware="a100-sxm-80gb", chips=r["chips"], tp=L["tp"], pp=L["pp"], vpp=L["vpp"], zero=0, sequence_parallel=sp,
        micro_batch=r["micro_batch"], global_batch=r["global_batch"], seq_len=a["seq_len"], recompute=rc,
        precision="bf16", framework="megatron-2021", metric="step_time_s", published=r["step_time_s"], group="Megatron-LM 2022",
        note="'we do not use any overlapping of gradient all-reduces with back-propagation' (framework 'plain'); 16-bit mixed precision")

for rid in [k for k in d if k.startswith(("MLP30-NV", "MLP30-CW", "MLP31-NV", "MLP31-AZ"))]:
    r = d[rid]; L = r["layout"]
    tps = r["tokens_trained"] / (r["time_to_train_min"] * 60.0)
    row(rid.lower(), ref=rid, source=r["source"] + "; " + r.get("source_verified_in", ""), model="gpt-3-175b",
        hardware="h100-sxm", chips=r["chips"], tp=L["tp"], pp=L["pp"], vpp=L["vpp"], zero=1, sequence_parallel=True,
        micro_batch=r["micro_batch"], global_batch=r["global_batch"], seq_len=2048, recompute="none", precision="fp8",
        framework="nemo", metric="tokens_per_s", published=round(tps, 1), eval_every=24576, eval_sequences=5660,
        group="MLPerf Training GPT-3",
        note=f"{r['tokens_trained']:,} tokens in {r['time_to_train_min']} min (olympic mean); TP communication overlap (userbuffers) was on and is not modelled (tp_comm_overlap 0)")

for rid in [k for k in d if k.startswith(("MLP30-GAUDI2", "MLP31-GAUDI2"))]:
    r = d[rid]; L = r["layout"]
    tps = r["tokens_trained"] / (r["time_to_train_min"] * 60.0)
    fp8 = rid.startswith("MLP31")
    row(rid.lower(), ref=rid, source=r["source"] + "; " + r.get("source_verified_in", ""), model="gpt-3-175b",
        hardware="gaudi2", chips=r["chips"], tp=L["tp"], pp=L["pp"], vpp=1, zero=0, sequence_parallel=L["sp"],
        micro_batch=r["micro_batch"], global_batch=r["global_batch"], seq_len=2048, recompute="selective",
        precision="fp8" if fp8 else "bf16", framework="deepspeed", metric="tokens_per_s", published=round(tps, 1),
        eval_every=24576, eval_sequences=5660, group="MLPerf Training GPT-3",
        note=f"{r['tokens_trained']:,} tokens in {r['time_to_train_min']} min; Megatron-DeepSpeed, ZeRO stage 0")

r = d["PALM-540B"]
row("palm-540b", ref="PALM-540B", source=r["source"] + "; " + r.get("source_verified_in", ""), model="palm-540b",
    hardware="tpu-v4", chips=6144, tp=12, pp=1, vpp=1, zero=3, zero_group=256, sequence_parallel=True, micro_batch=4, global_batch=2048,
    seq_len=2048, recompute="full", precision="bf16", framework="megatron", metric="tokens_per_s", published=r["tokens_per_s"],
    group="PaLM", note="12-way model parallel x 256-way fully sharded data parallel within each pod x 2 pods replicating each other (Section 4: 'within each pod ... 12-way model parallelism and 256-way fully sharded data parallelism'; 'each pod ... exchanges gradients across pods', 'the host-side ... 1:1'): ZeRO-3 over 256 of dp 512 on ICI (zero_group 256), each chip's gradient shard all-reduced with its peer in the other pod over the DCN; rematerialisation of 75% of the non-attention forward and all attention is modelled as full recomputation (HFU/MFU 1.33 against PaLM's 1.25); the micro-batch is not stated: 4 (2048 / 512) is the whole batch per data-parallel rank in one pass")

r = d["BLOOM-176B"]; a = r["arch"]
row("bloom-176b", ref="BLOOM-176B", source=r["source"], model="bloom-176b", hardware="a100-sxm-80gb", chips=384, tp=4, pp=12,
    vpp=1, zero=1, sequence_parallel=False, micro_batch=2, global_batch=2048, seq_len=2048, recompute="full", precision="bf16",
    framework="megatron-deepspeed-2022", metric="tflops_8n", published=150.0, params=176.247e9, group="BigScience",
    note="'training throughput: about 150 TFLOPs' (run average; GENCI quotes 156 as the peak)")

for rid, why in (("MTNLG-2240", "micro-batch, recomputation and ZeRO stage not stated in the sources read"),
                 ("MTNLG-2800", "micro-batch, recomputation and ZeRO stage not stated in the sources read"),
                 ("MTNLG-3360", "micro-batch, recomputation and ZeRO stage not stated in the sources read"),
                 ("OPT-175B", "tensor/pipeline split, micro-batch and FLOP counting not stated"),
                 ("MEGASCALE-T2-MLM-175B-12288", "GPU model, micro-batch and recomputation not stated (sixteen MegaScale Table 2 rows alike)"),
                 ("MLP31-TPUv5e-4096", "in-slice mesh not stated; int8 (AQT) training, which the model does not cover"),
                 ("MLM24-7.1B", "micro-batch, recomputation, FFN width and KV heads not stated in the README table (nine weak-scaling rows alike)"),
                ):
    r = d[rid]
    row(rid.lower().replace(".", "_"), ref=rid, source=r["source"], skip=why, metric="tokens_per_s", published=0.0)

open("src/tcobench/perf/data/training_validation.toml", "w").write("\n".join(out))
print(len(out) - 1, "rows")

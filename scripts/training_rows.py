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
        framework="nemo-mlperf30" if rid.startswith("MLP30") else "nemo", metric="tokens_per_s", published=round(tps, 1),
        eval_every=24576, eval_sequences=5660,
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

# FSDP (ZeRO-3) data parallelism. llm-foundry's MPT benchmark table, 'H100 80GB BF16', every row at the MPT yamls'
# sequence length 2048 (the rule was chosen before the model ran on them), transcribed: model | seq | GPUs |
# MicroBatchSize | GradAccum | GlobalBatchSize | Throughput (T/s) | Activation Checkpointing | MFU (%).
LF_TABLE = """70b | 2048 | 64 | 8 | 4 | 2048 | 66523 | True | 42.57
70b | 2048 | 32 | 2 | 16 | 1024 | 28242 | True | 36.15
30b | 2048 | 32 | 14 | 3 | 1344 | 73860 | True | 43.92
30b | 2048 | 16 | 10 | 3 | 480 | 36209 | True | 43.07
30b | 2048 | 8 | 3 | 21 | 504 | 16022 | True | 38.11
13b | 2048 | 64 | 2 | 1 | 128 | 307209 | False | 39.86
13b | 2048 | 32 | 2 | 1 | 64 | 153960 | False | 39.95
13b | 2048 | 16 | 2 | 1 | 32 | 76280 | False | 39.58
13b | 2048 | 8 | 2 | 1 | 16 | 38336 | False | 39.79
7b | 2048 | 8 | 6 | 1 | 48 | 85144 | False | 46.44
3b | 2048 | 64 | 6 | 3 | 1152 | 1441663 | False | 40.8
3b | 2048 | 32 | 6 | 3 | 576 | 736701 | False | 41.7
3b | 2048 | 16 | 10 | 3 | 480 | 386285 | False | 43.73
1b | 2048 | 64 | 20 | 1 | 1280 | 2841754 | False | 40.85
1b | 2048 | 32 | 20 | 1 | 640 | 1444183 | False | 41.52
1b | 2048 | 16 | 20 | 1 | 320 | 736596 | False | 42.36
1b | 2048 | 8 | 14 | 1 | 112 | 363645 | False | 41.82
760m | 2048 | 32 | 24 | 1 | 768 | 2175091 | False | 37.57
760m | 2048 | 16 | 24 | 1 | 384 | 1096819 | False | 37.89
760m | 2048 | 8 | 24 | 2 | 384 | 505177 | False | 34.9"""
# MPT shapes (layers, d_model, heads): d_model and layers match the NumParams column (12 L h^2 + V h + 2048 h)
MPT_SHAPE = {"70b": (80, 8192, 64), "30b": (48, 7168, 64), "13b": (40, 5120, 40), "7b": (32, 4096, 32), "3b": (32, 2560, 20),
             "1b": (24, 2048, 16), "760m": (24, 1536, 12)}
LF_SOURCE = ("mosaicml/llm-foundry scripts/train/benchmarking/README.md at commit 061f2c7ce64e655100286584a7629e2a09f827ba, "
             "table 'H100 80GB BF16' (MicroBatchSize, GradAccum, GlobalBatchSize, Throughput (T/s), Activation Checkpointing, "
             "amp_bf16, MP Mode DEFAULT, FULL_SHARD); shapes: scripts/train/yamls/pretrain/mpt-<size>.yaml (mpt-7b.yaml read: "
             "d_model 4096, 32 heads, 32 layers, expansion 4, vocab 50368, attn_impl triton)")
out.append("# FSDP (ZeRO-3) data parallelism: llm-foundry's MPT benchmark table, H100 bf16, every row at the MPT yamls' sequence\n"
           "# length 2048 (chosen by that rule before the model ran on them). MPT: LayerNorm, GELU 4h FFN, tied embeddings;\n"
           "# expressed as `arch` (the GPT-3 shape): the NumParams column is 12 L h^2 + V h + seq h + 13 L h + 2 h, learned\n"
           "# positions (it grows by seq x d_model with the sequence length) and biases, MPT's defaults (the yamls set no alibi).")
for line in LF_TABLE.splitlines():
    m, s, g, mb, ga, gb, tps, ac, mfu = [x.strip() for x in line.split("|")]
    nl, h, nh = MPT_SHAPE[m]
    row(f"lf-mpt-{m}-h100-{g}", ref=f"LF-MPT-{m.upper()}-H100x{g}", source=LF_SOURCE,
        arch={"layers": nl, "hidden": h, "heads": nh, "vocab": 50368}, hardware="h100-sxm", chips=int(g), tp=1, pp=1, vpp=1,
        zero=3, sequence_parallel=False, micro_batch=int(mb), global_batch=int(gb), seq_len=int(s),
        recompute="full" if ac == "True" else "none", precision="bf16", framework="composer-fsdp", metric="tokens_per_s",
        published=float(tps), group="llm-foundry FSDP",
        note=f"grad accumulation {ga}; the table's MFU {mfu}% (6N + attention FLOPs over 989 TFLOP/s); Composer FSDP1, "
             "Triton FlashAttention (attn_impl triton: llm-foundry's flash_attn_triton.py on triton_pre_mlir, the sm90 build of "
             "Triton 2.0.0.dev20221202, setup.py @061f2c7); software: the sweep's image mosaicml/pytorch:2.1.0_cu121-nightly20230827 "
             "(scripts/train/benchmarking/h100new.csv at llm-foundry@803e6718~1, these runs' figures with an Image column), the "
             "image of the A100 80GB table's 13b, 7b, 1b and 760m rows, listed in the same file; heads for sizes other than 7b "
             "are d_model / 128 (they change no FLOP count)")

# The same README's A100 tables, 'A100 80GB with 1600 Gbps node-node interconnect (RoCE)' and 'A100 40GB with 1600 Gbps
# node-node interconnect (RoCE)', by the H100 rows' rule (every row at sequence length 2048), transcribed: model | seq |
# GPUs | GPU memory | MicroBatchSize | GradAccum | GlobalBatchSize | Throughput (T/s) | Activation Checkpointing | MFU (%) |
# Precision | MP Mode. 1600 Gbps per 8-GPU node is 8 x 200 Gb/s, the catalog A100s' scale-out (one 200 Gb/s HDR NIC per GPU).
LF_A100_TABLE = """70b | 2048 | 64 | 80gb | 8 | 4 | 2048 | 26274 | True | 53.33 | bf16 | PURE
70b | 2048 | 32 | 80gb | 2 | 16 | 1024 | 11962 | True | 48.56 | bf16 | PURE
30b | 2048 | 8 | 80gb | 3 | 21 | 504 | 7330 | True | 55.3 | amp_bf16 | DEFAULT
13b | 2048 | 8 | 80gb | 2 | 3 | 48 | 18097 | False | 59.57 | amp_bf16 | DEFAULT
7b | 2048 | 8 | 80gb | 6 | 2 | 96 | 37130 | False | 64.23 | amp_bf16 | DEFAULT
3b | 2048 | 8 | 80gb | 10 | 2 | 160 | 86491 | False | 62.11 | amp_bf16 | DEFAULT
1b | 2048 | 8 | 80gb | 14 | 4 | 448 | 164109 | False | 59.86 | amp_bf16 | DEFAULT
760m | 2048 | 8 | 80gb | 24 | 2 | 384 | 259472 | False | 56.85 | amp_bf16 | DEFAULT
350m | 2048 | 8 | 80gb | 32 | 2 | 512 | 470263 | False | 51.62 | amp_bf16 | DEFAULT
125m | 2048 | 8 | 80gb | 40 | 2 | 640 | 1142641 | False | 44.79 | amp_bf16 | DEFAULT
125m | 2048 | 8 | 80gb | 32 | 2 | 512 | 1133901 | False | 44.45 | amp_bf16 | DEFAULT
70b | 2048 | 128 | 40gb | 4 | 1 | 512 | 48194 | True | 48.91 | bf16 | PURE
70b | 2048 | 64 | 40gb | 2 | 1 | 128 | 17672 | True | 35.87 | bf16 | PURE
30b | 2048 | 128 | 40gb | 6 | 1 | 768 | 110803 | True | 52.25 | bf16 | PURE
30b | 2048 | 32 | 40gb | 4 | 1 | 128 | 27431 | True | 51.74 | bf16 | PURE
13b | 2048 | 128 | 40gb | 16 | 1 | 2048 | 252444 | True | 51.93 | bf16 | PURE
13b | 2048 | 64 | 40gb | 16 | 1 | 1024 | 126479 | True | 52.04 | bf16 | PURE
13b | 2048 | 32 | 40gb | 14 | 1 | 448 | 63946 | True | 52.62 | bf16 | PURE
13b | 2048 | 16 | 40gb | 10 | 1 | 160 | 31900 | True | 52.5 | bf16 | PURE
13b | 2048 | 8 | 40gb | 4 | 16 | 512 | 13347 | True | 43.94 | bf16 | PURE
7b | 2048 | 128 | 40gb | 18 | 1 | 2304 | 463749 | True | 50.14 | bf16 | PURE
7b | 2048 | 64 | 40gb | 18 | 1 | 1152 | 234614 | True | 50.73 | bf16 | PURE
7b | 2048 | 32 | 40gb | 18 | 1 | 576 | 119202 | True | 51.55 | bf16 | PURE
7b | 2048 | 16 | 40gb | 16 | 1 | 256 | 58322 | True | 50.44 | bf16 | PURE
7b | 2048 | 8 | 40gb | 12 | 4 | 384 | 29436 | True | 50.92 | bf16 | PURE
3b | 2048 | 128 | 40gb | 6 | 1 | 768 | 1220885 | False | 54.8 | bf16 | PURE
3b | 2048 | 64 | 40gb | 6 | 1 | 384 | 623167 | False | 55.94 | bf16 | PURE
3b | 2048 | 32 | 40gb | 6 | 1 | 192 | 317261 | False | 56.96 | bf16 | PURE
3b | 2048 | 16 | 40gb | 5 | 1 | 80 | 156013 | False | 56.02 | bf16 | PURE
3b | 2048 | 8 | 40gb | 5 | 8 | 320 | 80520 | False | 57.82 | bf16 | PURE
1b | 2048 | 128 | 40gb | 10 | 1 | 1280 | 2386897 | False | 54.41 | bf16 | PURE
1b | 2048 | 64 | 40gb | 10 | 1 | 640 | 1216104 | False | 55.44 | bf16 | PURE
1b | 2048 | 32 | 40gb | 10 | 1 | 320 | 497782 | False | 45.39 | bf16 | PURE
1b | 2048 | 16 | 40gb | 8 | 1 | 128 | 305372 | False | 55.69 | bf16 | PURE
1b | 2048 | 8 | 40gb | 8 | 8 | 512 | 154171 | False | 56.23 | bf16 | PURE
760m | 2048 | 128 | 40gb | 12 | 1 | 1536 | 3704382 | False | 50.73 | bf16 | PURE
760m | 2048 | 64 | 40gb | 12 | 1 | 768 | 1878030 | False | 51.44 | bf16 | PURE
760m | 2048 | 32 | 40gb | 12 | 1 | 384 | 948745 | False | 51.97 | bf16 | PURE
760m | 2048 | 16 | 40gb | 12 | 1 | 192 | 473723 | False | 51.9 | bf16 | PURE
760m | 2048 | 8 | 40gb | 12 | 4 | 384 | 241389 | False | 52.89 | bf16 | PURE
350m | 2048 | 128 | 40gb | 18 | 1 | 2304 | 6647647 | False | 45.61 | bf16 | PURE
350m | 2048 | 64 | 40gb | 18 | 1 | 1152 | 3372118 | False | 46.27 | bf16 | PURE
350m | 2048 | 32 | 40gb | 18 | 1 | 576 | 1721978 | False | 47.26 | bf16 | PURE
350m | 2048 | 16 | 40gb | 18 | 1 | 288 | 886622 | False | 48.66 | bf16 | PURE
350m | 2048 | 8 | 40gb | 16 | 4 | 512 | 447963 | False | 49.17 | bf16 | PURE
125m | 2048 | 128 | 40gb | 26 | 1 | 3328 | 15863837 | False | 38.86 | bf16 | PURE
125m | 2048 | 64 | 40gb | 26 | 1 | 1664 | 8015010 | False | 39.27 | bf16 | PURE
125m | 2048 | 32 | 40gb | 26 | 1 | 832 | 4067922 | False | 39.86 | bf16 | PURE
125m | 2048 | 16 | 40gb | 26 | 1 | 416 | 2088560 | False | 40.93 | bf16 | PURE
125m | 2048 | 8 | 40gb | 26 | 3 | 624 | 1090678 | False | 42.75 | bf16 | PURE"""
MPT_SHAPE.update({"350m": (24, 1024, 16), "125m": (12, 768, 12)})  # mpt-350m.yaml, mpt-125m.yaml at 061f2c7
LF_A100_SOURCE = ("mosaicml/llm-foundry scripts/train/benchmarking/README.md at commit 061f2c7ce64e655100286584a7629e2a09f827ba, "
                  "tables 'A100 80GB with 1600 Gbps node-node interconnect (RoCE)' and 'A100 40GB with 1600 Gbps node-node "
                  "interconnect (RoCE)' (MicroBatchSize, GradAccum, GlobalBatchSize, Throughput (T/s), Activation Checkpointing, "
                  "Precision, MP Mode, FULL_SHARD); shapes: scripts/train/yamls/pretrain/mpt-<size>.yaml (mpt-125m.yaml: d_model 768, "
                  "12 heads, 12 layers; mpt-350m.yaml: d_model 1024, 16 heads, 24 layers; expansion 4, vocab 50368, attn_impl triton)")
out.append("# The same README's A100 80GB and A100 40GB tables (1600 Gbps RoCE between 8-GPU nodes), every row at sequence length\n"
           "# 2048 (the H100 rows' rule, chosen before the model ran on them); same MPT shapes as `arch`.")
seen = set()
for line in LF_A100_TABLE.splitlines():
    m, s, g, mem, mb, ga, gb, tps, ac, mfu, prec, mp = [x.strip() for x in line.split("|")]
    nl, h, nh = MPT_SHAPE[m]
    rid = f"lf-mpt-{m}-a100-{mem}-{g}"
    rid = rid if rid not in seen else f"{rid}-gb{gb}"  # the 80GB table has two 125m rows on 8 GPUs (global batch 640, 512)
    seen.add(rid)
    pure = ("; MP Mode PURE with precision bf16: Composer casts parameters, gradient reduction and buffers to bf16 "
            "(Composer's FSDP helper get_mixed_precision, read in the code index's stored Composer versions (find_string id 910204089), not at the benchmark's Composer release: PURE sets param_dtype = reduce_dtype = buffer_dtype "
            "= the precision's dtype), so the gradients are reduce-scattered in bf16 where framework composer-fsdp (DEFAULT) "
            "counts fp32: the model charges this row twice the reduce-scatter bytes (only slower)") if mp == "PURE" else ""
    row(rid, ref=rid.upper(), source=LF_A100_SOURCE,
        arch={"layers": nl, "hidden": h, "heads": nh, "vocab": 50368}, hardware=f"a100-sxm-{mem}", chips=int(g), tp=1, pp=1, vpp=1,
        zero=3, sequence_parallel=False, micro_batch=int(mb), global_batch=int(gb), seq_len=int(s),
        recompute="full" if ac == "True" else "none", precision="bf16", framework="composer-fsdp", metric="tokens_per_s",
        published=float(tps), group="llm-foundry FSDP",
        note=f"grad accumulation {ga}; the table's MFU {mfu}% (6N + attention FLOPs over 312 TFLOP/s); precision {prec}, MP Mode {mp}; "
             "Composer FSDP1, Triton FlashAttention; heads for sizes other than 7b are d_model / 128 except 125m and 350m "
             "(from their yamls; they change no FLOP count)" + pure)

# torchtitan FSDP2 on 64 A100 80GB (docs/performance.md): WPS per GPU x 64. 'selective' checkpointing rows are skipped.
TT_SOURCE = ("pytorch/torchtitan docs/performance.md at commit 041336434916bdc0f88c1f89fda176fd3c2092e4 (64 A100 80GB, FSDP2 1D, "
             "WPS per GPU x 64); seq_len and batch: the text ('local batch size 1 (global 64)', 'local batch size 2 (global batch "
             "size 128)', Llama 2 sequence 4096, Llama 3 twice that) and train_configs/llama2_13b.toml, llama3_70b.toml (seq_len "
             "4096 / 8192, compile = false)")
out.append("# FSDP2 (torchtitan), 64 A100 80GB, 1D FSDP: the docs' tables; rows with 'selective' activation checkpointing are\n"
           "# skipped (torchtitan's op-level policy and every-other-layer policy are not tcobench's Megatron 'selective').")
for rid, model, mb, gb, s, rc, wps, mfu, extra in (
        ("tt-l2-13b-noac", "llama-2-13b", 2, 128, 4096, "none", 2162, 61.1, ""),
        ("tt-l2-70b-full", "llama-2-70b", 2, 128, 4096, "full", 353, 50.5, ""),
        ("tt-l3-70b-full", "llama-3.1-70b", 1, 64, 8192, "full", 331, 51.7,
         "Llama 3 70B: the catalog's llama-3.1-70b has the same layers, widths and vocabulary; "),
        ("tt-l3-8b-sel-layer", None, 1, 64, 8192, "", 2904, 56.8, "layer"),
        ("tt-l3-8b-sel-op", None, 1, 64, 8192, "", 2973, 58.2, "op"),
        ("tt-l2-13b-sel-layer", None, 2, 128, 4096, "", 1914, 54.1, "layer"),
        ("tt-l2-13b-sel-op", None, 2, 128, 4096, "", 1904, 53.8, "op"),
        ("tt-l2-70b-sel-op", None, 1, 64, 4096, "", 355, 50.8, "op")):
    if model is None:
        row(rid, ref=rid.upper(), source=TT_SOURCE,
            skip=f"torchtitan selective activation checkpointing ({extra} policy): no tcobench recompute mode saves the same tensors",
            metric="tokens_per_s", published=float(wps * 64), note=f"{wps} WPS per GPU, MFU {mfu}%")
        continue
    row(rid, ref=rid.upper(), source=TT_SOURCE, model=model, hardware="a100-sxm-80gb", chips=64, tp=1, pp=1, vpp=1, zero=3,
        sequence_parallel=False, micro_batch=mb, global_batch=gb, seq_len=s, recompute=rc, precision="bf16", framework="torchtitan-fsdp2",
        metric="tokens_per_s", published=float(wps * 64), group="torchtitan FSDP2",
        note=f"{extra}{wps} WPS per GPU x 64; the docs' MFU {mfu}%; no torch.compile")

# NeMo's performance summary (NeMo 24.07 container, DGX-H100, fp8): the pretraining table at NVIDIA/NeMo tag v2.1.0.
# Settings the page does not state (sequence parallelism, recomputation, optimizer) are the NeMo-Framework-Launcher
# 24.07 training configs' for the model (research notes). Framework nemo-2407 (perf/data/training.toml): megatron's
# byte counts and overlaps (Apex DistributedFusedAdam, fp32 gradient sync by default) with the launcher's
# NVTE_FUSED_ATTN=0, i.e. flash-attn 2 under Transformer Engine (kernel fa2).
out.append("# NeMo performance summary (NeMo 24.07, DGX-H100, fp8): NVIDIA/NeMo v2.1.0 docs/source/performance/performance_summary.md,\n"
           "# pretraining table, every row; unstated settings from NeMo-Framework-Launcher 24.07's configs (docs/research/training-rows.toml).")
NEMO_MODEL = {"NEMO2407-GPT3-175B-128": "gpt-3-175b", "NEMO2407-LLAMA2-7B": "llama-2-7b", "NEMO2407-LLAMA2-13B": "llama-2-13b",
              "NEMO2407-LLAMA2-70B": "llama-2-70b", "NEMO2407-LLAMA3-8B": "llama-3.1-8b", "NEMO2407-LLAMA3-70B": "llama-3.1-70b"}
NEMO_SKIP = {"NEMO2407-GPT3-175B-512": "its TFLOP/s links to MLCommons' training results: likely an MLPerf Training v4.0 run (kept aside)",
             "NEMO2407-NEMOTRON-8B": "vocabulary not stated (the launcher config names a sentencepiece tokenizer, no model file); not in the catalog",
             "NEMO2407-NEMOTRON-22B": "vocabulary not stated (as Nemotron-8B); no published model",
             **{k: ("LoRA fine-tuning: the frozen base weights (no weight gradients, no optimizer state for them) are not modelled"
                    if "-LORA-" in k else "supervised fine-tuning on packed sequences: the fine-tuning recipe's recomputation, "
                    "sequence parallelism and optimizer not read") for k in d if k.startswith("NEMO2407-FT-")},
             "NEMO2407-NEMOTRON-340B": "not in the catalog; the launcher's config (PP 12, VP 8, selective recomputation) is not the table's layout (PP 8, VP 12), so its recomputation is not stated for this run"}
for rid in [k for k in d if k.startswith("NEMO2407-")]:
    r = d[rid]; L = r["layout"]; gpus = r["chips"]
    published = float(r["tokens_per_s_per_gpu"] * gpus)
    if rid in NEMO_SKIP:
        row(rid.lower().replace("-", "_"), ref=rid, source=r["source"], skip=NEMO_SKIP[rid], metric="tokens_per_s", published=published,
            note=f"{r['tokens_per_s_per_gpu']} tokens/s/GPU x {gpus}")
        continue
    a = r.get("arch")
    row(rid.lower().replace("-", "_"), ref=rid, source=r["source"] + "; configuration: " + r["source_verified_in"],
        model=NEMO_MODEL.get(rid), arch={k: a[k] for k in ("layers", "hidden", "heads", "vocab")} if a else None,
        hardware="h100-sxm", chips=gpus, tp=L["tp"], pp=L["pp"], vpp=L["vpp"], cp=L["cp"], zero=1, sequence_parallel=L["sp"],
        micro_batch=r["micro_batch"], global_batch=r["global_batch"], seq_len=r["seq_len"],
        recompute=r["recompute"].split(" ")[0], precision=r["precision"], framework="nemo-2407", metric="tokens_per_s",
        published=published, group="NeMo performance summary",
        note=f"{r['tokens_per_s_per_gpu']} tokens/s/GPU x {gpus} GPUs; the page's model TFLOP/s/GPU {r['model_tflops_per_gpu']}; "
             + (r["note"] + "; " if "note" in r else "") + "TP communication overlap (the launcher sets ub_tp_comm_overlap true for gpt3 20b, llama2_70b, llama3_70b) not modelled (tp_comm_overlap 0)")

# AMD MI300X: SemiAnalysis's FSDP reproducer (ROCm/TransformerEngine issues #78/#79, October 2024; the scripts in
# OrenLeung/nanoGPT-amd). The issue's TFLOP/s per GPU are per timed micro-batch iteration with the script's own count,
# 6N + 12 L H hd T FLOPs per token; that count is inverted here into the job's tokens/s (research notes).
out.append("# AMD MI300X: SemiAnalysis's FSDP reproducer (ROCm/TransformerEngine issues #78 and #79, October 2024), 8 x MI300X,\n"
           "# Transformer Engine fp8; every figure of the two issues, those not stated or not expressible skipped.")
SA_N = 32 * 218112000 + 2 * 525336576 + 4096  # Llama 3.1 8B as the script builds it: 8,030,261,248 parameters
SA_FLOPS_PER_TOKEN = 6 * SA_N + 12 * 32 * 32 * 128 * 4096  # the script's estimate_flops_per_token at max_seq_len 4096
for rid in [k for k in d if k.startswith("SA24-")]:
    r = d[rid]
    if "skip_reason" in r:
        tf = r["tflops_per_gpu"]
        row(rid.lower().replace("-", "_"), ref=rid, source=r["source"], skip=r["skip_reason"], metric="tokens_per_s",
            published=0.0, note=f"TFLOP/s per GPU (the script's count): {tf}")
        continue
    mb = r["micro_batch"]
    tps = r["tflops_per_gpu"] * 1e12 * 8 / SA_FLOPS_PER_TOKEN
    assert abs(tps - r["derived_tokens_per_s"]) < 1.0, rid
    # ROCm TE's dev branch of the ROCm 6.2 run ran the attention unfused under fp8_autocast (ROCm/TransformerEngine@d64aa5e,
    # fixed by pull request #81 on 2024-10-17), read from the code after the model had run on the row
    unfused = rid == "SA24-L8B-FP8-FSDP-B2-ROCM62"
    row(rid.lower().replace("-", "_"), ref=rid, source=r["source"] + "; script: OrenLeung/nanoGPT-amd@8e786b99d073aeefd6a9cb3e6d6acf1bd6c2ad7a train_fsdp_llama_8b.py",
        model="llama-3.1-8b", hardware="mi300x", chips=8, tp=1, pp=1, vpp=1, zero=3, sequence_parallel=False,
        micro_batch=mb, global_batch=mb * 8, seq_len=4096, recompute="none", precision="fp8",
        framework="fsdp1-bf16-reduce-unfused-attn" if unfused else "fsdp1-bf16-reduce",
        metric="tokens_per_s", published=round(tps, 1), group="SemiAnalysis FSDP reproducer",
        note=f"{r['tflops_per_gpu']} TFLOP/s per GPU x 8 / 54.62 GFLOP per token (the script's 6N + 12 L H hd T); the script "
             "times each micro-batch iteration and FSDP1 reduce-scatters the gradients after every micro-batch (no no_sync), so a "
             f"step here is one micro-batch on each of the 8 ranks (global batch {mb * 8}; grad accumulation 8 only defers the "
             "optimizer, which runs in the last, displayed iteration); the figure is a reading of the progress bar, which shows the latest iteration's rate ('preliminary')"
             + ("; framework fsdp1-bf16-reduce-unfused-attn since 2026-12-06: the dev branch of that date ran the attention unfused "
                "under fp8_autocast (ROCm/TransformerEngine@d64aa5e attention.py, fixed by pull request #81 on 2024-10-17; "
                "perf/data/training.toml), read from the code after the model had run on this row with fsdp1-bf16-reduce (+189 %)"
                if unfused else ""))

# NeMo's performance summary on the docs site, version 'Container: NeMo 25.04', DGX-GB200 pre-training table (fp8,
# per-tensor current scaling), every row the stored text holds; unstated settings from NVIDIA/NeMo v2.3.0's
# scripts/performance (model_configs_gb200.csv, utils.py) as the research notes quote them. Framework nemo-2504
# (nemo-2504-fsdp where the page states FSDP 1): perf/data/training.toml.
out.append("# NeMo performance summary (docs.nvidia.com, Container NeMo 25.04, DGX-GB200, fp8): the pre-training table's rows as stored;\n"
           "# unstated settings from NVIDIA/NeMo v2.3.0 scripts/performance (docs/research/training-rows.toml).")
def nemo_skipped(rid, r, published):
    """A NeMo performance-summary row the model cannot run (its research note says why), listed with its figure."""
    row(rid.lower().replace("-", "_"), ref=rid, source=r["source"], skip=r["note"], metric="tokens_per_s", published=published,
        note=f"{r['tokens_per_s_per_gpu']} tokens/s/GPU x {r['chips']}")

NEMO25_MODEL = {"NEMO2504-GB200-GPT3-175B": "gpt-3-175b", "NEMO2504-GB200-LLAMA3-8B": "llama-3.1-8b",
                "NEMO2504-GB200-LLAMA3-70B": "llama-3.1-70b", "NEMO2504-GB200-LLAMA3-405B": "llama-3.1-405b",
                "NEMO2504-GB200-MIXTRAL-8X7B": "mixtral-8x7b"}
for rid in [k for k in d if k.startswith("NEMO2504-")]:
    r = d[rid]; L = r["layout"]; gpus = r["chips"]
    published = float(r["tokens_per_s_per_gpu"] * gpus)
    if rid not in NEMO25_MODEL:
        nemo_skipped(rid, r, published)
        continue
    fsdp = L["fsdp"] == 1
    row(rid.lower().replace("-", "_"), ref=rid, source=r["source"] + "; configuration: " + r["source_verified_in"],
        model=NEMO25_MODEL[rid], hardware="gb200", chips=gpus, tp=L["tp"], pp=L["pp"], vpp=L["vpp"], cp=L["cp"], ep=L["ep"],
        zero=3 if fsdp else 1, sequence_parallel=L["sp"], micro_batch=r["micro_batch"], global_batch=r["global_batch"],
        seq_len=r["seq_len"], recompute=r["recompute"].split(" ")[0], precision=r["precision"],
        framework="nemo-2504-fsdp" if fsdp else "nemo-2504", metric="tokens_per_s", published=published,
        group="NeMo performance summary 25.04",
        note=f"{r['tokens_per_s_per_gpu']} tokens/s/GPU x {gpus} GPUs; the page's model TFLOP/s/GPU {r['model_tflops_per_gpu']}; "
             + (r["note"] + "; " if "note" in r else "") + "sequence parallelism = (TP > 1) (utils); CUDA graphs and TP "
             "communication overlap, where the scripts turn them on, not modelled")

# NeMo's performance summary, MoE rows of the other containers' tables as stored (helper moetrain): 25.02 DGX-B200 (NeMo
# 2.2; the traits of framework nemo-2504 read again at v2.2.1, research notes) and 25.07 DGX-GB200 (its one MoE row
# with figures, a model not in the catalog: skipped).
out.append("# NeMo performance summary, MoE rows of the 25.02 (DGX-B200, fp8) and 25.07 (DGX-GB200) tables as stored;\n"
           "# unstated settings from NVIDIA/NeMo v2.2.1 scripts/llm/performance (docs/research/training-rows.toml).")
NEMO_MOE_MODEL = {"NEMO2502-B200-MIXTRAL-8X7B": "mixtral-8x7b"}
for rid in [k for k in d if k.startswith(("NEMO2502-", "NEMO2507-"))]:
    r = d[rid]; L = r["layout"]; gpus = r["chips"]
    published = float(r["tokens_per_s_per_gpu"] * gpus)
    if rid not in NEMO_MOE_MODEL:
        nemo_skipped(rid, r, published)
        continue
    row(rid.lower().replace("-", "_"), ref=rid, source=r["source"] + "; configuration: " + r["source_verified_in"],
        model=NEMO_MOE_MODEL[rid], hardware="b200", chips=gpus, tp=L["tp"], pp=L["pp"], vpp=L["vpp"], cp=L["cp"], ep=L["ep"],
        zero=1, sequence_parallel=L["sp"], micro_batch=r["micro_batch"], global_batch=r["global_batch"],
        seq_len=r["seq_len"], recompute=r["recompute"].split(" ")[0], precision=r["precision"],
        framework="nemo-2504", metric="tokens_per_s", published=published, group="NeMo performance summary 25.02",
        note=f"{r['tokens_per_s_per_gpu']} tokens/s/GPU x {gpus} GPUs; the page's model TFLOP/s/GPU {r['model_tflops_per_gpu']}; "
             "framework nemo-2504's traits hold at v2.2.1 (bf16 gradient reduction, fp8 weight gather, cuDNN fused attention); "
             "CUDA graphs (on for B200) not modelled; MegatronTokenDropCallback (capacity 1.0, padded) and the unfused token permutation are nemo-2504 traits (Megatron-Core core_r0.11 at v2.2.1)")

# Google TPU: MaxText's published recipes (AI-Hypercomputer/tpu-recipes), every Llama 3.1 bf16 pre-training recipe on one
# slice (trillium: 8B and 70B; ironwood: the README table's 8192-token bf16 rows). MaxText shards by FSDP over every
# chip (ici_fsdp_parallelism -1): ZeRO-3, dp = chips. Framework maxtext (perf/data/training.toml, read from MaxText's
# code at 9f1820b); remat_policy custom with each recipe's per-tensor placement (the row's remat, transcribed from its
# config): tcobench's recompute "custom" (perf/remat.py).
out.append("# Google TPU: MaxText recipes (AI-Hypercomputer/tpu-recipes), Llama 3.1 bf16, one slice, FSDP over every chip.")
TPU_HW = {"tpu-recipes-trillium-maxtext": "tpu-v6e", "tpu-recipes-ironwood-maxtext": "tpu-v7"}
for rid in [k for k in d if k.startswith("TPUR-")]:
    r = d[rid]
    if not isinstance(r["chips"], int):
        continue
    if "skip_reason" in r:  # the table's MoE rows that cannot run (helper moetrain)
        row(rid.lower(), ref=rid, source=r["source"], skip=r["skip_reason"], metric="step_time_s", published=r["step_time_s"],
            note=f"MaxText's {r['maxtext_tflops_per_chip']} TFLOP/s/chip; {r['chips']} chips, global batch {r['global_batch']} x {r['seq_len']}")
        continue
    rc_note = r["recompute"]
    model = "deepseek-v3" if r["model"].startswith("DeepSeek-V3") else "llama-3.1-" + r["model"].split()[2].lower()
    row(rid.lower(), ref=rid, source=r["source"], model=model,
        hardware=TPU_HW[r["group"]], chips=r["chips"], tp=1, pp=1, vpp=1, zero=3, sequence_parallel=False,
        micro_batch=r["micro_batch"], global_batch=r["global_batch"], seq_len=r["seq_len"], recompute="custom",
        remat=r["remat"], precision="bf16", framework="maxtext", metric="step_time_s", published=r["step_time_s"],
        group="MaxText TPU",
        note=f"{r['tokens_per_s_per_chip']} tokens/s/chip, MaxText's {r['maxtext_tflops_per_chip']} TFLOP/s/chip; "
             f"{rc_note}; precision: {r['precision']}")
for rid, why in (("TPUR-V6E-L31-405B-2x256", "chip count differs between MaxText's tiering table (256) and its config and recipe (512, 2 slices); FSDP across the DCN with a 64x4 hybrid-ring ICI mesh not expressed"),
                 ("MAXTEXT-TIER-V5P-L2-70B-512", "config named for v5p-128 but the table says 512 chips (its recompute policy save_dot_except_mlpwi would run as recompute custom with query_proj, key_proj, value_proj, out_proj and mlpwo at device)")):
    r = d[rid]
    row(rid.lower().replace(".", "_"), ref=rid, source=r["source"], skip=why, metric="tokens_per_s", published=0.0)

open("src/tcobench/perf/data/training_validation.toml", "w").write("\n".join(out))
print(len(out) - 1, "rows")

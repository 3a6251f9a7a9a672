"""Measure on a real NVIDIA GPU what the roofline's efficiency factors stand for, and a real decode/prefill.

Runs with PyTorch on one GPU (it is not part of the test suite; the project needs no GPU):

1. matmul FLOP/s at bf16 (and fp8 where torch._scaled_mm works) for Llama-shaped weights and token
   counts 1 .. 8192: the compute efficiency of large GEMMs and the weight-streaming bandwidth of small ones;
2. HBM bandwidth of a large streaming read (sum) and copy;
3. per-kernel overhead: a tiny kernel launched eagerly and replayed from a CUDA graph;
4. a Llama-shaped decoder with random weights (our own minimal PyTorch implementation: RMSNorm, RoPE-less
   attention with torch's SDPA, SwiGLU, KV cache), timed for prefill (TTFT) and decode steps (TPOT,
   CUDA-graph replay) at several batch sizes, to compare with `tcobench predict` for the same shape.

    python3 benchmarks/gpu_measure.py --out results.json
"""

from __future__ import annotations

import argparse
import json
import time

import torch
import torch.nn.functional as F


def timed(fn, reps: int = 20, warm: int = 3) -> float:
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / 1e3 / reps


def gemms(dev) -> list[dict]:
    out = []
    for (n, k) in ((8192, 8192), (28672, 8192), (8192, 28672), (4096, 4096), (14336, 4096)):
        w = torch.randn(n, k, device=dev, dtype=torch.bfloat16)
        for m in (1, 8, 32, 128, 512, 2048, 8192):
            x = torch.randn(m, k, device=dev, dtype=torch.bfloat16)
            t = timed(lambda x=x, w=w: x @ w.t())
            out.append({"dtype": "bf16", "m": m, "n": n, "k": k, "s": t, "flops": 2 * m * n * k / t,
                        "bytes_per_s": (n * k + m * k + m * n) * 2 / t})
            try:
                w8 = w.to(torch.float8_e4m3fn)
                x8 = x.to(torch.float8_e4m3fn)
                one = torch.tensor(1.0, device=dev)
                if m % 16 == 0:
                    t8 = timed(lambda x8=x8, w8=w8, one=one: torch._scaled_mm(x8, w8.t(), scale_a=one, scale_b=one, out_dtype=torch.bfloat16))
                    out.append({"dtype": "fp8", "m": m, "n": n, "k": k, "s": t8, "flops": 2 * m * n * k / t8,
                                "bytes_per_s": (n * k + m * k) / t8 + m * n * 2 / t8})
            except Exception as err:  # noqa: BLE001 - report and go on
                out.append({"dtype": "fp8", "m": m, "n": n, "k": k, "error": repr(err)[:200]})
        del w
    return out


def bandwidth(dev) -> dict:
    a = torch.empty(4 * 1024**3 // 2, device=dev, dtype=torch.bfloat16).normal_()
    b = torch.empty_like(a)
    t_read = timed(lambda: a.sum(), reps=10)
    t_copy = timed(lambda: b.copy_(a), reps=10)
    return {"bytes": a.numel() * 2, "read_B_per_s": a.numel() * 2 / t_read, "copy_B_per_s": 2 * a.numel() * 2 / t_copy}


def overhead(dev) -> dict:
    x = torch.zeros(1, device=dev)
    eager = timed(lambda: x.add_(1.0), reps=2000, warm=50)
    g = torch.cuda.CUDAGraph()
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        x.add_(1.0)
    torch.cuda.current_stream().wait_stream(s)
    with torch.cuda.graph(g):
        for _ in range(100):
            x.add_(1.0)
    graph = timed(g.replay, reps=50, warm=5) / 100
    return {"eager_s_per_kernel": eager, "graph_s_per_kernel": graph}


class Decoder(torch.nn.Module):
    """Llama-shaped decoder, random weights, bf16: enough to time the real kernels of each operator."""

    def __init__(self, layers: int, hidden: int, heads: int, kv_heads: int, ffn: int, vocab: int) -> None:
        super().__init__()
        self.h, self.a, self.kv, self.d = hidden, heads, kv_heads, hidden // heads
        mk = lambda o, i: torch.nn.Parameter(torch.randn(o, i) * 0.02)  # noqa: E731
        self.wqkv = torch.nn.ParameterList([mk((heads + 2 * kv_heads) * self.d, hidden) for _ in range(layers)])
        self.wo = torch.nn.ParameterList([mk(hidden, heads * self.d) for _ in range(layers)])
        self.wup = torch.nn.ParameterList([mk(2 * ffn, hidden) for _ in range(layers)])
        self.wdown = torch.nn.ParameterList([mk(hidden, ffn) for _ in range(layers)])
        self.emb = torch.nn.Parameter(torch.randn(vocab, hidden) * 0.02)
        self.head = torch.nn.Parameter(torch.randn(vocab, hidden) * 0.02)

    def forward(self, ids, k_cache, v_cache, pos: int):  # ids: (B, T); caches: (L, B, kv, S, d)
        B, T = ids.shape
        x = self.emb[ids]
        for i in range(len(self.wqkv)):
            y = F.rms_norm(x, (self.h,))
            q, k, v = (y @ self.wqkv[i].t()).split([self.a * self.d, self.kv * self.d, self.kv * self.d], dim=-1)
            q = q.view(B, T, self.a, self.d).transpose(1, 2)
            k_cache[i, :, :, pos:pos + T] = k.view(B, T, self.kv, self.d).transpose(1, 2)
            v_cache[i, :, :, pos:pos + T] = v.view(B, T, self.kv, self.d).transpose(1, 2)
            kk, vv = k_cache[i, :, :, : pos + T], v_cache[i, :, :, : pos + T]
            o = F.scaled_dot_product_attention(q, kk, vv, is_causal=T > 1, enable_gqa=self.kv != self.a)
            x = x + o.transpose(1, 2).reshape(B, T, -1) @ self.wo[i].t()
            y = F.rms_norm(x, (self.h,))
            g, u = (y @ self.wup[i].t()).chunk(2, dim=-1)
            x = x + (F.silu(g) * u) @ self.wdown[i].t()
        return F.rms_norm(x[:, -1:], (self.h,)) @ self.head.t()


def decoder_runs(dev, name: str, cfg: dict, batches, contexts, prefill_lens) -> list[dict]:
    model = Decoder(**cfg).to(dev, torch.bfloat16)
    out = []
    L, kv, d = cfg["layers"], cfg["kv_heads"], cfg["hidden"] // cfg["heads"]
    with torch.no_grad():
        for S in prefill_lens:
            kc = torch.zeros(L, 1, kv, S, d, device=dev, dtype=torch.bfloat16)
            vc = torch.zeros_like(kc)
            ids = torch.randint(0, cfg["vocab"], (1, S), device=dev)
            t = timed(lambda m=model, ids=ids, kc=kc, vc=vc: m(ids, kc, vc, 0), reps=5, warm=2)
            out.append({"model": name, "phase": "prefill", "batch": 1, "input_len": S, "s": t})
            del kc, vc
        for B in batches:
            for ctx in contexts:
                kc = torch.zeros(L, B, kv, ctx + 1, d, device=dev, dtype=torch.bfloat16)
                vc = torch.zeros_like(kc)
                ids = torch.randint(0, cfg["vocab"], (B, 1), device=dev)
                step = lambda m=model, ids=ids, kc=kc, vc=vc, ctx=ctx: m(ids, kc, vc, ctx)  # noqa: E731
                s = torch.cuda.Stream()
                s.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(s):
                    step()
                torch.cuda.current_stream().wait_stream(s)
                g = torch.cuda.CUDAGraph()
                with torch.cuda.graph(g):
                    step()
                t = timed(g.replay, reps=20, warm=3)
                out.append({"model": name, "phase": "decode", "batch": B, "context": ctx, "s": t})
                del kc, vc, g
                torch.cuda.empty_cache()
    del model
    torch.cuda.empty_cache()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    dev = torch.device("cuda")
    t0 = time.time()
    res = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
           "props": {"sm": torch.cuda.get_device_properties(0).multi_processor_count,
                     "memory_B": torch.cuda.get_device_properties(0).total_memory}}
    res["bandwidth"] = bandwidth(dev)
    res["overhead"] = overhead(dev)
    res["gemm"] = gemms(dev)
    llama_2_7b = dict(layers=32, hidden=4096, heads=32, kv_heads=32, ffn=11008, vocab=32000)
    llama_3_8b = dict(layers=32, hidden=4096, heads=32, kv_heads=8, ffn=14336, vocab=128256)
    res["decoder"] = decoder_runs(dev, "llama-2-7b", llama_2_7b, (1, 8, 32, 64), (512, 2048), (128, 512, 2048))
    res["decoder"] += decoder_runs(dev, "llama-3.1-8b", llama_3_8b, (1, 16, 64, 128), (1024,), (1024,))
    res["wall_s"] = time.time() - t0
    with open(args.out, "w") as fh:
        json.dump(res, fh, indent=1)
    print(json.dumps({k: v for k, v in res.items() if k in ("device", "bandwidth", "overhead", "wall_s")}, indent=1))
    for r in res["decoder"]:
        print(r)


if __name__ == "__main__":
    main()

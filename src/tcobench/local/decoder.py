"""A Llama-shaped decoder in plain PyTorch, built from a catalog ``Model`` with random weights (no download).

RMSNorm (or LayerNorm), rotary position embeddings, grouped-query attention through
``scaled_dot_product_attention``, a SwiGLU (or plain GELU) FFN and a KV cache written in place: the kernels a
real engine runs for each of perf's operators, without its scheduler. Weights are random; the time of a matmul
does not depend on its values.
"""

from __future__ import annotations

from typing import Any

from tcobench.catalog.schema import Model
from tcobench.errors import InputError

FORMATS = {"fp32": ("float32", 4.0), "bf16": ("bfloat16", 2.0), "fp16": ("float16", 2.0)}


def check_supported(model: Model, param: str = "model") -> None:
    """InputError unless ``model`` is a dense decoder this module builds."""
    problems = [what for what, bad in (("mixture-of-experts layers", model.moe is not None),
                                       ("multi-head latent attention", model.mla is not None),
                                       ("an encoder", model.encoder), ("sliding-window attention", model.window is not None))
                if bad]
    if problems:
        raise InputError(f"{{{param}}} {model.id!r} has {', '.join(problems)}: measure builds dense Llama-shaped decoders "
                         "(RMSNorm, RoPE, GQA, SwiGLU); expected such a model or its config.json", params=(param,))


def weight_count(model: Model) -> int:
    """Parameters the decoder allocates: per layer QKV, output, FFN and two norms; the embedding, final norm and
    LM head (shared when tied)."""
    h, d, a, kv, f = model.hidden, model.head_size, model.heads, model.kv_head_count, model.ffn_hidden
    per_layer = h * (a + 2 * kv) * d + a * d * h + (3 if model.ffn == "gated" else 2) * h * f + 2 * h
    embed = model.vocab * h
    return model.layers * per_layer + embed * (1 if model.tied_embeddings else 2) + h


def build(torch: Any, model: Model, fmt: str, device: str) -> Any:
    """The decoder as a ``torch.nn.Module`` on ``device`` in format ``fmt`` (fp32, bf16, fp16)."""
    nn, F = torch.nn, torch.nn.functional
    dtype = getattr(torch, FORMATS[fmt][0])
    gated = model.ffn == "gated"
    act = F.silu if model.activation in ("silu", "swish") else F.gelu

    class Decoder(nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            h, d, a, kv = model.hidden, model.head_size, model.heads, model.kv_head_count
            self.h, self.d, self.a, self.kv = h, d, a, kv

            def mk(o: int, i: int) -> Any:
                return nn.Parameter(torch.randn(o, i, dtype=dtype, device=device) * 0.02)

            def ones() -> Any:
                return nn.Parameter(torch.ones(h, dtype=dtype, device=device))

            L = model.layers
            self.wqkv = nn.ParameterList([mk((a + 2 * kv) * d, h) for _ in range(L)])
            self.wo = nn.ParameterList([mk(h, a * d) for _ in range(L)])
            self.wup = nn.ParameterList([mk((2 if gated else 1) * model.ffn_hidden, h) for _ in range(L)])
            self.wdown = nn.ParameterList([mk(h, model.ffn_hidden) for _ in range(L)])
            self.n1 = nn.ParameterList([ones() for _ in range(L)])
            self.n2 = nn.ParameterList([ones() for _ in range(L)])
            self.nf = ones()
            self.emb = mk(model.vocab, h)
            self.head = self.emb if model.tied_embeddings else mk(model.vocab, h)
            self.rope = model.position == "rope"
            self.inv_freq = 1.0 / (10000.0 ** (torch.arange(0, d, 2, device=device, dtype=torch.float32) / d))

        def norm(self, x: Any, w: Any) -> Any:
            if model.norm == "layernorm":
                return F.layer_norm(x, (self.h,), w)
            return F.rms_norm(x, (self.h,), w)

        def rotate(self, x: Any, pos: Any) -> Any:  # x: (B, heads, T, d); pos: (T,)
            f = torch.outer(pos.float(), self.inv_freq)  # (T, d/2)
            cos, sin = f.cos().to(x.dtype), f.sin().to(x.dtype)
            x1, x2 = x[..., : self.d // 2], x[..., self.d // 2:]
            return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)

        def forward(self, ids: Any, k_cache: Any, v_cache: Any, start: int) -> Any:
            """ids: (B, T) tokens at positions start .. start + T - 1; caches: (L, B, kv, S, d). Logits of the
            last position, (B, 1, vocab)."""
            B, T = ids.shape
            x = self.emb[ids]
            pos = torch.arange(start, start + T, device=ids.device)
            for i in range(len(self.wqkv)):
                y = self.norm(x, self.n1[i])
                q, k, v = (y @ self.wqkv[i].t()).split([self.a * self.d, self.kv * self.d, self.kv * self.d], dim=-1)
                q = q.view(B, T, self.a, self.d).transpose(1, 2)
                k = k.view(B, T, self.kv, self.d).transpose(1, 2)
                if self.rope:
                    q, k = self.rotate(q, pos), self.rotate(k, pos)
                k_cache[i, :, :, start:start + T] = k
                v_cache[i, :, :, start:start + T] = v.view(B, T, self.kv, self.d).transpose(1, 2)
                kk, vv = k_cache[i, :, :, : start + T], v_cache[i, :, :, : start + T]
                o = attend(torch, q, kk, vv, T > 1)
                x = x + o.transpose(1, 2).reshape(B, T, -1) @ self.wo[i].t()
                y = self.norm(x, self.n2[i])
                if gated:
                    g, u = (y @ self.wup[i].t()).chunk(2, dim=-1)
                    z = act(g) * u
                else:
                    z = act(y @ self.wup[i].t())
                x = x + z @ self.wdown[i].t()
            return self.norm(x[:, -1:], self.nf) @ self.head.t()

    return Decoder().eval()


def attend(torch: Any, q: Any, k: Any, v: Any, causal: bool) -> Any:
    """Scaled dot-product attention with grouped KV heads (``enable_gqa`` where torch has it, else repeated)."""
    F = torch.nn.functional
    if q.shape[1] == k.shape[1]:
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    try:
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)
    except TypeError:  # torch < 2.5
        rep = q.shape[1] // k.shape[1]
        return F.scaled_dot_product_attention(q, k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1), is_causal=causal)

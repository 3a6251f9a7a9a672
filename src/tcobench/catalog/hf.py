"""Read a Hugging Face ``config.json`` of a common decoder family into a Model record.

Key names follow each family's ``transformers`` configuration class; defaults are that class's
defaults. The file itself is the architecture's source.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tcobench.catalog.schema import Model
from tcobench.errors import CatalogError, close_matches


class _Cfg:
    def __init__(self, raw: dict[str, Any], path: Path) -> None:
        self.raw, self.path = raw, path

    def __call__(self, *keys: str, default: Any = ...) -> Any:
        for k in keys:
            if self.raw.get(k) is not None:
                return self.raw[k]
        if default is ...:
            raise CatalogError(f"{self.path}: missing key {keys[0]!r} for model_type {self.raw.get('model_type')!r}")
        return default


def _llama_like(c: _Cfg) -> dict[str, Any]:
    heads = c("num_attention_heads")
    out = dict(layers=c("num_hidden_layers"), hidden=c("hidden_size"), heads=heads,
               kv_heads=c("num_key_value_heads", default=heads), head_dim=c("head_dim", default=None),
               ffn="gated", ffn_hidden=c("intermediate_size"), activation=c("hidden_act", default="silu"),
               vocab=c("vocab_size"), tied_embeddings=c("tie_word_embeddings", default=False),
               max_context=c("max_position_embeddings"), attention_bias=c("attention_bias", default=False),
               mlp_bias=c("mlp_bias", default=False))
    if c.raw.get("model_type") == "qwen2":
        out["qkv_bias"], out["attention_bias"] = True, False
    if "num_local_experts" in c.raw:
        out["moe"] = dict(experts=c("num_local_experts"), top_k=c("num_experts_per_tok"), expert_ffn_hidden=c("intermediate_size"))
    return out


def _gpt2(c: _Cfg) -> dict[str, Any]:
    h = c("n_embd")
    return dict(layers=c("n_layer"), hidden=h, heads=c("n_head"), ffn="dense", ffn_hidden=c("n_inner", default=4 * h),
                activation="gelu", vocab=c("vocab_size"), tied_embeddings=c("tie_word_embeddings", default=True),
                max_context=c("n_positions"), position="learned", norm="layernorm", attention_bias=True, mlp_bias=True)


def _gptj(c: _Cfg) -> dict[str, Any]:
    h = c("n_embd")
    return dict(layers=c("n_layer"), hidden=h, heads=c("n_head"), ffn="dense", ffn_hidden=c("n_inner", default=4 * h),
                activation="gelu", vocab=c("vocab_size"), tied_embeddings=c("tie_word_embeddings", default=False),
                max_context=c("n_positions"), norm="layernorm", norms_per_layer=1, mlp_bias=True, lm_head_bias=True)


def _neox(c: _Cfg) -> dict[str, Any]:
    bias = c("attention_bias", default=True)
    return dict(layers=c("num_hidden_layers"), hidden=c("hidden_size"), heads=c("num_attention_heads"), ffn="dense",
                ffn_hidden=c("intermediate_size"), activation="gelu", vocab=c("vocab_size"),
                tied_embeddings=c("tie_word_embeddings", default=False), max_context=c("max_position_embeddings"),
                norm="layernorm", attention_bias=bias, mlp_bias=True)


def _falcon(c: _Cfg) -> dict[str, Any]:
    h, heads = c("hidden_size"), c("num_attention_heads", "n_head")
    new = c("new_decoder_architecture", default=False)
    kv = c("num_kv_heads", "n_head_kv", default=heads) if new else (1 if c("multi_query", default=True) else heads)
    parallel = c("parallel_attn", default=True)
    return dict(layers=c("num_hidden_layers", "n_layer"), hidden=h, heads=heads, kv_heads=kv, ffn="dense",
                ffn_hidden=c("ffn_hidden_size", default=4 * h), activation="gelu", vocab=c("vocab_size"),
                tied_embeddings=c("tie_word_embeddings", default=True), max_context=c("max_position_embeddings", default=2048),
                position="alibi" if c("alibi", default=False) else "rope", norm="layernorm",
                norms_per_layer=2 if (new or not parallel) else 1, attention_bias=c("bias", default=False), mlp_bias=c("bias", default=False))


def _bloom(c: _Cfg) -> dict[str, Any]:
    h = c("hidden_size", "n_embed")
    return dict(layers=c("n_layer", "num_hidden_layers"), hidden=h, heads=c("n_head", "num_attention_heads"), ffn="dense",
                ffn_hidden=4 * h, activation="gelu", vocab=c("vocab_size"), tied_embeddings=True,
                max_context=c("seq_length", "max_position_embeddings", default=2048), position="alibi", norm="layernorm",
                attention_bias=True, mlp_bias=True, embedding_norm=True)


def _opt(c: _Cfg) -> dict[str, Any]:
    h = c("hidden_size")
    if c("word_embed_proj_dim", default=h) != h:
        raise CatalogError(f"{c.path}: OPT configs with word_embed_proj_dim != hidden_size are not supported")
    return dict(layers=c("num_hidden_layers"), hidden=h, heads=c("num_attention_heads"), ffn="dense", ffn_hidden=c("ffn_dim"),
                activation=c("activation_function", default="relu"), vocab=c("vocab_size"),
                tied_embeddings=c("tie_word_embeddings", default=True), max_context=c("max_position_embeddings"),
                position="learned", position_offset=2, norm="layernorm", attention_bias=c("enable_bias", default=True),
                mlp_bias=c("enable_bias", default=True))


def _deepseek_v3(c: _Cfg) -> dict[str, Any]:
    return dict(layers=c("num_hidden_layers"), hidden=c("hidden_size"), heads=c("num_attention_heads"),
                kv_heads=c("num_key_value_heads", default=c("num_attention_heads")), ffn="gated", ffn_hidden=c("intermediate_size"),
                activation="silu", vocab=c("vocab_size"), tied_embeddings=c("tie_word_embeddings", default=False),
                max_context=c("max_position_embeddings"),
                moe=dict(experts=c("n_routed_experts"), top_k=c("num_experts_per_tok"), expert_ffn_hidden=c("moe_intermediate_size"),
                         shared_experts=c("n_shared_experts", default=0), dense_layers=c("first_k_dense_replace", default=0),
                         router_bias=c("topk_method", default="") == "noaux_tc"),
                mla=dict(q_lora_rank=c("q_lora_rank", default=None), kv_lora_rank=c("kv_lora_rank"),
                         qk_nope_head_dim=c("qk_nope_head_dim"), qk_rope_head_dim=c("qk_rope_head_dim"), v_head_dim=c("v_head_dim")))


FAMILIES: dict[str, Callable[[_Cfg], dict[str, Any]]] = {
    "llama": _llama_like, "mistral": _llama_like, "mixtral": _llama_like, "qwen2": _llama_like,
    "gpt2": _gpt2, "gpt_neox": _neox, "gptj": _gptj, "falcon": _falcon, "RefinedWeb": _falcon,
    "RefinedWebModel": _falcon, "bloom": _bloom, "opt": _opt, "deepseek_v3": _deepseek_v3,
}


def load_hf_config(path: str | Path) -> Model:
    """A Model from a Hugging Face config.json; its id is the folder (or file) name, lower-cased."""
    path = Path(path)
    if path.is_dir():
        path = path / "config.json"
    try:
        raw = json.loads(path.read_text())
    except OSError as err:
        raise CatalogError(f"cannot read model config {str(path)!r}: {err.strerror}") from err
    except json.JSONDecodeError as err:
        raise CatalogError(f"{path}: not valid JSON: {err}") from err
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: expected a JSON object")
    kind = raw.get("model_type")
    if kind not in FAMILIES:
        hint = close_matches(str(kind), FAMILIES)
        raise CatalogError(f"{path}: model_type {kind!r} is not supported; expected one of {', '.join(sorted(FAMILIES))}"
                           + (f"; did you mean {hint[0]!r}?" if hint else ""))
    fields = FAMILIES[kind](_Cfg(raw, path))
    name = path.parent.name if path.name == "config.json" else path.stem
    rid = "".join(ch if ch.isalnum() or ch in ".-" else "-" for ch in name.lower()).strip("-") or "model"
    try:
        return Model(id=rid, name=name, family=kind, source=str(path), origin=str(path), **fields)
    except ValidationError as err:
        e = err.errors()[0]
        raise CatalogError(f"{path}: {'.'.join(map(str, e['loc']))}: {e['msg']}") from err

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
from tcobench import checks
from tcobench.errors import CatalogError, InputError, close_matches, quote


class _Cfg:
    """The keys of one config.json (or of its ``text_config``), read with the family's defaults."""

    def __init__(self, raw: dict[str, Any], path: Path, kind: str, where: str = "") -> None:
        self.raw, self.path, self.kind, self.where = raw, path, kind, where

    def __call__(self, *keys: str, default: Any = ...) -> Any:
        for k in keys:
            if self.raw.get(k) is not None:
                return self._checked(k, self.raw[k])
        if default is ...:
            raise CatalogError(f"{self.path}: missing key {self.where}{keys[0]!r} for model_type {self.kind!r}")
        return default

    def _checked(self, key: str, value: Any) -> Any:
        """``value`` if it is of the JSON type ``key`` holds: true/false for the flags, a string for the names, a
        list of layer numbers for the layer lists, else a whole number (not true, not 4096.0, not 1e30)."""
        where = f"{self.path}: {self.where}{key} = {_json(value)}"
        if key in _FLAGS:
            if not isinstance(value, bool):
                raise CatalogError(f"{where}: expected true or false")
        elif key in _NAMES:
            if not isinstance(value, str):
                raise CatalogError(f"{where}: expected a string")
        elif key == "text_config":
            if not isinstance(value, dict):
                raise CatalogError(f"{self.path}: text_config is not a JSON object")
        elif key in _LAYER_LISTS:
            if not isinstance(value, list) or not all(_whole(v) for v in value):
                raise CatalogError(f"{where}: expected a list of layer numbers, e.g. [1, 3, 5]")
        elif not _whole(value):
            raise CatalogError(f"{where}: expected a whole number from 0 to {checks.MAX_COUNT:,}")
        return value


# The JSON type of each key that is not a count (every other key read is a whole number).
_FLAGS = {"alibi", "attention_bias", "bias", "enable_bias", "mlp_bias", "multi_query", "new_decoder_architecture",
          "parallel_attn", "qkv_bias", "tie_word_embeddings"}
_NAMES = {"activation_function", "hidden_act", "hidden_activation", "topk_method"}
_LAYER_LISTS = {"mlp_only_layers", "moe_layers"}


def _json(value: Any) -> str:
    """A value as the config.json wrote it ('true', '1e+30', '"silu"'), cut to a readable length."""
    text = json.dumps(value)
    return text if len(text) <= 60 else f"{text[:60]}... ({len(text):,} characters)"


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= checks.MAX_COUNT


def _llama_like(c: _Cfg) -> dict[str, Any]:
    heads = c("num_attention_heads")
    out = dict(layers=c("num_hidden_layers"), hidden=c("hidden_size"), heads=heads,
               kv_heads=c("num_key_value_heads", default=heads), head_dim=c("head_dim", default=None),
               ffn="gated", ffn_hidden=c("intermediate_size"), activation=c("hidden_act", default="silu"),
               vocab=c("vocab_size"), tied_embeddings=c("tie_word_embeddings", default=False),
               max_context=c("max_position_embeddings"), attention_bias=c("attention_bias", default=False),
               mlp_bias=c("mlp_bias", default=False))
    if c.kind == "qwen2":
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


def _qwen3(c: _Cfg) -> dict[str, Any]:
    # Qwen3: an RMSNorm over head_dim on the queries and on the keys (q_norm, k_norm); head_dim defaults to 128.
    return {**_llama_like(c), "head_dim": c("head_dim", default=128), "qk_norm": True}


def _qwen_moe(c: _Cfg) -> dict[str, Any]:
    # Qwen2-MoE (Qwen1.5-MoE, Qwen2-57B-A14B) and Qwen3-MoE: routed experts of moe_intermediate_size in every
    # decoder_sparse_step-th layer; Qwen2-MoE adds one shared expert of shared_expert_intermediate_size behind a
    # sigmoid gate and biases on Q, K and V; Qwen3-MoE has q/k norms and no shared expert.
    if c("mlp_only_layers", default=[]):
        raise CatalogError(f"{c.path}: mlp_only_layers {c.raw['mlp_only_layers']} is not supported (only dense layers "
                           "interleaved every decoder_sparse_step layers are)")
    out = _llama_like(c)
    moe: dict[str, Any] = dict(experts=c("num_experts"), top_k=c("num_experts_per_tok"),
                               expert_ffn_hidden=c("moe_intermediate_size"),
                               layer_step=c("decoder_sparse_step", default=1))
    if c.kind == "qwen2_moe":
        out["qkv_bias"], out["attention_bias"] = c("qkv_bias", default=True), False
        moe.update(shared_experts=1, shared_expert_ffn_hidden=c("shared_expert_intermediate_size", default=5632),
                   shared_expert_gate=True)
    else:
        out["qk_norm"] = True
    return {**out, "moe": moe}


def _llama4(c: _Cfg) -> dict[str, Any]:
    # Llama 4 (text_config): every interleave_moe_layer_step-th layer is MoE (routed experts of intermediate_size and
    # one shared expert of the same width); the others are dense FFNs of intermediate_size_mlp. Its q/k norm
    # (use_qk_norm) is an L2 norm without weights.
    heads, layers = c("num_attention_heads"), c("num_hidden_layers")
    step = c("interleave_moe_layer_step", default=1)
    listed = c("moe_layers", default=None)
    if step < 1:
        raise CatalogError(f"{c.path}: interleave_moe_layer_step {step} must be at least 1")
    if listed is not None and not _every(listed, step, layers):
        step = listed[0] + 1 if listed else 0
        if not listed or not _every(listed, step, layers):
            raise CatalogError(f"{c.path}: moe_layers {quote(listed)} is not every N-th layer, which is what is "
                               "supported")
    return dict(layers=layers, hidden=c("hidden_size"), heads=heads, kv_heads=c("num_key_value_heads", default=heads),
                head_dim=c("head_dim", default=128), ffn="gated", ffn_hidden=c("intermediate_size_mlp"),
                activation=c("hidden_act", default="silu"), vocab=c("vocab_size"),
                tied_embeddings=c("tie_word_embeddings", default=False), max_context=c("max_position_embeddings"),
                attention_bias=c("attention_bias", default=False),
                moe=dict(experts=c("num_local_experts"), top_k=c("num_experts_per_tok", default=1),
                         expert_ffn_hidden=c("intermediate_size"), shared_experts=1, layer_step=step))


def _every(listed: list[int], step: int, layers: int) -> bool:
    """Whether ``listed`` is layers step-1, 2*step-1, ... below ``layers`` (compared lazily: layers may be large)."""
    every = range(step - 1, layers, step)
    return len(listed) == len(every) and all(a == b for a, b in zip(listed, every, strict=True))


def _gemma(c: _Cfg) -> dict[str, Any]:
    # Gemma 2 and 3: GeGLU, head_dim apart from hidden/heads, tied embeddings, an RMSNorm before and after both
    # attention and FFN (4 a layer); Gemma 3 adds q/k norms. Defaults: Gemma2Config / Gemma3TextConfig (the
    # gemma-3-27b-it config.json leaves vocab_size and max_position_embeddings to them).
    g3 = c.kind in ("gemma3", "gemma3_text")
    return dict(layers=c("num_hidden_layers"), hidden=c("hidden_size"), heads=c("num_attention_heads"),
                kv_heads=c("num_key_value_heads", default=4), head_dim=c("head_dim", default=256), ffn="gated",
                ffn_hidden=c("intermediate_size"),
                activation=c("hidden_activation", "hidden_act", default="gelu_pytorch_tanh"),
                vocab=c("vocab_size", default=262_208 if g3 else 256_000),
                tied_embeddings=c("tie_word_embeddings", default=True),
                max_context=c("max_position_embeddings", default=131_072 if g3 else 8192),
                attention_bias=c("attention_bias", default=False), norms_per_layer=4, qk_norm=g3)


def _gpt_oss(c: _Cfg) -> dict[str, Any]:
    # gpt-oss: biases on Q, K, V and O, a learned sink logit per head, top-k routed experts with biases (no shared
    # expert, no dense layer), a router with a bias.
    heads = c("num_attention_heads")
    return dict(layers=c("num_hidden_layers"), hidden=c("hidden_size"), heads=heads,
                kv_heads=c("num_key_value_heads", default=heads), head_dim=c("head_dim", default=64), ffn="gated",
                ffn_hidden=c("intermediate_size"), activation=c("hidden_act", default="silu"), vocab=c("vocab_size"),
                tied_embeddings=c("tie_word_embeddings", default=False), max_context=c("max_position_embeddings"),
                attention_bias=c("attention_bias", default=True), mlp_bias=True, attention_sinks=True,
                moe=dict(experts=c("num_local_experts"), top_k=c("num_experts_per_tok", "experts_per_token"),
                         expert_ffn_hidden=c("intermediate_size"), router_bias=True))


def _deepseek(c: _Cfg) -> dict[str, Any]:
    # DeepSeek-V2 and V3: MLA, first_k_dense_replace dense layers, then MoE with shared experts. V3's multi-token
    # prediction module (num_nextn_predict_layers) is not part of the model that serves tokens and is not counted.
    if c("moe_layer_freq", default=1) != 1:
        raise CatalogError(f"{c.path}: moe_layer_freq {c.raw['moe_layer_freq']} is not supported (only 1)")
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
    "llama": _llama_like, "mistral": _llama_like, "mixtral": _llama_like, "qwen2": _llama_like, "phi3": _llama_like,
    "qwen3": _qwen3, "qwen2_moe": _qwen_moe, "qwen3_moe": _qwen_moe, "llama4": _llama4, "llama4_text": _llama4,
    "gemma2": _gemma, "gemma3": _gemma, "gemma3_text": _gemma, "gpt_oss": _gpt_oss,
    "gpt2": _gpt2, "gpt_neox": _neox, "gptj": _gptj, "falcon": _falcon, "RefinedWeb": _falcon,
    "RefinedWebModel": _falcon, "bloom": _bloom, "opt": _opt, "deepseek_v2": _deepseek, "deepseek_v3": _deepseek,
}
# Multimodal checkpoints whose decoder sits under "text_config": the text decoder is what is read and counted
# (Llama 4's and Gemma 3's vision towers are left out; docs/catalog.md says by how much).
NESTED = {"llama4", "gemma3"}


def load_hf_config(path: str | Path) -> Model:
    """A Model from a Hugging Face config.json; its id is the folder (or file) name, lower-cased."""
    path = Path(path)
    if path.is_dir():
        path = path / "config.json"
    try:
        raw = json.loads(checks.read_text(path, "model config"))
    except InputError as err:
        raise CatalogError(str(err)) from err
    except json.JSONDecodeError as err:
        raise CatalogError(f"{path}: not valid JSON: {err}") from err
    except RecursionError as err:
        raise CatalogError(f"{path}: not valid JSON: nested too deeply to read") from err
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: expected a JSON object")
    kind = raw.get("model_type")
    if not isinstance(kind, str):
        raise CatalogError(f"{path}: model_type {kind!r} is not a string; expected one of {', '.join(sorted(FAMILIES))}")
    if kind not in FAMILIES:
        hint = close_matches(str(kind), FAMILIES)
        raise CatalogError(f"{path}: model_type {kind!r} is not supported; expected one of {', '.join(sorted(FAMILIES))}"
                           + (f"; did you mean {hint[0]!r}?" if hint else ""))
    cfg = _Cfg(raw, path, kind)
    if kind in NESTED:
        text = cfg("text_config")
        if not isinstance(text, dict):
            raise CatalogError(f"{path}: text_config is not a JSON object")
        outer = {k: v for k, v in raw.items() if k not in ("text_config", "vision_config")}
        cfg = _Cfg({**outer, **text}, path, kind, where="text_config.")
    fields = FAMILIES[kind](cfg)
    quant = raw.get("quantization_config")
    if isinstance(quant, dict) and quant.get("quant_method"):
        fields["note"] = ("the checkpoint's weights are quantised (quantization_config.quant_method = "
                          f"{quant['quant_method']!r}); parameter counts are unchanged, bytes follow --precision")
    name = path.parent.name if path.name == "config.json" else path.stem
    rid = "".join(ch if ch.isalnum() or ch in ".-" else "-" for ch in name.lower()).strip("-") or "model"
    try:
        return Model(id=rid, name=name, family=kind, source=str(path), origin=str(path), **fields)
    except ValidationError as err:
        e = err.errors()[0]
        msg = str(e["msg"]).removeprefix("Value error, ")
        raise CatalogError(f"{path}: {'.'.join(map(str, e['loc']))}: {msg}") from err

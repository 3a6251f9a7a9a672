"""Hugging Face config.json files of the common decoder families load into the same Model records."""

import json
from pathlib import Path

import pytest

from tcobench.catalog import load_catalog
from tcobench.catalog.hf import load_hf_config
from tcobench.catalog.params import count_params
from tcobench.errors import CatalogError

# Architecture keys as published in each model's config.json on the Hugging Face hub.
CONFIGS = {
    "llama-2-70b": {"model_type": "llama", "hidden_size": 8192, "intermediate_size": 28672, "num_attention_heads": 64,
                    "num_hidden_layers": 80, "num_key_value_heads": 8, "vocab_size": 32000, "max_position_embeddings": 4096,
                    "tie_word_embeddings": False},
    "mixtral-8x7b": {"model_type": "mixtral", "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32,
                     "num_hidden_layers": 32, "num_key_value_heads": 8, "vocab_size": 32000, "max_position_embeddings": 32768,
                     "num_local_experts": 8, "num_experts_per_tok": 2, "tie_word_embeddings": False},
    "deepseek-v3": {"model_type": "deepseek_v3", "hidden_size": 7168, "intermediate_size": 18432, "moe_intermediate_size": 2048,
                    "num_attention_heads": 128, "num_key_value_heads": 128, "num_hidden_layers": 61, "n_routed_experts": 256,
                    "n_shared_experts": 1, "num_experts_per_tok": 8, "first_k_dense_replace": 3, "q_lora_rank": 1536,
                    "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
                    "vocab_size": 129280, "max_position_embeddings": 163840, "topk_method": "noaux_tc", "tie_word_embeddings": False},
    "bloom-176b": {"model_type": "bloom", "hidden_size": 14336, "n_head": 112, "n_layer": 70, "vocab_size": 250880},
    "gpt-j-6b": {"model_type": "gptj", "n_embd": 4096, "n_head": 16, "n_layer": 28, "n_positions": 2048, "vocab_size": 50400,
                 "rotary_dim": 64, "tie_word_embeddings": False},
    "opt-175b": {"model_type": "opt", "hidden_size": 12288, "ffn_dim": 49152, "num_attention_heads": 96, "num_hidden_layers": 96,
                 "vocab_size": 50272, "max_position_embeddings": 2048, "word_embed_proj_dim": 12288},
}

# Published totals for families the catalog does not ship (from each model card's safetensors count).
EXTRA = [
    ({"model_type": "gpt2", "n_embd": 768, "n_head": 12, "n_layer": 12, "n_positions": 1024, "vocab_size": 50257}, 124_439_808),
    ({"model_type": "qwen2", "hidden_size": 896, "intermediate_size": 4864, "num_attention_heads": 14, "num_hidden_layers": 24,
      "num_key_value_heads": 2, "vocab_size": 151936, "max_position_embeddings": 32768, "tie_word_embeddings": True}, 494_032_768),
    ({"model_type": "gpt_neox", "hidden_size": 512, "intermediate_size": 2048, "num_attention_heads": 8, "num_hidden_layers": 6,
      "vocab_size": 50304, "max_position_embeddings": 2048, "tie_word_embeddings": False}, 70_426_624),
    ({"model_type": "falcon", "hidden_size": 4544, "num_attention_heads": 71, "num_hidden_layers": 32, "vocab_size": 65024,
      "multi_query": True, "parallel_attn": True, "bias": False, "new_decoder_architecture": False}, 6_921_720_704),
    ({"model_type": "mistral", "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32, "num_hidden_layers": 32,
      "num_key_value_heads": 8, "vocab_size": 32000, "max_position_embeddings": 32768, "tie_word_embeddings": False}, 7_241_732_096),
]


def write(tmp_path: Path, cfg: dict, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder / "config.json"


@pytest.mark.parametrize("model_id", sorted(CONFIGS))
def test_config_matches_catalog_entry(tmp_path: Path, model_id: str) -> None:
    from_hf = load_hf_config(write(tmp_path, CONFIGS[model_id], model_id))
    shipped = load_catalog().models[model_id]
    assert from_hf.id == model_id
    assert count_params(from_hf).total == count_params(shipped).total
    assert count_params(from_hf).active == count_params(shipped).active


@pytest.mark.parametrize(("cfg", "published"), EXTRA, ids=[c["model_type"] for c, _ in EXTRA])
def test_other_families_match_published_counts(tmp_path: Path, cfg: dict, published: int) -> None:
    m = load_hf_config(write(tmp_path, cfg, cfg["model_type"]))
    assert count_params(m).total == pytest.approx(published, rel=0.005)


def test_folder_and_catalog_path_lookup(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIGS["llama-2-70b"], "my-llama")
    assert load_catalog().model(str(path.parent)).id == "my-llama"


def test_unsupported_family_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, {**CONFIGS["llama-2-70b"], "model_type": "lama"}, "x")
    with pytest.raises(CatalogError, match="did you mean 'llama'"):
        load_hf_config(path)


def test_missing_key_names_file_and_key(tmp_path: Path) -> None:
    cfg = dict(CONFIGS["llama-2-70b"])
    del cfg["hidden_size"]
    path = write(tmp_path, cfg, "y")
    with pytest.raises(CatalogError, match=r"config.json: missing key 'hidden_size'"):
        load_hf_config(path)

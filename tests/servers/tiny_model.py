"""Write a tiny Llama model folder that vLLM can serve with ``--load-format dummy`` (random weights).

Run with the vLLM environment's Python (it needs ``tokenizers``):
    python tests/servers/tiny_model.py OUT_DIR WORDS_FILE

The vocabulary is whole words (a WordLevel model with Metaspace pieces, "▁bako"), so every generated
token decodes to non-empty text and TTFT on "first non-empty content" is always defined. WORDS_FILE
holds tcobench's random-prompt words, one a line, so a random prompt of N words is N tokens.
Shape per ../shared/notes/real-servers.md: hidden 256, 2 layers, 4 heads of 64 (CPU attention
rejects head_dim 16), float32.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SPECIAL = ["<unk>", "<s>", "</s>", "<pad>"]


def build(out: Path, words: list[str]) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    out.mkdir(parents=True, exist_ok=True)
    vocab = {tok: i for i, tok in enumerate(SPECIAL)}
    for w in words:
        vocab.setdefault("\u2581" + w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.save(str(out / "tokenizer.json"))
    vocab_size = (len(vocab) + 127) // 128 * 128
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": vocab_size,
        "hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 4, "head_dim": 64, "max_position_embeddings": 2048, "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0, "tie_word_embeddings": False, "torch_dtype": "float32",
        "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 3, "hidden_act": "silu",
    }
    (out / "config.json").write_text(json.dumps(config, indent=1))
    (out / "generation_config.json").write_text(json.dumps({"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 3}))
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
        "pad_token": "<pad>", "model_max_length": 2048, "add_bos_token": False,
        "chat_template": "{% for m in messages %}{{ m['content'] }} {% endfor %}",
    }))


if __name__ == "__main__":
    build(Path(sys.argv[1]), Path(sys.argv[2]).read_text().split())

"""Write a tiny llama-architecture GGUF with random weights, for llama-cpp-python's server.

Run with the llama.cpp venv's Python (it has ``gguf`` and numpy):

    .venv-llamacpp/bin/python tests/servers/tiny_gguf.py OUT.gguf WORDS.txt

Vocabulary, SentencePiece style: <unk> <s> </s>, the 256 ``<0xNN>`` byte tokens (so any prompt
tokenizes), then one "▁word" piece per line of WORDS.txt (tcobench's prompt words: one token each).
Random weights hit EOS early and may pick byte tokens, which stream as empty text; the request's
``min_tokens`` keeps EOS away until the requested length, and here the output rows of every special
and byte token are zero while the final norm is scaled up, so a word piece always wins: every
generated token is one non-empty text chunk.
"""

from __future__ import annotations

import sys
from pathlib import Path

import gguf
import numpy as np

EMBD, FF, LAYERS, HEADS, CTX = 64, 128, 1, 4, 1024
SPECIAL = ["<unk>", "<s>", "</s>"]


def main(out: Path, words_file: Path) -> None:
    words = [w for w in words_file.read_text().split() if w]
    # SentencePiece merges two adjacent pieces only when their join is a piece too, starting from single
    # characters: so every character and every prefix of "▁word" is a piece, and a word ends as one token
    pieces = dict.fromkeys(sorted({c for w in words for c in w}) + ["▁"])
    for w in words:
        for k in range(2, len(w) + 2):
            pieces["▁" + w[:k - 1]] = None
    normal = list(pieces)
    tokens = SPECIAL + [f"<0x{b:02X}>" for b in range(256)] + normal
    types = ([gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + [gguf.TokenType.BYTE] * 256
             + [gguf.TokenType.NORMAL] * len(normal))
    scores = [0.0] * (3 + 256) + [float(len(p)) for p in normal]  # longer pieces merge first
    vocab = len(tokens)
    rng = np.random.default_rng(0)

    def rand(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.05).astype(np.float32)

    w = gguf.GGUFWriter(str(out), "llama")
    w.add_name("tcobench-tiny-llama")
    w.add_context_length(CTX)
    w.add_embedding_length(EMBD)
    w.add_block_count(LAYERS)
    w.add_feed_forward_length(FF)
    w.add_head_count(HEADS)
    w.add_head_count_kv(HEADS)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(EMBD // HEADS)
    w.add_rope_freq_base(10000.0)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_vocab_size(vocab)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(True)
    w.add_chat_template("{% for m in messages %}{{ m['content'] }}\n{% endfor %}")

    output = rand(vocab, EMBD)
    output[:3 + 256] = 0.0  # specials and bytes: logit 0, far below the best word piece (see below)
    w.add_tensor("token_embd.weight", rand(vocab, EMBD))
    w.add_tensor("output_norm.weight", np.full(EMBD, 50.0, dtype=np.float32))  # sharpen: argmax in effect
    w.add_tensor("output.weight", output)
    for i in range(LAYERS):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(EMBD, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            w.add_tensor(f"blk.{i}.{name}.weight", rand(EMBD, EMBD))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(EMBD, dtype=np.float32))
        w.add_tensor(f"blk.{i}.ffn_gate.weight", rand(FF, EMBD))
        w.add_tensor(f"blk.{i}.ffn_up.weight", rand(FF, EMBD))
        w.add_tensor(f"blk.{i}.ffn_down.weight", rand(EMBD, FF))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

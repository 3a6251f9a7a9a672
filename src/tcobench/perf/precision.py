"""Bytes per element of each number format, and which peak a mixed-precision matmul runs at.

The formats, their widths and their block scales are catalog/formats.py's one list; ``BYTES`` is derived from
it here, so the CLI's ``--precision`` choices (its keys) follow that list's order.
"""

from __future__ import annotations

from collections.abc import Iterable

from tcobench.catalog.formats import PRECISIONS, storage_bytes
from tcobench.errors import InputError, close_matches

# Bytes per element as stored, block scales included (fp4 0.5625, fp6 0.78125; docs/model.md, 'Number formats'),
# for every format a model can run in: all but fp64, which the catalog keeps for chips' HPC peaks and no
# inference engine serves a model in.
BYTES: dict[str, float] = {name: storage_bytes(name) for name in PRECISIONS if name != "fp64"}


def check(name: str, param: str) -> str:
    """``name`` in lower case if it is a format; else InputError naming the parameter ``param``."""
    name = name.lower()
    if name not in BYTES:
        hint = close_matches(name, BYTES)
        raise InputError(f"{{{param}}} {name!r} is not a precision; expected one of {', '.join(BYTES)}"
                         + (f"; did you mean {hint[0]!r}?" if hint else ""), params=(param,))
    return name


def activation_bytes(activations: str) -> float:
    """Bytes per element of the activations that move between operators (the hidden state, residual adds,
    norms, collectives): the activations' format, but never below 16 bits.

    Quantised inference quantises a matmul's *input* to fp8/int8/fp4 and keeps everything between the
    matmuls in 16-bit: TensorRT-LLM's fp8 engines are built with ``--dtype float16 --enable_fp8``, and
    vLLM's fp8 linear layers take and return the model's bf16 dtype. The matmul itself still runs at the
    quantised format's peak (``compute_precision``).
    """
    return max(BYTES[activations], 2.0)


def dispatch_bytes(activations: str) -> float:
    """Bytes per element of a token an expert-parallel dispatch sends to its experts: the format the expert GEMMs
    read it in, quantised before it leaves the chip (fp8 for W8A8 fp8), and the 16-bit hidden state otherwise.

    DeepSeek-V3 quantises the activations before the MoE up-projection to FP8 and dispatches them in FP8, combining
    the experts' outputs in BF16 (DeepSeek-V3 report, section 3.3.2 'Low-Precision Storage and Communication'), and
    DeepEP, the exchange SGLang's and vLLM's large-EP paths run, is measured and documented with 'FP8 dispatching
    and BF16 combining' (deepseek-ai/DeepEP docs/legacy.md @0297fc80, 'Performance'). The combine is costed at
    ``activation_bytes``. The per-128-channel FP32 scales (3 %) are left out."""
    return min(BYTES[activations], activation_bytes(activations))


def head_bytes(weights: str) -> float:
    """Bytes per element of the embedding table and the LM head: the weights' format, but never below
    16 bits. Quantisation tools leave the output projection unquantised by default (NVIDIA ModelOpt's
    configs disable ``*lm_head*``; llm-compressor's recipes pass ``ignore=["lm_head"]``), and an
    embedding is a table lookup, not a matmul they quantise. Sources in docs/model.md."""
    return max(BYTES[weights], 2.0)


def head_precision(activations: str, available: Iterable[str]) -> str:
    """The tensor-core rate the LM head runs at: a 16-bit matmul when the body runs below 16 bits (its
    weights stay 16-bit, ``head_bytes``), bf16 if the chip has it, else fp16, else the body's rate."""
    if BYTES[activations] >= 2.0:
        return activations
    have = set(available)
    return next((p for p in ("bf16", "fp16") if p in have), activations)


def attention_precision(activations: str, kv: str, available: Iterable[str], *, sixteen_bit: bool = False) -> str:
    """The tensor-core rate attention's two matmuls (QK^T, PV) run at: the wider of the activations' and the
    KV cache's formats, and never below 8 bits.

    The kernel multiplies the query (an activation) by cached keys and values, so it cannot run narrower than
    either: a 16-bit model over an fp8 cache attends in 16 bits. Nor does it go below fp8: trtllm-bench
    builds FP8 context attention with an FP8 cache for both FP8 and NVFP4 models, so an fp4 model attends at
    the fp8 rate. ``sixteen_bit``: a runtime whose attention kernels run in 16 bits whatever the cache (the
    runtime's ``context_attention``). Sources in docs/model.md. Falls back to 16 bits, then to the
    activations' rate, when the chip has no peak at the wanted format."""
    wide = kv if BYTES[kv] > BYTES[activations] else activations
    if BYTES[wide] < (2.0 if sixteen_bit else 1.0):
        wide = "bf16" if sixteen_bit else "fp8"
    have = set(available)
    return next((p for p in (wide, "bf16", "fp16") if p in have), activations)


def rates(activations: str, kv: str, available: Iterable[str], *, sixteen_bit: bool = False) -> dict[str, str]:
    """The format each class of matmul runs at, by name: the body's matmuls, attention, the LM head."""
    have = list(available)
    return {"matmuls": activations, "attention": attention_precision(activations, kv, have, sixteen_bit=sixteen_bit),
            "lm_head": head_precision(activations, have)}


def compute_precision(weights: str, activations: str) -> str:
    """The tensor-core rate a matmul runs at: the activations' format.

    Weight-only quantisation (int4/fp8 weights, bf16 activations) dequantises weights to the
    activations' format before the multiply, so it runs at the activation rate; W8A8 fp8 runs at fp8.
    """
    return activations

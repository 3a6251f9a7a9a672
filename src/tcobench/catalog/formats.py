"""The number formats (precisions): their names and their widths in bits, the one list every layer reads.

``Precision`` is the list as written: a ``Literal``, so that mypy and pydantic check every field typed
with it (a chip's ``peak_dense``, an efficiency's ``compute_at``, a claim's ``precision``). A ``Literal``
cannot be built from a tuple, so the run-time tuple ``PRECISIONS`` is read from it with
``typing.get_args``, in the written order. ``ELEMENT_BITS`` puts each format's width next to its name;
mypy refuses a key that is not a ``Precision``, and tests/unit/catalog/test_formats.py fails unless its
keys are ``PRECISIONS`` in the same order. perf/precision.py derives its bytes per element (``BYTES``),
and with them the CLI's ``--precision`` choices and the order of "expected one of ..." messages, from
``PRECISIONS`` and ``storage_bytes``; claims/kinds/peak.py derives its weight widths the same way.
"""

from __future__ import annotations

from typing import Literal, get_args

Precision = Literal["fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp6", "fp4", "int4"]
PRECISIONS: tuple[Precision, ...] = get_args(Precision)

# Bits of one value, scales not counted.
ELEMENT_BITS: dict[Precision, int] = {"fp64": 64, "fp32": 32, "tf32": 32, "bf16": 16, "fp16": 16, "fp8": 8, "int8": 8,
                                      "fp6": 6, "fp4": 4, "int4": 4}

# Scale bits each value carries in the block-scaled formats. fp4 is NVFP4 (4-bit E2M1 values and one FP8 E4M3
# scale per 16 of them, 4.5 bits: the fp4 that Blackwell's tensor cores, NVIDIA's ModelOpt checkpoints and
# TensorRT-LLM use), fp6 is MXFP6 (6-bit values and one 8-bit scale per 32, 6.25 bits). int4's group size is the
# checkpoint's own choice, so it stays at 4 bits. Sources in docs/model.md ('Number formats').
BLOCK_SCALE_BITS: dict[Precision, float] = {"fp4": 8.0 / 16.0, "fp6": 8.0 / 32.0}


def storage_bytes(name: Precision) -> float:
    """Bytes one element of format ``name`` takes as stored, its block scales included (fp4: 0.5625 B)."""
    return (ELEMENT_BITS[name] + BLOCK_SCALE_BITS.get(name, 0.0)) / 8.0

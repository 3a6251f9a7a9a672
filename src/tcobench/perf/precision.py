"""Bytes per element of each number format, and which peak a mixed-precision matmul runs at."""

from __future__ import annotations

from tcobench.errors import InputError, close_matches

BYTES = {"fp32": 4.0, "tf32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "fp6": 0.75, "fp4": 0.5, "int4": 0.5}


def check(name: str, flag: str) -> str:
    name = name.lower()
    if name not in BYTES:
        hint = close_matches(name, BYTES)
        raise InputError(f"{flag} {name!r} is not a precision; expected one of {', '.join(BYTES)}"
                         + (f"; did you mean {hint[0]!r}?" if hint else ""))
    return name


def compute_precision(weights: str, activations: str) -> str:
    """The tensor-core rate a matmul runs at: the activations' format.

    Weight-only quantisation (int4/fp8 weights, bf16 activations) dequantises weights to the
    activations' format before the multiply, so it runs at the activation rate; W8A8 fp8 runs at fp8.
    """
    return activations

"""Prefill and decode of a Llama-shaped decoder timed over a grid of batch and context: measured records.

A prefill record is one request of ``input_len`` tokens at batch 1 (perf's TTFT); a decode record is one step of
``batch`` sequences whose caches already hold ``input_len`` tokens, attending to ``input_len + 1`` (perf's TPOT at
that context). Ctrl-C stops the grid and keeps the shapes measured so far.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tcobench.catalog.schema import Model
from tcobench.errors import InputError
from tcobench.local.decoder import FORMATS, build, check_supported, weight_count
from tcobench.local.device import Device, need_torch
from tcobench.local.timing import timed

DEFAULT_BATCHES = (1, 2, 4, 8, 16)
DEFAULT_CONTEXTS = (128, 512)
DEFAULT_PREFILLS = (32, 64, 128, 256, 512)


@dataclass(frozen=True)
class Shape:
    phase: str  # "prefill" or "decode"
    batch: int
    input_len: int  # prefill: prompt tokens; decode: tokens already in each sequence's cache

    @property
    def label(self) -> str:
        return (f"prefill {self.input_len} tokens" if self.phase == "prefill"
                else f"decode batch {self.batch} at context {self.input_len}")


@dataclass(frozen=True)
class Record:
    """One measured shape: seconds of a prefill or of one decode step (the fastest repetition, ``timing.Timing``),
    with the median and the slowest repetition beside it."""

    phase: str
    batch: int
    input_len: int
    seconds: float
    median_s: float
    high_s: float
    reps: int

    @property
    def shape(self) -> Shape:
        return Shape(self.phase, self.batch, self.input_len)

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def shapes(batches: Sequence[int], contexts: Sequence[int], prefills: Sequence[int]) -> list[Shape]:
    return ([Shape("prefill", 1, s) for s in prefills]
            + [Shape("decode", b, c) for b in batches for c in contexts])


def bytes_needed(model: Model, fmt: str, grid: Sequence[Shape]) -> float:
    """Memory the largest shape of ``grid`` needs: weights, its KV cache and its activations (bytes, an estimate:
    the FFN's intermediates and one layer's attention scores, as the math kernel may hold them)."""
    width = FORMATS[fmt][1]
    weights = weight_count(model) * width
    worst = 0.0
    for s in grid:
        tokens = s.batch * (s.input_len if s.phase == "prefill" else 1)
        context = s.input_len + 1
        kv = 2.0 * model.layers * s.batch * model.kv_head_count * context * model.head_size * width
        act = tokens * (4 * model.hidden + 3 * model.ffn_hidden + model.vocab) * width
        scores = model.heads * tokens * context * 4.0  # fp32 scores of every head, one layer at a time
        worst = max(worst, kv + act + scores)
    return weights + worst


def check_fits(model: Model, fmt: str, grid: Sequence[Shape], dev: Device) -> float:
    """The bytes the grid needs; InputError when more than the device has free."""
    need = bytes_needed(model, fmt, grid)
    if need > dev.free_bytes:
        raise InputError(f"{{model}} {model.id!r} in {fmt} needs about {need / 1e9:,.2f} GB for its weights and largest "
                         f"shape, more than the {dev.free_bytes / 1e9:,.2f} GB free on {dev.name} ({dev.description}); "
                         "expected a smaller model, format or grid", params=("model",))
    return need


def measure_grid(model: Model, dev: Device, grid: Sequence[Shape], *, fmt: str = "fp32", budget_s: float = 0.3,
                 rounds: int = 2, seed: int = 0, progress: Callable[[int, int, Shape, Record | None], None] | None = None
                 ) -> tuple[list[Record], bool]:
    """Time every shape of ``grid`` in ``rounds`` passes over the grid (a burst of other work on a shared machine
    then spoils one pass of a shape, not all: each record keeps its fastest pass); (records, interrupted).
    Ctrl-C ends the grid early, keeping the shapes measured in every pass so far."""
    check_supported(model)
    torch = need_torch()
    torch.manual_seed(seed)
    dtype = getattr(torch, FORMATS[fmt][0])
    best: dict[Shape, Record] = {}
    done = 0
    try:
        with torch.no_grad():
            net = build(torch, model, fmt, dev.name)
            for i, s in enumerate([s for _ in range(rounds) for s in grid]):
                if progress:
                    progress(i, len(grid) * rounds, s, None)
                tokens = s.input_len if s.phase == "prefill" else 1
                start = 0 if s.phase == "prefill" else s.input_len
                length = start + tokens
                kc = torch.randn(model.layers, s.batch, model.kv_head_count, length, model.head_size, dtype=dtype,
                                 device=dev.name)
                vc = torch.randn_like(kc)
                ids = torch.randint(0, model.vocab, (s.batch, tokens), device=dev.name)
                t = timed(_call(net, ids, kc, vc, start), dev, budget_s=budget_s)
                rec = Record(s.phase, s.batch, s.input_len, t.seconds, t.median, t.high, t.reps)
                old = best.get(s)
                if old is not None and old.seconds <= rec.seconds:
                    rec = dataclasses.replace(old, reps=old.reps + rec.reps, high_s=max(old.high_s, rec.high_s))
                elif old is not None:
                    rec = dataclasses.replace(rec, reps=old.reps + rec.reps, high_s=max(old.high_s, rec.high_s))
                best[s] = rec
                done = i + 1
                if progress:
                    progress(done, len(grid) * rounds, s, rec)
                del kc, vc
    except KeyboardInterrupt:
        return [best[s] for s in grid if s in best], True
    return [best[s] for s in grid], False


def _call(net: Any, ids: Any, kc: Any, vc: Any, start: int) -> Callable[[], object]:
    def run() -> object:
        return net(ids, kc, vc, start)

    return run

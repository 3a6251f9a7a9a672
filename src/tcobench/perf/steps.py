"""What one engine step costs: the time of an iteration that runs some prompt chunks and some decoding sequences.

A continuous-batching engine (vLLM, SGLang, TensorRT-LLM) runs one forward pass per step over every token it
scheduled: the next token of each decoding sequence and chunks of prompts being prefilled. The serving
simulator (``serving.py``) asks for the time of thousands of such steps, so the costs are tabulated once:

    ModelSteps     from the performance model (``layer.layer_ops`` / ``collectives``, the operators ``evaluate``
                   times), as four tables evaluated in one vectorised call each:
                     dense[T]          every operator but attention and the LM head, at T tokens in the step
                     head[l]           the LM head at l tokens (the decoding sequences and the prompts that end)
                     decode_attn[b, c] attention of b decoding sequences of mean context c (c on a log grid)
                     prefill_attn[n, c] attention of a chunk of n prompt tokens after c cached ones (log grids)
                   step = dense[p + b] + head[l] + decode_attn(b, mean context) + sum over chunks prefill_attn(n, c),
                   attention interpolated linearly between grid points (it is affine in the context, so the
                   interpolation is exact away from the roofline's corner). A step that holds a prompt chunk runs
                   eagerly (engines replay CUDA graphs for decode-only steps), so its operators pay the chip's
                   ``eager_overhead``: dense, head and decode_attn have an eager twin for such steps. The prompt
                   tables hold each chunk's attention without its launches, which a step adds once however many
                   chunks it holds (one varlen attention kernel per layer serves them all).
    LinearSteps    a measured profile: step = a + b x decoding sequences + c x prompt tokens + d x context tokens,
                   fitted by least squares to measured levels (``fit_linear``), for a stack the catalog has no chip for.

Units: seconds, tokens. Equations of the operators: docs/model.md; the simulator: docs/serving.md.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from tcobench.errors import InputError
from tcobench.perf.chip import Chip
from tcobench.perf.deployment import Engine, Formats, Layout, Padding, bucket
from tcobench.perf.layer import Pass, Split, collectives, kv_read_per_chip, kv_share, layer_ops, windowed
from tcobench.perf.memory import memory_per_chip
from tcobench.perf.roofline import Phase
from tcobench.perf.transformer import Shape

Floats = NDArray[np.float64]
ATTENTION_OPS = ("attention", "attention_local")


class StepCost(Protocol):
    """The time of one engine step, and of a run of decode-only steps (the simulator's fast path)."""

    def step(self, decodes: int, context: float, chunks: Sequence[tuple[int, int]], ending: int) -> float:
        """Seconds for a step of ``decodes`` decoding sequences holding ``context`` tokens in all, the prompt
        chunks ``(tokens, tokens cached before the chunk)``, of which ``ending`` finish their prompt."""
        ...

    def decode_run(self, decodes: int, contexts: Floats) -> Floats:
        """Seconds of consecutive decode-only steps at ``decodes`` sequences, one per total context in ``contexts``."""
        ...


@dataclass(frozen=True)
class ModelSteps:
    """Step costs of one replica from the performance model (tables: module docstring). Indexed by whole
    tokens/sequences up to ``max_tokens`` per step and ``max_seqs`` sequences, contexts up to ``max_context``."""

    dense: Floats  # [max_tokens + 1]
    head: Floats  # [max_seqs + 1]
    context_grid: Floats  # [C] context tokens, log-spaced from 1
    decode_attn: Floats  # [max_seqs + 1, C]
    chunk_grid: Floats  # [N] chunk tokens, log-spaced from 1
    cached_grid: Floats  # [C + 1] cached tokens: 0, then context_grid
    prefill_attn: Floats  # [N, C + 1]
    fresh_attn: Floats  # [max_tokens + 1]: a whole chunk with nothing cached before it (a prompt's first), exact
    max_tokens: int
    max_seqs: int
    dense_eager: Floats  # [max_tokens + 1]: dense, head and decode_attn of a step that holds a prompt chunk (eager)
    head_eager: Floats  # [max_seqs + 1]
    decode_attn_eager: Floats  # [max_seqs + 1, C]
    prompt_launch: float = 0.0  # s: the launches of the prompt attention kernels, once per step that holds chunks
    padding: Padding | None = None  # a static-shape stack's decode buckets (``Padding``), applied to every decode

    def __post_init__(self) -> None:  # plain lists for the scalar path (NumPy's per-call cost is most of a step)
        object.__setattr__(self, "_dense", self.dense.tolist())
        object.__setattr__(self, "_head", self.head.tolist())
        object.__setattr__(self, "_fresh", self.fresh_attn.tolist())
        object.__setattr__(self, "_ctx", self.context_grid.tolist())
        object.__setattr__(self, "_dec", self.decode_attn.tolist())
        object.__setattr__(self, "_n", self.chunk_grid.tolist())
        object.__setattr__(self, "_cached", self.cached_grid.tolist())
        object.__setattr__(self, "_pre", self.prefill_attn.tolist())
        object.__setattr__(self, "_dense_e", self.dense_eager.tolist())
        object.__setattr__(self, "_head_e", self.head_eager.tolist())
        object.__setattr__(self, "_dec_e", self.decode_attn_eager.tolist())

    @classmethod
    def build(cls, s: Shape, chip: Chip, layout: Layout, formats: Formats, engine: Engine, *, max_tokens: int,
              max_seqs: int, max_context: int) -> ModelSteps:
        """Tabulate the step costs of a replica laid out as ``layout`` (one evaluation per table)."""
        if engine.spec_tokens:
            raise InputError("the serving simulation does not model speculative decoding; leave out {spec_tokens}",
                             params=("spec_tokens",))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return cls._build(s, chip, layout, formats, engine, max_tokens, max_seqs, max_context)

    @classmethod
    def _build(cls, s: Shape, chip: Chip, lay: Layout, fmt: Formats, engine: Engine, max_tokens: int, max_seqs: int,
               max_context: int) -> ModelSteps:
        split = Split.of(s, chip, lay)
        tp, pp, ep = lay.tp, lay.pp, lay.ep
        kv_chip = kv_share(s, tp, split.two_d) if split.any_2d else kv_share(s, tp)
        kv_read = kv_read_per_chip(s, tp, kv_chip, engine.kv_per_query_head)
        local = bool(s.window_layers)
        # a static-shape stack decodes at its padded batch and reads its padded KV: the tables reach that far
        pad = engine.padding
        seqs_top = max_seqs if pad is None else int(bucket(max_seqs, pad.batch_min, pad.batch_step))
        ctx_top = float(max_context)
        if pad is not None and bool(pad.allocated) and np.isfinite(pad.total_len):
            ctx_top = max(ctx_top, float(pad.total_len))
        if pad is not None and float(pad.block_step) > 0:  # one bucket step of blocks more, spread over one sequence
            ctx_top += float(pad.block_step) * float(pad.block_size)

        def per_group(tokens: Floats) -> Floats:
            # as evaluate's decode step: min(tokens, pp) micro-batches, each split over ep attention groups
            return tokens / (np.minimum(tokens, pp) * ep)

        ctx = np.unique(np.round(np.geomspace(1.0, max(ctx_top, 2.0), 96)))

        def decode_tables(eager: bool) -> tuple[Floats, Floats, Floats]:
            # every operator but attention and the LM head, at T tokens (T = 0 costs nothing: no step)
            T = np.arange(max_tokens + (0 if pad is None else seqs_top) + 1, dtype=float)  # + what a bucket adds
            t = per_group(np.maximum(T, 1.0))
            ph = Phase(chip, True, eager)
            layer_ops(ph, s, Pass(t, ep, 0.0, 0.0, 0.0, t, kv_chip, kv_read), lay, fmt, split)
            collectives(ph, s, t, lay, fmt, split, split.two_d)
            dense = _without(ph, ATTENTION_OPS + ("lm_head",))
            dense[0] = 0.0

            # the LM head at l tokens (the step's other operators at one token, taken out by name)
            lm = np.arange(max_seqs + (0 if pad is None else seqs_top) + 1, dtype=float)
            ph = Phase(chip, True, eager)
            layer_ops(ph, s, Pass(1.0, ep, 0.0, 0.0, per_group(np.maximum(lm, 1.0)), 1.0, kv_chip, kv_read), lay, fmt, split)
            head = _only(ph, ("lm_head",), lm.shape)
            head[0] = 0.0

            # decode attention: b sequences of mean context c -> b c pairs and b c positions read
            b = np.arange(seqs_top + 1, dtype=float)[:, None]
            g = per_group(np.maximum(b, 1.0))
            near = g * windowed(s, ctx) if local else None
            ph = Phase(chip, True, eager)
            layer_ops(ph, s, Pass(g, ep, g * ctx, g * ctx, 0.0, g, kv_chip, kv_read, near, near), lay, fmt, split)
            decode_attn = _only(ph, ATTENTION_OPS, (b.size, ctx.size))
            decode_attn[0] = 0.0
            return dense, head, decode_attn

        dense, head, decode_attn = decode_tables(False)  # decode-only steps: replayed from CUDA graphs
        dense_e, head_e, decode_attn_e = decode_tables(True)  # steps with a prompt chunk: launched eagerly

        # a prompt chunk of n tokens after c cached: n c + n^2 / 2 pairs, the c + n positions read once
        n = np.unique(np.round(np.geomspace(1.0, max(float(max_tokens), 2.0), 96)))[:, None]
        cached = np.concatenate([[0.0], ctx])
        pairs = n * cached + n * n / 2.0
        lp = n * windowed(s, cached + n / 2.0) if local else None
        lr = windowed(s, cached + n) if local else None
        ph = Phase(chip, True, True)
        layer_ops(ph, s, Pass(n, 1.0, pairs, cached + n, 0.0, n, kv_chip, None, lp, lr), lay, fmt, split)
        # one attention kernel per layer serves every prompt chunk of a step (varlen attention), so the tables hold
        # each chunk's work without the launches, and a step with chunks adds them once (``prompt_launch``)
        launches = sum(float(np.max(count)) for name, count, _f, _b, _t, _bound in ph.ops if name in ATTENTION_OPS)
        prompt_launch = launches * float(np.max(ph.launch_cost()))
        prefill_attn = _only(ph, ATTENTION_OPS, (n.size, cached.size)) - prompt_launch

        # the first chunk of a prompt (nothing cached), at every whole chunk size
        f = np.arange(max_tokens + 1, dtype=float)
        ph = Phase(chip, True, True)
        layer_ops(ph, s, Pass(f, 1.0, f * f / 2.0, f, 0.0, f, kv_chip, None, f * windowed(s, f / 2.0) if local else None,
                              windowed(s, f) if local else None), lay, fmt, split)
        fresh = _only(ph, ATTENTION_OPS, f.shape) - prompt_launch
        fresh[0] = 0.0
        return cls(dense, head, ctx, decode_attn, n[:, 0], cached, prefill_attn, fresh, max_tokens, max_seqs, dense_e, head_e,
                   decode_attn_e, prompt_launch, pad)

    def padded(self, decodes: int, context: Floats) -> tuple[int, int, Floats]:
        """A decode of ``decodes`` sequences holding ``context`` tokens in all, as the stack runs it: the sequences
        its matmuls run (the batch bucket), those its attention reads, and their mean context (the allocated cache,
        or the batch's blocks padded to the block bucket); unchanged for a stack that pads nothing. Prompts are
        not padded here (``padding.prompt`` applies in the steady state only)."""
        pad = self.padding
        mean = context / decodes
        if pad is None:
            return decodes, decodes, mean
        run = int(bucket(decodes, pad.batch_min, pad.batch_step))
        if bool(pad.allocated):
            total = float(pad.total_len)
            return (run, run, np.full_like(mean, total)) if np.isfinite(total) else (run, decodes, mean)
        if float(pad.block_step) > 0:
            size = float(pad.block_size)
            blocks = decodes * np.ceil(mean / size)
            return run, decodes, np.asarray(bucket(blocks, pad.block_min, pad.block_step)) * size / decodes
        return run, decodes, mean

    def step(self, decodes: int, context: float, chunks: Sequence[tuple[int, int]], ending: int) -> float:
        eager = bool(chunks)  # a step with a prompt chunk runs eagerly, a decode-only one from a CUDA graph
        dense, head, dec = ((self._dense_e, self._head_e, self._dec_e) if eager  # type: ignore[attr-defined]
                            else (self._dense, self._head, self._dec))  # type: ignore[attr-defined]
        run, attending, mean = decodes, decodes, context / decodes if decodes else 0.0
        if decodes and self.padding is not None:
            run, attending, padded_mean = self.padded(decodes, np.asarray(context, dtype=float))
            mean = float(padded_mean)
        tokens = run
        t = head[run + ending] + (self.prompt_launch if eager else 0.0)
        for n, cached in chunks:
            tokens += n
            t += self._fresh[n] if cached == 0 else _bilinear(self._n, self._cached, self._pre, n, cached)  # type: ignore[attr-defined]
        t += dense[tokens]
        if decodes:
            t += _interp(self._ctx, dec[attending], mean)  # type: ignore[attr-defined]
        return float(t)

    def decode_run(self, decodes: int, contexts: Floats) -> Floats:
        run, attending, mean = self.padded(decodes, contexts)
        fixed = float(self.dense[run]) + float(self.head[run])
        out: Floats = fixed + np.interp(mean, self.context_grid, self.decode_attn[attending])
        return out


def kv_capacity(s: Shape, chip: Chip, lay: Layout, fmt: Formats, max_tokens: int, max_seqs: int) -> float:
    """KV-cache tokens one replica holds: what is left of each chip's usable memory after the weights and the
    activations of a ``max_tokens`` step with ``max_seqs`` sequences' logits (``memory.memory_per_chip``), over one token's KV bytes per chip. Local-
    attention layers are counted at full length (an underestimate of the capacity for such models)."""
    kv_chip = kv_share(s, lay.tp, bool(np.any(lay.two_d))) if bool(np.any(lay.two_d)) else kv_share(s, lay.tp)
    w, _, act = memory_per_chip(s, float(max_seqs), float(max_tokens), 0.0, lay, fmt, kv_chip, float(max_tokens))
    _, one, _ = memory_per_chip(s, 1.0, 1.0, 0.0, lay, fmt, kv_chip, 1.0)  # one token, in every layer
    free = float(chip.mem_cap) * float(chip.mem_util) - float(w) - float(act)
    return max(free, 0.0) / float(one)


def _without(ph: Phase, names: tuple[str, ...]) -> Floats:
    total = np.asarray(ph.time, dtype=float).copy()
    for name, _count, _f, _b, t, _bound in ph.ops:
        if name in names:
            total = total - t
    return np.array(total, dtype=float)


def _only(ph: Phase, names: tuple[str, ...], shape: tuple[int, ...]) -> Floats:
    total: Floats = np.zeros(shape)
    for name, _count, _f, _b, t, _bound in ph.ops:
        if name in names:
            total = total + np.broadcast_to(t, shape)
    return total


def _interp(xs: list[float], ys: list[float], x: float) -> float:
    """``ys`` at ``x`` on the grid ``xs``, linear between points and clamped at the ends (as ``np.interp``)."""
    i = min(max(bisect.bisect_left(xs, x) - 1, 0), len(xs) - 2)
    f = min(max((x - xs[i]) / (xs[i + 1] - xs[i]), 0.0), 1.0)
    return ys[i] + (ys[i + 1] - ys[i]) * f


def _bilinear(xs: list[float], ys: list[float], table: list[list[float]], x: float, y: float) -> float:
    """``table`` [len(xs)][len(ys)] at (x, y), linear in each axis between grid points, clamped to the grid."""
    i = min(max(bisect.bisect_left(xs, x) - 1, 0), len(xs) - 2)
    j = min(max(bisect.bisect_left(ys, y) - 1, 0), len(ys) - 2)
    fx = min(max((x - xs[i]) / (xs[i + 1] - xs[i]), 0.0), 1.0)
    fy = min(max((y - ys[j]) / (ys[j + 1] - ys[j]), 0.0), 1.0)
    lo, hi = table[i], table[i + 1]
    a = lo[j] + (lo[j + 1] - lo[j]) * fy
    c = hi[j] + (hi[j + 1] - hi[j]) * fy
    return a + (c - a) * fx


@dataclass(frozen=True)
class LinearSteps:
    """A measured step profile: ``base`` s per step, plus ``per_seq`` s per decoding sequence, ``per_token`` s per
    prompt token and ``per_context`` s per context token the decoding sequences hold."""

    base: float
    per_seq: float
    per_token: float
    per_context: float = 0.0

    def step(self, decodes: int, context: float, chunks: Sequence[tuple[int, int]], ending: int) -> float:
        return self.base + self.per_seq * decodes + self.per_token * sum(c[0] for c in chunks) + self.per_context * context

    def decode_run(self, decodes: int, contexts: Floats) -> Floats:
        return self.base + self.per_seq * decodes + self.per_context * contexts

    def to_dict(self) -> dict[str, float]:
        return {"base_s": self.base, "per_seq_s": self.per_seq, "per_token_s": self.per_token,
                "per_context_s": self.per_context}

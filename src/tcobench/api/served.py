"""``tcobench measure --endpoint URL``: a served model measured through ``bench``, saved as measure records.

The records are those ``tcobench measure`` saves for a model it builds itself, so ``calibrate`` fits a served
stack the same way: a prefill record per prompt length (TTFT at concurrency 1, the prompt tokens the server
counted), and a decode record per concurrency (TPOT at that many requests in flight, at the mean context a request
holds while it decodes: prompt tokens + output tokens / 2). An endpoint's latencies spread with its scheduler and
the HTTP round trip, so a record's seconds are the p50 of its requests (``measure`` on a device keeps the fastest
repetition), with the p99 as its slowest; ``reps`` is the number of requests. A decode level's TPOT is taken over
the requests that streamed (chunks arriving at one distinct time per two tokens at least); those whose tokens came
in bursts are counted and left out (``_Streamed``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

from tcobench.api.endpoint import bench
from tcobench.api.inputs import Ref, catalog_or_default, model_of, positive_numbers, whole
from tcobench.api.measured import MeasureResult
from tcobench.catalog import Catalog
from tcobench.credentials import redact_url
from tcobench.errors import InputError, MissingInputError, quote
from tcobench.loadgen.metrics import LevelMetrics, Stats, summarize
from tcobench.loadgen.result import RequestResult
from tcobench.loadgen.runner import Load
from tcobench.local.grid import Record

DEFAULT_BATCHES = (1, 2, 4)
DEFAULT_CONTEXTS = (128,)
DEFAULT_PREFILLS = (32, 128)
FORMATS = ("fp32", "bf16", "fp16", "fp8")


def measure_served(url: str, model: Ref, *, served_model: str | None = None, batch: str | Sequence[int] | None = None,
                   context: str | Sequence[int] | None = None, prefill: str | Sequence[int] | None = None,
                   output_len: int = 32, requests: int = 8, precision: str = "bf16",
                   api: Literal["chat", "completions"] = "completions", catalog: Catalog | None = None) -> MeasureResult:
    """Measure the model served at ``url`` (OpenAI-compatible; ``served_model``: the name it serves, default the
    model's id) with ``bench``: a level at concurrency 1 for each ``prefill`` prompt length (random prompts of that
    many words; 2 output tokens), and for each ``context`` a level at each ``batch`` concurrency (``output_len``
    tokens). ``model`` is the architecture served (an id or config.json), ``precision`` the format the server runs
    in: calibrate predicts with both. ``requests``: per level, at least twice the concurrency."""
    cat = catalog_or_default(catalog)
    m = model_of(cat, model)
    fmt = str(precision).lower()
    if fmt not in FORMATS:
        raise InputError(f"{{precision}} {quote(precision)}: expected the format the server runs in, one of "
                         f"{', '.join(FORMATS)}", params=("precision",))
    batches = sorted(set(positive_numbers(batch, int, "batch") or DEFAULT_BATCHES))
    contexts = sorted(set(positive_numbers(context, int, "context") or DEFAULT_CONTEXTS))
    prefills = sorted(set(positive_numbers(prefill, int, "prefill") or DEFAULT_PREFILLS)) if prefill != "" else []
    out_len = whole(output_len, "output_len", 2, 100_000)
    n = whole(requests, "requests", 1, 1_000_000)
    name = served_model or m.id
    start = time.perf_counter()
    records: list[Record] = []
    skipped: list[str] = []
    interrupted = False
    for words in prefills:
        got = bench(url, name, api=api, concurrency=1, num_requests=n, warmup=1, input_len=words, output_len=2)
        records += [_prefill(lv) for lv in (x.level for x in got.measured) if lv.ttft_s is not None]
        if got.interrupted:
            interrupted = True
            break
    for words in [] if interrupted else contexts:
        streamed = _Streamed()
        got = bench(url, name, api=api, concurrency=batches, num_requests=max(n, 2 * max(batches)), warmup="auto",
                    input_len=words, output_len=out_len, progress=streamed.level)
        for lv in (x.level for x in got.measured):
            tpot, left_out = streamed.tpot(lv.concurrency or 1)
            if left_out:
                skipped.append(f"decode at concurrency {lv.concurrency}: {left_out} of {left_out + (tpot.count if tpot else 0)} "
                               "requests left out of TPOT (their tokens came in bursts: fewer arrival times than half "
                               "the tokens)")
            if tpot is not None and tpot.p50 > 0:
                records.append(_decode(lv, tpot))
        if got.interrupted:
            interrupted = True
            break
    if not records and not interrupted:
        raise MissingInputError(f"{{endpoint}} {redact_url(url)}: no request succeeded, so nothing was measured "
                                "(see `tcobench bench` against it)", params=("endpoint",))
    device: dict[str, Any] = {"kind": "endpoint", "name": name, "url": redact_url(url),
                              "description": f"{name} served at {redact_url(url)}", "skipped": skipped}
    return MeasureResult(m, device, fmt, records, interrupted, 0.0, time.perf_counter() - start)


def _tokens_in(level: LevelMetrics) -> int:
    return max(1, round((level.input_tokens or 0) / max(1, level.requests_ok)))


def _record(phase: str, batch: int, tokens: int, s: Stats) -> Record:
    return Record(phase, batch, tokens, s.p50, s.p50, s.p99, s.count)


def _prefill(level: LevelMetrics) -> Record:
    assert level.ttft_s is not None  # filtered by the caller
    return _record("prefill", 1, _tokens_in(level), level.ttft_s)


def _decode(level: LevelMetrics, tpot: Stats) -> Record:
    out = level.output_tokens / max(1, level.requests_ok)
    return _record("decode", level.concurrency or 1, _tokens_in(level) + round(out / 2), tpot)


class _Streamed:
    """Each level's requests as they finish (bench's progress hook), for a TPOT from those that streamed. A server
    whose API process falls behind its engine (vLLM's CPU build on two busy cores) sends a request's tokens in a
    few bursts that the client reads at once (32 chunks with one arrival time were seen), and such a request's TPOT,
    (last chunk - first chunk) / (tokens - 1), is not a decode step's time: a request whose chunks arrived at fewer
    distinct times than half its tokens is left out, and the count of those left out is reported."""

    def __init__(self) -> None:
        self.results: dict[int, list[RequestResult]] = {}

    def level(self, load: Load, total: int | None) -> Callable[[RequestResult], None]:
        mine = self.results.setdefault(load.concurrency or 1, [])
        return mine.append

    def tpot(self, concurrency: int) -> tuple[Stats | None, int]:
        done = [r for r in self.results.get(concurrency, []) if r.ok and not r.warmup and r.tokens >= 2]
        kept = [r for r in done if len(set(r.chunk_ns)) * 2 >= r.tokens]  # distinct arrival times, not chunks
        return summarize(t for r in kept if (t := r.tpot_s) is not None), len(done) - len(kept)


__all__ = ["measure_served"]

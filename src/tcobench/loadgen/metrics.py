"""Metrics of one load level, exactly as docs/metrics.md, "Metric definitions", defines them.

- TTFT: sent -> first generated token. E2E: sent -> last generated token.
  TPOT: (E2E - TTFT) / (n - 1), n = output tokens (requests with n >= 2).
  ICL: every gap between consecutive text chunks. Interactivity: 1 / TPOT per request.
- Latency distributions use measured requests only (not warm-up) that succeeded.
- Percentiles p50/p90/p95/p99 by linear interpolation (NumPy's default "linear" method).
- Throughput is over a steady-state window: from the first measured send (warm-up is over) to the
  first completion after the last send (from there on the load drains and the server idles). Work is
  apportioned to the window: a request's tokens by the times of its chunks, and the request itself by
  the part of its sent->done span inside the window. In steady state that is the completion rate;
  in a short run (say 8 requests at concurrency 8) it is still the rate the server actually worked
  at, where counting completions in the window would say 1. The naive figures (first send -> last
  finish of the measured requests) are reported beside it.
- Goodput: the same, over successful requests that met every given SLO; None when no SLO is given.
- With no successful request there is no throughput to report: the rates are None, not 0.0.
- Client-bound: a level is marked ``client_bound`` when the load generator itself, not the server, set the pace
  or blurred the clock: its process used CLIENT_CPU_BOUND of a core or more over the level, or its event loop
  took CLIENT_TURN_SHARE of the TTFT p50 or more to come round (p90 of the turns, at least CLIENT_TURN_FLOOR_S).
  A timestamp is taken when the loop comes round to a chunk, so then the latencies carry the client's own delay
  (MLPerf's LoadGen marks such a run invalid in the same spirit). The reason says which, and for which client.
- Spread over several client processes (``bench --workers``), the metrics are computed once from the merged
  records, exactly as from one process's; a client process that died is listed in ``lost_clients`` with the
  requests it took with it (``requests_lost``), which no metric counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from tcobench.loadgen.result import ErrorKind, RequestResult
from tcobench.loadgen.runner import ClientUse, LevelRun, LostClient

PERCENTILES = (50, 90, 95, 99)
# Client-bound thresholds (docs/metrics.md, "Client-bound levels"). Python runs one event loop on one core: at 90 %
# of it the loop is saturated (the measurement: about 8,000 requests/s at concurrency 256, then TTFT p50
# read 7 ms against a true 1 ms). A loop turn of 10 % of the TTFT is a 10 % error on it, at the least.
CLIENT_CPU_BOUND = 0.9  # CPU seconds per wall second of one client process
CLIENT_TURN_SHARE = 0.1  # loop turn p90 / TTFT p50
CLIENT_TURN_FLOOR_S = 0.0002  # turns shorter than this are never blamed (the probe's own noise)


@dataclass(frozen=True, slots=True)
class Stats:
    """A distribution's summary; values in the unit of the samples (seconds for latencies)."""

    mean: float
    p50: float
    p90: float
    p95: float
    p99: float
    count: int

    def as_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "p50": self.p50, "p90": self.p90, "p95": self.p95, "p99": self.p99}


def summarize(values: Iterable[float]) -> Stats | None:
    """Mean and p50/p90/p95/p99 (linear interpolation); None when there are no samples."""
    a = np.fromiter(values, dtype=float)
    if a.size == 0:
        return None
    p50, p90, p95, p99 = (float(v) for v in np.percentile(a, PERCENTILES, method="linear"))
    return Stats(float(a.mean()), p50, p90, p95, p99, int(a.size))


@dataclass(frozen=True, slots=True)
class Slo:
    """Service-level objectives in seconds; None means "no objective on this metric"."""

    ttft_s: float | None = None
    tpot_s: float | None = None
    e2e_s: float | None = None

    @property
    def given(self) -> bool:
        return any(v is not None for v in (self.ttft_s, self.tpot_s, self.e2e_s))

    def met(self, r: RequestResult) -> bool:
        """True when a successful request meets every given objective. A request with one token has
        no TPOT, so a TPOT objective cannot be missed by it."""
        if not r.ok:
            return False
        ttft, tpot, e2e = r.ttft_s, r.tpot_s, r.e2e_s
        return ((self.ttft_s is None or (ttft is not None and ttft <= self.ttft_s))
                and (self.tpot_s is None or tpot is None or tpot <= self.tpot_s)
                and (self.e2e_s is None or (e2e is not None and e2e <= self.e2e_s)))


@dataclass(frozen=True, slots=True)
class LevelMetrics:
    """One load level, measured. Rates per second; latencies in seconds; None = not measured."""

    concurrency: int | None
    rate: float | None
    arrival: str | None
    requests_ok: int
    requests_failed: int
    requests_cancelled: int
    requests_warmup: int
    errors: dict[str, int]
    ttft_s: Stats | None
    tpot_s: Stats | None
    icl_s: Stats | None
    e2e_s: Stats | None
    client_lag_s: Stats | None
    interactivity_tokens_per_s: Stats | None
    input_tokens: int | None
    output_tokens: int
    output_tokens_per_s: float | None
    input_tokens_per_s: float | None
    requests_per_s: float | None
    goodput_requests_per_s: float | None
    goodput_output_tokens_per_s: float | None
    slo_attainment: float | None
    naive_output_tokens_per_s: float | None
    naive_requests_per_s: float | None
    window_s: float | None
    duration_s: float
    token_count_source: str | None  # "usage", "chunks" or "mixed"
    chunks_per_usage_token: float | None  # client chunk count / server token count; 1.0 = one token a chunk
    interrupted: bool
    client_cpu_share: float | None = None  # CPU s / wall s of the busiest client process (1.0 = one core)
    client_loop_s: Stats | None = None  # the client event loops' turns, pooled
    client_bound: bool = False  # the load generator limited or blurred the measurement: see client_bound_reason
    client_bound_reason: str | None = None
    clients: int = 1  # client processes that sent the level's requests (bench --workers)
    client_requests: tuple[int, ...] = ()  # requests each client process reported, when there were several
    requests_lost: int = 0  # sent by a client process that died, never reported back
    lost_clients: tuple[LostClient, ...] = ()  # the client processes that died during the level

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        for k, v in out.items():
            if isinstance(v, dict) and "count" in v and "p50" in v:
                out[k] = {key: v[key] for key in ("mean", "p50", "p90", "p95", "p99")}
        return out


def compute(run: LevelRun, slo: Slo = Slo()) -> LevelMetrics:
    results = run.results
    measured = [r for r in results if not r.warmup and r.error != ErrorKind.CANCELLED]
    ok = [r for r in measured if r.ok]
    failed = [r for r in measured if not r.ok]
    window = steady_window(results)
    span = window[1] - window[0] if window else 0
    rates = _window_rates(results, window, slo) if span > 0 and ok else None  # no success: not measured
    with_usage = [r for r in ok if r.output_tokens is not None]
    naive_span = (max(r.done_ns for r in ok) - min(r.sent_ns for r in ok)) / 1e9 if ok else 0.0
    out_tokens = sum(r.tokens for r in ok)
    prompt_known = [r.prompt_tokens for r in ok if r.prompt_tokens is not None]
    ttft = summarize(r.ttft_s for r in ok if r.ttft_s is not None)
    bound = client_bound(run.clients, ttft)
    return LevelMetrics(
        concurrency=run.load.concurrency, rate=run.load.rate,
        arrival=str(run.load.arrival) if run.load.rate is not None else None,
        requests_ok=len(ok), requests_failed=len(failed),
        requests_cancelled=sum(1 for r in results if r.error == ErrorKind.CANCELLED),
        requests_warmup=sum(1 for r in results if r.warmup),
        errors=dict(sorted(Counter(str(r.error) for r in failed).items())),
        ttft_s=ttft,
        tpot_s=summarize(t for r in ok if (t := r.tpot_s) is not None),
        icl_s=summarize(d / 1e9 for r in ok for d in np.diff(r.chunk_ns).tolist()),
        e2e_s=summarize(r.e2e_s for r in ok if r.e2e_s is not None),
        client_lag_s=summarize(r.lag_s for r in measured),
        interactivity_tokens_per_s=summarize(1.0 / t for r in ok if (t := r.tpot_s)),
        input_tokens=sum(prompt_known) if len(prompt_known) == len(ok) and ok else None,
        output_tokens=out_tokens,
        output_tokens_per_s=rates[0] if rates else None,
        input_tokens_per_s=rates[1] if rates else None,
        requests_per_s=rates[2] if rates else None,
        goodput_requests_per_s=rates[3] if rates and slo.given else None,
        goodput_output_tokens_per_s=rates[4] if rates and slo.given else None,
        slo_attainment=(sum(1 for r in ok if slo.met(r)) / len(measured)) if slo.given and measured else None,
        naive_output_tokens_per_s=out_tokens / naive_span if naive_span > 0 else None,
        naive_requests_per_s=len(ok) / naive_span if naive_span > 0 else None,
        window_s=span / 1e9 if span > 0 else None,
        duration_s=(run.end_ns - run.start_ns) / 1e9,
        token_count_source=_source(ok, with_usage),
        chunks_per_usage_token=(sum(len(r.chunk_ns) for r in with_usage) / tokens
                                if with_usage and (tokens := sum(r.output_tokens or 0 for r in with_usage)) else None),
        interrupted=run.interrupted,
        client_cpu_share=max((c.cpu_s / c.wall_s for c in run.clients if c.wall_s > 0), default=None),
        client_loop_s=summarize(t / 1e9 for c in run.clients for t in c.turns_ns),
        client_bound=bound is not None,
        client_bound_reason=bound,
        clients=max(1, len(run.clients) + len(run.lost)),
        client_requests=run.client_requests,
        requests_lost=sum(c.requests_lost for c in run.lost),
        lost_clients=run.lost,
    )


def client_bound(clients: Sequence[ClientUse], ttft: Stats | None) -> str | None:
    """Why the client limited the level (the first client found so), or None when none did."""
    many = len(clients) > 1
    for k, c in enumerate(clients, 1):
        who = f"client {k} of {len(clients)}" if many else "the client"
        share = c.cpu_s / c.wall_s if c.wall_s > 0 else 0.0
        turns = np.asarray(c.turns_ns, dtype=float) / 1e9
        turn = float(np.percentile(turns, 90)) if turns.size else 0.0
        why = []
        if share >= CLIENT_CPU_BOUND:
            why.append(f"{who} used {share:.0%} of a CPU core")
        if ttft is not None and turn >= max(CLIENT_TURN_FLOOR_S, CLIENT_TURN_SHARE * ttft.p50):
            why.append(f"{'its' if why else who + chr(39) + 's'} event loop took {turn * 1e3:.2f} ms to come round "
                       f"(p90), {turn / ttft.p50:.0%} of the TTFT p50 of {ttft.p50 * 1e3:.2f} ms")
        if why:
            return ("; ".join(why) + ": the latencies include the client's own delay; spread the load over more "
                    "client processes (--workers N)")
    return None


def steady_window(results: Sequence[RequestResult]) -> tuple[int, int] | None:
    """(start, end) in ns: first measured send -> first completion at or after the last send."""
    sent = [r for r in results if r.error != ErrorKind.CANCELLED]
    measured = [r.sent_ns for r in sent if not r.warmup]
    if not measured:
        return None
    start, last_send = min(measured), max(r.sent_ns for r in sent)
    end = min((r.done_ns for r in sent if r.done_ns >= last_send), default=last_send)
    return (start, end) if end > start else None


def _window_rates(results: Sequence[RequestResult], window: tuple[int, int] | None,
                  slo: Slo) -> tuple[float, float | None, float, float, float] | None:
    """(output tokens/s, input tokens/s, requests/s, goodput requests/s, goodput tokens/s) in the window."""
    if window is None:
        return None
    t0, t1 = window
    span = (t1 - t0) / 1e9
    out_tok = in_tok = reqs = good_reqs = good_tok = 0.0
    inputs_known = True
    for r in results:
        if not r.ok or r.done_ns <= t0 or r.sent_ns >= t1:
            continue
        chunks = np.asarray(r.chunk_ns)
        tokens_here = r.tokens * float(np.count_nonzero((chunks >= t0) & (chunks <= t1))) / len(chunks)
        share = (min(r.done_ns, t1) - max(r.sent_ns, t0)) / max(1, r.done_ns - r.sent_ns)
        out_tok += tokens_here
        reqs += share
        if r.prompt_tokens is None:
            inputs_known = False
        else:
            in_tok += r.prompt_tokens * share
        if slo.met(r):
            good_reqs += share
            good_tok += tokens_here
    return out_tok / span, (in_tok / span if inputs_known else None), reqs / span, good_reqs / span, good_tok / span


def _source(ok: list[RequestResult], with_usage: list[RequestResult]) -> str | None:
    if not ok:
        return None
    if len(with_usage) == len(ok):
        return "usage"
    return "chunks" if not with_usage else "mixed"

"""Serving over time: requests arrive, queue, are batched step by step, and come out with their latencies.

The scheduler is vLLM's (V1, chunked prefill on): each step has a budget of ``max_tokens`` tokens
(``max_num_batched_tokens``). Every decoding sequence takes one token of it; prompts being prefilled continue
with what is left, oldest first; then waiting requests are admitted in arrival order, each taking a chunk of its
prompt, while the budget lasts, fewer than ``max_seqs`` sequences run (``max_num_seqs``) and the KV cache has room
for the request's whole context (input + output tokens): a request that does not fit waits (admission control; no
preemption). A step's time comes from a ``steps.StepCost``; the step that finishes a prompt yields its first token,
and every step yields one token for each decoding sequence.

The event loop runs per step, not per token, and steps that change nothing but the contexts (decode only, no
arrival that could be admitted, no completion) are run together: their times are one vectorised call, so the
Python work is a few operations per arrival and per completion. Metrics as docs/metrics.md defines them:

    TTFT   arrival -> end of the step that finishes the prompt
    TPOT   (E2E - TTFT) / (n - 1), n output tokens, for n >= 2
    ITL    the gap between consecutive tokens of a request: the times of the steps it decodes in (all tokens)
    E2E    arrival -> end of the step of its last token
    throughput and goodput over the steady-state window (first arrival -> first completion after the last
    arrival), each request's tokens apportioned to the window as ``loadgen.metrics`` does for a measured level

A rate the replica cannot keep up with is not an error: the queue then grows without bound, which ``saturated``
and ``queue_growth_per_s`` say, with the time of the first request that misses an SLO.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tcobench.errors import DeploymentError, InputError
from tcobench.perf.steps import StepCost
from tcobench.perf.traffic import Traffic

Floats = NDArray[np.float64]
PERCENTILES = (50, 90, 99)


@dataclass(frozen=True)
class Scheduler:
    """The engine's limits per replica: tokens per step, running sequences, KV-cache tokens."""

    max_tokens: int  # max_num_batched_tokens
    max_seqs: int  # max_num_seqs
    kv_tokens: float  # tokens the KV cache holds
    # False: admit a request only when the KV cache holds its whole context (admission control, no preemption).
    # True: vLLM's way: admit when its prompt fits, grow the cache a token per decoding sequence per step, and when it
    # is full preempt the most recently admitted running request, which waits at the head of the queue and recomputes
    # its prompt and the tokens it had made (vLLM V1's recompute preemption)
    preempt: bool = False
    # prefix caching (vLLM V1's default): a prompt's leading tokens that an earlier prompt computed are not computed
    # again, in whole blocks of ``block_tokens`` (vLLM's block size), and never the prompt's last token
    prefix_caching: bool = True
    block_tokens: int = 16

    def __post_init__(self) -> None:
        if self.max_tokens < self.max_seqs:
            raise InputError(f"{{max_batched_tokens}} {self.max_tokens} is below {{max_seqs}} {self.max_seqs}: every running "
                             "sequence takes a token of each step's budget (vLLM refuses this too)",
                             params=("max_batched_tokens", "max_seqs"))


@dataclass(frozen=True)
class Slo:
    """Latency targets in seconds; None for none."""

    ttft: float | None = None
    tpot: float | None = None
    e2e: float | None = None

    @property
    def given(self) -> bool:
        return any(x is not None for x in (self.ttft, self.tpot, self.e2e))

    def met(self, ttft: Floats, tpot: Floats, e2e: Floats) -> NDArray[np.bool_]:
        ok = np.ones(ttft.shape, dtype=bool)
        if self.ttft is not None:
            ok &= ttft <= self.ttft
        if self.tpot is not None:
            ok &= ~(tpot > self.tpot)  # a one-token request has no TPOT (NaN) and meets any TPOT target
        if self.e2e is not None:
            ok &= e2e <= self.e2e
        return ok

    def to_dict(self) -> dict[str, float | None]:
        return {"ttft_s": self.ttft, "tpot_s": self.tpot, "e2e_s": self.e2e}


@dataclass(frozen=True)
class Timeline:
    """Per request (arrays of n): arrival, admission, first token and last token times (s); and every step's time
    with the number of tokens it gave decoding sequences (the ITL distribution)."""

    arrival: Floats
    admitted: Floats
    first: Floats
    done: Floats
    output_len: NDArray[np.int64]
    input_len: NDArray[np.int64]
    step_s: Floats
    step_decodes: Floats
    steps: int
    preemptions: int = 0  # requests preempted and recomputed (Scheduler.preempt)
    cached_tokens: int = 0  # prompt tokens taken from the prefix cache, not computed
    prompt_tokens: int = 0  # prompt tokens admitted (a recomputed request's counted again)


@dataclass(frozen=True)
class ServingResult:
    """Latency distributions (p50/p90/p99, seconds), rates over the steady-state window, SLO attainment and
    whether the queue keeps growing. ``to_dict()`` is the ``serving`` part of ``predict --json``."""

    traffic: str
    requests: int
    replicas: int
    offered_rate: float | None  # requests/s (open loop); None for a closed loop
    concurrency: int | None
    ttft_s: dict[str, float]
    tpot_s: dict[str, float]
    itl_s: dict[str, float]
    e2e_s: dict[str, float]
    queue_s: dict[str, float]  # arrival -> admission
    output_tokens_per_s: float
    input_tokens_per_s: float
    requests_per_s: float
    window_s: float
    mean_running: float  # decoding sequences per step, averaged over time
    steps: int
    slo: Slo
    goodput_requests_per_s: float | None
    goodput_tokens_per_s: float | None
    slo_met: float | None  # share of requests that meet every SLO
    first_slo_miss_s: float | None  # arrival time of the first request that misses an SLO
    saturated: bool
    queue_growth_per_s: float  # requests/s by which the requests in the system grow over the run's second half
    kv_tokens: float
    max_tokens: int
    max_seqs: int
    notes: tuple[str, ...] = field(default=())
    preemptions: int = 0  # requests preempted and recomputed (Scheduler.preempt)
    prefix_cache_hit: float = 0.0  # share of the prompt tokens admitted that came from the prefix cache
    frontend_s: float = 0.0  # the stack's time per request outside the engine, added to TTFT and E2E (serve)
    held_share: float = 0.0  # share of streams delivered whole at their last token (serve)
    makespan_s: float = 0.0  # first arrival to last completion: a finite run's time (all requests queued at once: offline)

    def to_dict(self) -> dict[str, Any]:
        return {"traffic": self.traffic, "requests": self.requests, "replicas": self.replicas,
                "offered_rate": self.offered_rate, "concurrency": self.concurrency,
                "ttft_s": self.ttft_s, "tpot_s": self.tpot_s, "itl_s": self.itl_s, "e2e_s": self.e2e_s,
                "queue_s": self.queue_s, "output_tokens_per_s": self.output_tokens_per_s,
                "input_tokens_per_s": self.input_tokens_per_s, "requests_per_s": self.requests_per_s,
                "window_s": self.window_s, "mean_running": self.mean_running, "steps": self.steps,
                "slo": self.slo.to_dict(), "goodput_requests_per_s": self.goodput_requests_per_s,
                "goodput_tokens_per_s": self.goodput_tokens_per_s, "slo_met": self.slo_met,
                "first_slo_miss_s": self.first_slo_miss_s, "saturated": self.saturated,
                "queue_growth_per_s": self.queue_growth_per_s,
                "scheduler": {"max_batched_tokens": self.max_tokens, "max_seqs": self.max_seqs,
                              "kv_cache_tokens": self.kv_tokens},
                "preemptions": self.preemptions, "prefix_cache_hit": self.prefix_cache_hit,
                "frontend_s": self.frontend_s, "held_share": self.held_share, "makespan_s": self.makespan_s,
                "notes": list(self.notes)}


def simulate(cost: StepCost, traffic: Traffic, sched: Scheduler, *, runs: bool = True) -> Timeline:
    """Run ``traffic`` through one replica whose steps cost ``cost``, scheduled by ``sched``. ``runs=False`` takes
    decode-only steps one at a time (the plain loop: the tests' reference and the benchmark's baseline)."""
    n = traffic.n
    n_in = traffic.input_len
    n_out = traffic.output_len
    need = n_in + n_out
    if int(need.max()) > sched.kv_tokens:
        worst = int(np.argmax(need))
        raise DeploymentError(f"a request of {int(n_in[worst])} + {int(n_out[worst])} tokens does not fit in the KV cache of "
                              f"{sched.kv_tokens:,.0f} tokens per replica: it would wait for ever; use more chips, a "
                              "smaller KV format, or shorter requests")
    tabulated = getattr(cost, "max_tokens", None), getattr(cost, "max_seqs", None)
    if tabulated[0] is not None and (tabulated[0] < sched.max_tokens or (tabulated[1] or 0) < sched.max_seqs):
        raise InputError(f"the step costs are tabulated to {tabulated[0]} tokens and {tabulated[1]} sequences per step, "
                         f"fewer than the scheduler's {sched.max_tokens} and {sched.max_seqs}")
    closed = traffic.arrivals is None
    arrival: list[float] = [math.inf] * n if closed else traffic.arrivals.astype(float).tolist()  # type: ignore[union-attr]
    admitted = np.full(n, np.nan)
    first = np.full(n, np.nan)
    done = np.full(n, np.nan)
    in_list = n_in.tolist()  # the prompt of each request's current admission (a recomputed one includes its output)
    out_list = n_out.tolist()  # the tokens each request has still to make at its current admission
    need_list = need.tolist()
    budget_max, seq_max = sched.max_tokens, sched.max_seqs
    kv_free = float(sched.kv_tokens)
    preempt = sched.preempt
    # with preemption: each request's admission number (the newest running one is preempted first), the running ones,
    # a count per request that retires its stale heap entries, and the preemptions made
    admit_no = [0] * n
    admissions = 0
    live: list[int] = []
    epoch = [0] * n
    preempted = 0
    # prefix caching: the shared prefix's cached tokens (whole blocks, set once a prompt has computed them; from then on
    # held in the cache once for all), and each request's hit at its current admission
    prefix = int(traffic.prefix_len) if sched.prefix_caching else 0
    prefix_blocks = prefix // sched.block_tokens * sched.block_tokens
    prefix_ready = False
    hit = [0] * n
    cached = 0  # prompt tokens found in the cache, over every admission
    prompted = 0  # prompt tokens admitted, over every admission

    waiting: deque[int] = deque()
    nxt = 0  # next request not yet arrived (open loop: in arrival order; closed loop: the next to send)
    sent = 0  # closed loop: requests sent so far (each user sends its next when its last one finishes)
    if closed:
        sent = min(int(traffic.concurrency or 1), n)
        for i in range(sent):
            arrival[i] = 0.0
    first_step = [0] * n  # the step that gave a request its first token
    prefilling: list[list[int]] = []  # [request, prompt tokens done], admission order
    heap: list[tuple[int, int, int]] = []  # (step index of the last token, request, epoch) of decoding sequences
    decoding: set[int] = set()
    base = 0.0  # sum over decoding sequences of (input_len - step of their first token): context = base + decodes x step
    decodes = 0
    now, g, finished = 0.0, 0, 0
    step_s: list[Floats] = []  # runs of steps: their times, and the decoding sequences in each run's steps
    step_dec: list[int] = []
    def next_last() -> int:
        """The step of the next last token among the decoding sequences (-1: none), past preempted ones' entries."""
        while heap and epoch[heap[0][1]] != heap[0][2]:
            heapq.heappop(heap)
        return heap[0][0] if heap else -1

    while finished < n:
        while nxt < n and arrival[nxt] <= now:
            waiting.append(nxt)
            nxt += 1
        if not prefilling and not decodes and not waiting:
            now = float(arrival[nxt])  # idle until the next arrival
            continue
        while preempt and decodes and kv_free < decodes:  # no room for this step's tokens: recompute the newest later
            victim = max(live, key=admit_no.__getitem__)
            live.remove(victim)
            preempted += 1
            if victim in decoding:
                made = g - first_step[victim]  # tokens it made: one at its prompt's last step, one a step since
                kv_free += in_list[victim] + made - 1 - hit[victim]
                decoding.discard(victim)
                epoch[victim] += 1
                decodes -= 1
                base -= in_list[victim] - first_step[victim]
                in_list[victim] += made
                out_list[victim] -= made
            else:
                prefilling = [p for p in prefilling if p[0] != victim]
                kv_free += in_list[victim] - hit[victim]
            waiting.appendleft(victim)
        budget = budget_max - decodes
        running = decodes + len(prefilling)
        chunks: list[tuple[int, int]] = []
        ending: list[int] = []
        for pre in prefilling:
            if budget <= 0:
                break
            r, got = pre
            take = min(in_list[r] - got, budget)
            chunks.append((take, got))
            budget -= take
            pre[1] = got + take
            if pre[1] == in_list[r]:
                ending.append(r)
        while waiting and budget > 0 and running < seq_max and (
                (in_list[waiting[0]] + decodes if preempt else need_list[waiting[0]])
                - (_hit(in_list[waiting[0]], prefix_blocks, sched.block_tokens) if prefix_ready else 0) <= kv_free):
            r = waiting.popleft()
            if math.isnan(admitted[r]):
                admitted[r] = now
            h = hit[r] = _hit(in_list[r], prefix_blocks, sched.block_tokens) if prefix_ready else 0
            cached += h
            prompted += in_list[r]
            kv_free -= (in_list[r] if preempt else need_list[r]) - h
            running += 1
            if preempt:
                admissions += 1
                admit_no[r] = admissions
                live.append(r)
            take = min(in_list[r] - h, budget)
            chunks.append((take, h))
            budget -= take
            if h + take == in_list[r]:
                ending.append(r)
            else:
                prefilling.append([r, h + take])
        if prefix_blocks and not prefix_ready and any(got + take >= prefix_blocks for take, got in chunks):
            prefix_ready = True  # this step computes the prefix: later admissions find it cached, held once for all
            kv_free -= prefix_blocks
        if chunks:  # one step with prompt work
            t = cost.step(decodes, base + decodes * g, chunks, len(ending))
            now += t
            if decodes:
                step_s.append(np.array((t,)))
                step_dec.append(decodes)
            steps_run = 1
        else:  # decode only: run until the next completion, or the next arrival that could be admitted
            k = next_last() - g + 1 if runs else 1
            if preempt:  # ... or until the cache is full
                k = max(1, min(k, int(kv_free // decodes)))
            contexts = base + decodes * (g + np.arange(k, dtype=float))
            times = cost.decode_run(decodes, contexts)
            ends = now + np.cumsum(times)
            if not waiting and nxt < n and running < seq_max and arrival[nxt] < ends[-1]:
                k = 1 + int(np.searchsorted(ends[:-1], arrival[nxt], side="left"))
                times, ends = times[:k], ends[:k]
            now = float(ends[-1])
            step_s.append(times)
            step_dec.append(decodes)
            steps_run = k
        last = g + steps_run - 1
        if preempt:
            kv_free -= decodes * steps_run  # each decoding sequence wrote a token's KV a step
        while next_last() == last:  # decoding sequences whose last token came in this step
            _, r, _ = heapq.heappop(heap)
            done[r] = now
            if preempt:
                kv_free += in_list[r] + last - first_step[r] - hit[r]
                decoding.discard(r)
                live.remove(r)
            else:
                kv_free += need_list[r] - hit[r]
            decodes -= 1
            base -= in_list[r] - first_step[r]
            finished += 1
            if closed and sent < n:
                arrival[sent] = now
                sent += 1
        if chunks:
            if ending:
                prefilling = [p for p in prefilling if p[1] < in_list[p[0]]]
            for r in ending:
                if math.isnan(first[r]):  # a recomputed request's prompt gives its next token, not its first
                    first[r] = now
                if out_list[r] <= 1:
                    done[r] = now
                    kv_free += (in_list[r] if preempt else need_list[r]) - hit[r]
                    if preempt:
                        live.remove(r)
                    finished += 1
                    if closed and sent < n:
                        arrival[sent] = now
                        sent += 1
                else:
                    first_step[r] = last
                    heapq.heappush(heap, (last + out_list[r] - 1, r, epoch[r]))
                    base += in_list[r] - last
                    decodes += 1
                    decoding.add(r)
        g = last + 1
    times_all = np.concatenate(step_s) if step_s else np.zeros(0)
    dec_all = np.repeat(np.array(step_dec, dtype=float), [x.size for x in step_s]) if step_s else np.zeros(0)
    return Timeline(np.array(arrival), admitted, first, done, n_out, n_in, times_all, dec_all, g, preempted, cached, prompted)


def _hit(prompt: int, prefix_blocks: int, block: int) -> int:
    """Tokens of a ``prompt``-token prompt found in a prefix cache holding ``prefix_blocks`` shared tokens: whole
    blocks, never the last token (vLLM computes at least one token of every prompt, for its logits)."""
    return min(prefix_blocks, (prompt - 1) // block * block)



def serve(cost: StepCost, traffic: Traffic, sched: Scheduler, slo: Slo = Slo(), replicas: int = 1,
          notes: tuple[str, ...] = (), *, frontend_s: float = 0.0, held_share: float = 0.0) -> ServingResult:
    """Simulate ``traffic`` on ``replicas`` replicas behind a round-robin balancer (each replica simulated on its
    share) and summarise every request's latencies, as the client sees them when the stack's front end takes
    ``frontend_s`` per request and holds back ``held_share`` of the streams whole (``delivered``)."""
    parts = [simulate(cost, part, sched) for part in traffic.split(replicas)]
    t = parts[0] if len(parts) == 1 else Timeline(
        **{name: np.concatenate([getattr(p, name) for p in parts]) for name in
           ("arrival", "admitted", "first", "done", "output_len", "input_len", "step_s", "step_decodes")},
        steps=sum(p.steps for p in parts), preemptions=sum(p.preemptions for p in parts),
        cached_tokens=sum(p.cached_tokens for p in parts), prompt_tokens=sum(p.prompt_tokens for p in parts))
    if frontend_s or held_share:
        t = delivered(t, frontend_s, held_share)
    r = summarize(t, traffic, sched, slo, replicas, notes)
    return replace(r, frontend_s=frontend_s, held_share=held_share)


def delivered(t: Timeline, frontend_s: float, held_share: float) -> Timeline:
    """The engine's timeline as the client sees it: every token ``frontend_s`` later (the request's way through the
    API server to the engine, and its first event back), and ``held_share`` of the streams, evenly spread over the
    requests in order, held back whole, their first token arriving with their last (measured for vLLM's CPU build:
    ``catalog runtimes``, docs/serving.md). The steps, and so the ITL percentiles, stay the engine's."""
    if not (math.isfinite(frontend_s) and frontend_s >= 0 and 0.0 <= held_share <= 1.0):
        raise InputError(f"a front end of {frontend_s!r} s and a held share of {held_share!r}: expected >= 0 s and a share "
                         "from 0 to 1")
    first, done = t.first + frontend_s, t.done + frontend_s
    if held_share > 0:
        i = np.arange(first.size, dtype=float)
        held = np.floor((i + 1.0) * held_share) > np.floor(i * held_share)
        first = np.where(held, done, first)
    return replace(t, first=first, done=done)


def summarize(t: Timeline, traffic: Traffic, sched: Scheduler, slo: Slo, replicas: int = 1,
              notes: tuple[str, ...] = ()) -> ServingResult:
    """The distributions and rates of a simulated run (module docstring)."""
    ttft = t.first - t.arrival
    e2e = t.done - t.arrival
    n_out = t.output_len.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        tpot = np.where(n_out >= 2, (e2e - ttft) / (n_out - 1.0), np.nan)
    start, last_arrival = float(t.arrival.min()), float(t.arrival.max())
    after = t.done[t.done >= last_arrival]
    end = float(after.min()) if after.size else last_arrival
    if end <= start:
        end = float(t.done.max())
    span = max(end - start, 1e-30)
    # tokens in the window: the first at its step, the other n - 1 spread evenly to the last
    gen = np.maximum(t.done - t.first, 0.0)
    inside = np.clip(np.minimum(t.done, end) - np.maximum(t.first, start), 0.0, None)
    share_tokens = np.where(gen > 0, inside / np.where(gen > 0, gen, 1.0), 0.0)
    first_in = ((t.first >= start) & (t.first <= end)).astype(float)
    tokens = first_in + (n_out - 1.0) * share_tokens
    life = np.maximum(t.done - t.arrival, 1e-30)
    share = np.clip(np.minimum(t.done, end) - np.maximum(t.arrival, start), 0.0, None) / life
    good = slo.met(ttft, tpot, e2e) if slo.given else None
    growth, saturated = _queue_growth(t, traffic)
    miss = None
    if good is not None and not good.all():
        miss = float(t.arrival[~good].min() - start)
    busy = float(t.step_s.sum())
    return ServingResult(
        traffic=traffic.label, requests=traffic.n, replicas=replicas,
        offered_rate=traffic.rate, concurrency=traffic.concurrency,
        ttft_s=stats(ttft), tpot_s=stats(tpot[np.isfinite(tpot)]), itl_s=weighted_stats(t.step_s, t.step_decodes),
        e2e_s=stats(e2e), queue_s=stats(t.admitted - t.arrival),
        output_tokens_per_s=float(tokens.sum() / span), input_tokens_per_s=float((t.input_len * share).sum() / span),
        requests_per_s=float(share.sum() / span), window_s=span,
        mean_running=float((t.step_s * t.step_decodes).sum() / busy) if busy > 0 else 0.0, steps=t.steps,
        slo=slo, goodput_requests_per_s=None if good is None else float(share[good].sum() / span),
        goodput_tokens_per_s=None if good is None else float(tokens[good].sum() / span),
        slo_met=None if good is None else float(good.mean()), first_slo_miss_s=miss,
        saturated=saturated, queue_growth_per_s=growth, kv_tokens=sched.kv_tokens, max_tokens=sched.max_tokens,
        max_seqs=sched.max_seqs, notes=notes, preemptions=t.preemptions,
        prefix_cache_hit=t.cached_tokens / t.prompt_tokens if t.prompt_tokens else 0.0,
        makespan_s=float(t.done.max()) - start)


def p99_meets(r: ServingResult, slo: Slo) -> bool:
    """Whether a run's p99 TTFT, TPOT and E2E are within ``slo`` (a target not given is met): MLPerf's Server
    validity test, and what ``plan --qps`` sizes a fleet by."""
    return ((slo.ttft is None or r.ttft_s["p99"] <= slo.ttft)
            and (slo.tpot is None or r.tpot_s.get("p99", 0.0) <= slo.tpot)
            and (slo.e2e is None or r.e2e_s["p99"] <= slo.e2e))


def _queue_growth(t: Timeline, traffic: Traffic) -> tuple[float, bool]:
    """(growth, saturated): requests/s by which the requests waiting for admission grow from the middle arrival to
    the last one, and whether that is the queue growing without bound: an open loop whose queue grows at more than
    2 % of the offered rate and by more than three standard deviations of a stable queue (3 sqrt(q) + 3)."""
    if traffic.arrivals is None or t.arrival.size < 4:
        return 0.0, False
    arr = np.sort(t.arrival)
    adm = np.sort(t.admitted)
    t_mid, t_end = float(arr[arr.size // 2]), float(arr[-1])
    if not t_end > t_mid:
        return 0.0, False

    def queued(at: float) -> int:
        return int(np.searchsorted(arr, at, side="right") - np.searchsorted(adm, at, side="right"))

    q_mid, q_end = queued(t_mid), queued(t_end)
    growth = (q_end - q_mid) / (t_end - t_mid)
    rate = traffic.rate or (arr.size - 1) / max(t_end - float(arr[0]), 1e-30)
    return growth, bool(growth > 0.02 * rate and q_end > q_mid + 3.0 * math.sqrt(q_mid) + 3.0)


def stats(x: Floats) -> dict[str, float]:
    """p50 / p90 / p99 (linear interpolation, docs/metrics.md "Percentiles") and the mean; {} for no values."""
    if x.size == 0:
        return {}
    p = np.percentile(x, PERCENTILES)
    return {**{f"p{q}": float(v) for q, v in zip(PERCENTILES, p, strict=True)}, "mean": float(x.mean())}


def weighted_stats(values: Floats, weights: Floats) -> dict[str, float]:
    """``stats`` of ``values`` each repeated ``weights`` times (whole numbers), without building the repeats."""
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    if values.size == 0:
        return {}
    order = np.argsort(values, kind="stable")
    v, cum = values[order], np.cumsum(weights[order])
    total = cum[-1]

    def at(rank: float) -> float:  # the value at 0-based position ``rank`` of the repeated, sorted list
        return float(v[min(int(np.searchsorted(cum, rank, side="right")), v.size - 1)])

    out = {}
    for q in PERCENTILES:
        pos = q / 100.0 * (total - 1.0)
        lo = math.floor(pos)
        a, b = at(lo), at(lo + 1)
        out[f"p{q}"] = a + (b - a) * (pos - lo)
    return {**out, "mean": float((values * weights).sum() / total)}

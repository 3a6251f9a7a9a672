"""The requests a serving simulation is offered: when they arrive and how long they are.

    Traffic.open(process, rate, n, input_len, output_len)   an open loop: arrivals by a process at ``rate``/s
        poisson     exponential gaps (coefficient of variation 1), independent users
        constant    equal gaps 1 / rate
        gamma:CV    gamma gaps of mean 1 / rate and coefficient of variation CV (shape 1 / CV^2; vLLM's
                    benchmark ``--burstiness`` is the shape); the same family as ``tcobench bench --arrival``
    Traffic.closed(concurrency, n, input_len, output_len)   a closed loop: ``concurrency`` users, each sending its
                    next request the moment the last one finishes
    read_trace(path)   a trace: one request per line, ``time_s,input_tokens,output_tokens`` (commas or spaces,
                    ``#`` comments, an optional header line), times from the start of the run, sorted
    traffic.with_lengths(input_dist, output_dist)   each request's lengths drawn from a distribution, in the syntax
                    of ``tcobench bench --input-len``: ``N``, ``LO..HI`` (uniform, whole numbers) or
                    ``normal:MEAN:SD`` (rounded, at least 1)
    traffic.with_prefix(share)   every prompt starts with the same prefix of ``share`` x the mean prompt (a system
                    prompt), which an engine with prefix caching computes once (``serving.simulate``)

The first request of an open loop arrives at 0, as ``tcobench bench`` sends its first at once. Arrivals are drawn
from NumPy's generator with ``seed``, so a simulation is reproducible. Times in seconds, lengths in tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from tcobench import checks
from tcobench.errors import InputError, close_matches, quote

PROCESSES = ("poisson", "constant", "gamma:CV")
_GAMMA = re.compile(r"gamma:([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)", re.ASCII)


@dataclass(frozen=True)
class Traffic:
    """``n`` requests: input and output lengths (tokens, int arrays), and either arrival times (s, sorted, an open
    loop or a trace) or a ``concurrency`` (a closed loop, arrivals made by completions). ``label`` describes it."""

    input_len: NDArray[np.int64]
    output_len: NDArray[np.int64]
    arrivals: NDArray[np.float64] | None
    concurrency: int | None
    label: str
    rate: float | None = None  # the offered rate of an open loop (requests/s); a trace's mean rate
    prefix_len: int = 0  # tokens at the start of every prompt that are the same in all of them (a system prompt)

    @property
    def n(self) -> int:
        return int(self.input_len.size)

    @classmethod
    def open(cls, process: str, rate: float, n: int, input_len: int, output_len: int, seed: int = 0) -> Traffic:
        """``n`` requests arriving at ``rate`` requests/s by ``process`` (``poisson``, ``constant``, ``gamma:CV``)."""
        rate = checks.positive(rate, "{rate}")
        n = checks.count(n, "{requests}")
        kind, cv = parse_process(process)
        rng = np.random.default_rng(seed)
        mean = 1.0 / rate
        if kind == "constant":
            gaps = np.full(n - 1, mean)
        elif kind == "poisson":
            gaps = rng.exponential(mean, n - 1)
        else:
            k = 1.0 / (cv * cv)
            gaps = rng.gamma(k, mean / k, n - 1)
        times = np.concatenate([[0.0], np.cumsum(gaps)])
        label = f"{rate:g} requests/s, {kind if kind != 'gamma' else f'gamma:{cv:g}'} arrivals"
        return cls(_lengths(input_len, n, "input_len"), _lengths(output_len, n, "output_len"), times, None, label, rate)

    @classmethod
    def closed(cls, concurrency: int, n: int, input_len: int, output_len: int) -> Traffic:
        """``n`` requests from ``concurrency`` users, each sending its next request when its last one finishes."""
        concurrency = checks.count(concurrency, "{concurrency}")
        n = checks.count(n, "{requests}")
        return cls(_lengths(input_len, n, "input_len"), _lengths(output_len, n, "output_len"), None, concurrency,
                   f"{concurrency} concurrent users (closed loop)")

    @classmethod
    def trace(cls, path: str | Path, where: str = "{arrivals}") -> Traffic:
        """The requests of a trace file (``read_trace``)."""
        times, n_in, n_out = read_trace(path, where)
        span = float(times[-1] - times[0])
        rate = (times.size - 1) / span if span > 0 else None
        return cls(n_in, n_out, times, None, f"trace {Path(path).name} ({times.size:,} requests)", rate)

    def split(self, replicas: int) -> list[Traffic]:
        """The traffic each of ``replicas`` replicas sees behind a round-robin balancer (request i to replica
        i mod replicas; a closed loop's users shared out as evenly as they go)."""
        if replicas <= 1:
            return [self]
        out = []
        for r in range(min(replicas, self.n)):
            idx = np.arange(r, self.n, replicas)
            users = None if self.concurrency is None else self.concurrency // replicas + (r < self.concurrency % replicas)
            if users == 0:
                continue
            times = None if self.arrivals is None else self.arrivals[idx]
            out.append(Traffic(self.input_len[idx], self.output_len[idx], times, users, self.label, self.rate,
                               self.prefix_len))
        return out

    def with_lengths(self, input_dist: str | None = None, output_dist: str | None = None, seed: int = 0) -> Traffic:
        """The same arrivals with each request's input and/or output length drawn from a distribution (``N``,
        ``LO..HI``, ``normal:MEAN:SD``; None keeps the lengths), reproducibly from ``seed``."""
        rng = np.random.default_rng([seed, 1])  # a stream apart from the arrivals' own
        n_in = self.input_len if input_dist is None else draw_lengths(input_dist, self.n, rng, "{input_dist}")
        n_out = self.output_len if output_dist is None else draw_lengths(output_dist, self.n, rng, "{output_dist}")
        parts = [f"{name} {spec.strip()}" for name, spec in (("input", input_dist), ("output", output_dist)) if spec is not None]
        label = self.label + (", lengths " + " / ".join(parts) if parts else "")
        return Traffic(n_in, n_out, self.arrivals, self.concurrency, label, self.rate, self.prefix_len)

    def with_prefix(self, share: float) -> Traffic:
        """The same requests, every prompt starting with one shared prefix of ``share`` (0 <= share < 1) x the mean
        prompt length, rounded down (a request shorter than the prefix shares all but its last token)."""
        share = checks.number(share, "{prefix_share}", low=0.0, high=1.0, high_open=True)
        prefix = int(share * float(self.input_len.mean()))
        label = self.label + (f", {prefix:,}-token shared prefix" if prefix else "")
        return Traffic(self.input_len, self.output_len, self.arrivals, self.concurrency, label, self.rate, prefix)


def parse_process(text: str, where: str = "{arrivals}") -> tuple[str, float]:
    """('poisson', 1) / ('constant', 0) / ('gamma', CV) from 'poisson', 'constant' or 'gamma:CV' (CV > 0)."""
    t = text.strip().lower()
    if t in ("poisson", "constant"):
        return t, 1.0 if t == "poisson" else 0.0
    if m := _GAMMA.fullmatch(t):
        cv = checks.number(float(m[1]), f"{where} {quote(text)}: the coefficient of variation", low=0.0, low_open=True)
        return "gamma", cv
    hint = close_matches(t, ("poisson", "constant", "gamma:2"))
    raise InputError(f"{where} {quote(text)} is neither an arrival process nor a file; expected poisson, constant, "
                     "gamma:CV (e.g. gamma:2) or the path of a trace file" + (f"; did you mean {hint[0]!r}?" if hint else ""),
                     params=(where[1:-1],) if where.startswith("{") else ())


def is_process(text: str) -> bool:
    """Whether ``text`` names an arrival process rather than a file."""
    t = text.strip().lower()
    return t in ("poisson", "constant") or t.startswith("gamma:")


def read_trace(path: str | Path, where: str = "{arrivals}") -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """(times s, input tokens, output tokens) of a trace file: one request per line, ``time_s,input,output``.
    Times finite, >= 0 and sorted; lengths whole numbers >= 1. InputError naming the file, the line and the value."""
    name = str(path)
    text = checks.read_text(path, "arrivals trace")
    times: list[float] = []
    n_in: list[int] = []
    n_out: list[int] = []
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [f for f in re.split(r"[,\s]+", line) if f]
        if not times and not n_in and not checks.is_number_text(fields[0]):
            continue  # a header
        at = f"arrivals trace {name!r} line {no}"
        if len(fields) != 3:
            raise InputError(f"{at}: {quote(line)} has {len(fields)} fields; expected time_s,input_tokens,output_tokens")
        t = checks.parse_number(fields[0], f"{at}: time", low=0.0)
        if times and t < times[-1]:
            raise InputError(f"{at}: time {fields[0]} is before the previous line's {times[-1]:g}; expected times "
                             "sorted from the start of the run (sort the file by its first column)")
        times.append(t)
        n_in.append(checks.parse_count(fields[1], f"{at}: input tokens"))
        n_out.append(checks.parse_count(fields[2], f"{at}: output tokens"))
    if not times:
        raise InputError(f"arrivals trace {name!r} has no requests; expected lines of time_s,input_tokens,output_tokens")
    return np.array(times), np.array(n_in, dtype=np.int64), np.array(n_out, dtype=np.int64)


_DIST = re.compile(r"(\d+)|(\d+)\s*\.\.\s*(\d+)|normal:(\d+):(\d+)", re.ASCII)


def draw_lengths(spec: str, n: int, rng: np.random.Generator, where: str = "{input_dist}") -> NDArray[np.int64]:
    """``n`` lengths (tokens) from ``spec``: ``N`` (all N), ``LO..HI`` (uniform whole numbers, both ends included)
    or ``normal:MEAN:SD`` (rounded, raised to 1), the syntax of ``tcobench bench --input-len``."""
    m = _DIST.fullmatch(spec.strip().lower()) if isinstance(spec, str) else None
    if m is None:
        raise InputError(f"{where} {quote(spec)}: expected a length distribution N, LO..HI or normal:MEAN:SD, e.g. 1000, "
                         "500..1500 or normal:1000:300", params=(where[1:-1],) if where.startswith("{") else ())
    fixed, lo, hi, mean, sd = m.groups()
    if fixed is not None:
        return np.full(n, checks.count(int(fixed), f"{where} {quote(spec)}: the length"), dtype=np.int64)
    if lo is not None:
        a = checks.count(int(lo), f"{where} {quote(spec)}: LO")
        b = checks.count(int(hi), f"{where} {quote(spec)}: HI", at_least=a)
        return rng.integers(a, b + 1, n).astype(np.int64)
    mu = checks.count(int(mean), f"{where} {quote(spec)}: the mean")
    return np.maximum(np.rint(rng.normal(mu, int(sd), n)), 1).astype(np.int64)


def _lengths(value: int, n: int, name: str) -> NDArray[np.int64]:
    return np.full(n, checks.count(value, f"{{{name}}}"), dtype=np.int64)

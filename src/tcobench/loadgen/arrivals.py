"""When an open loop sends: inter-arrival gaps for a target request rate.

- ``poisson``: exponential gaps (coefficient of variation 1), the usual model of independent users.
- ``constant``: equal gaps 1/rate.
- ``gamma:CV``: gamma-distributed gaps with mean 1/rate and coefficient of variation CV
  (shape k = 1/CV^2); CV > 1 is burstier than Poisson, CV < 1 smoother. CV 1 equals Poisson.
  vLLM's benchmark exposes the same family through its ``--burstiness`` = k.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

from tcobench.errors import InputError


@dataclass(frozen=True, slots=True)
class Arrival:
    kind: str  # "poisson" | "constant" | "gamma"
    cv: float = 1.0  # coefficient of variation of the gaps

    @classmethod
    def parse(cls, text: str, param: str = "arrival") -> Arrival:
        """'poisson', 'constant' or 'gamma:CV'. An error names ``param``, the parameter the text was given as."""
        t = text.strip().lower()
        if t in ("poisson", "constant"):
            return cls(t, 1.0 if t == "poisson" else 0.0)
        if m := re.fullmatch(r"gamma:([0-9]*\.?[0-9]+(?:e[-+]?\d+)?)", t):
            cv = float(m[1])
            if cv <= 0:
                raise InputError(f"{repr(text)} in {{{param}}}: the coefficient of variation must be > 0",
                                 params=(param,))
            return cls("gamma", cv)
        raise InputError(f"cannot read {repr(text)} in {{{param}}}; expected poisson, constant or gamma:CV "
                         "(e.g. gamma:2)", params=(param,))

    def gaps(self, rate: float, seed: int = 0) -> Iterator[float]:
        """Endless inter-arrival gaps in seconds, mean 1/rate; the first request goes at gap 0."""
        if not rate > 0:
            raise InputError(f"request rate must be > 0 requests/s, got {rate!r}")
        rng = random.Random(seed)
        mean = 1.0 / rate
        yield 0.0
        while True:
            if self.kind == "constant":
                yield mean
            elif self.kind == "poisson":
                yield rng.expovariate(rate)
            else:
                shape = 1.0 / (self.cv * self.cv)
                yield rng.gammavariate(shape, mean / shape)

    def __str__(self) -> str:
        return f"gamma:{self.cv:g}" if self.kind == "gamma" else self.kind


def offsets(arrival: Arrival, rate: float, seed: int = 0) -> Iterator[float]:
    """Endless send offsets in seconds from the start of the level (0, g1, g1+g2, ...)."""
    t = 0.0
    for gap in arrival.gaps(rate, seed):
        t += gap
        yield t

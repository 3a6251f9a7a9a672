"""What a derivation kind is and what it returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tcobench.claims.trace import Value
from tcobench.claims.verdict import Alternative, Bound
from tcobench.claims.work import Work


@dataclass(frozen=True, slots=True)
class Derived:
    """The derived value (the last step's result), whether it is a bound, and other readings; ``predicted``: the
    performance model's value for what was measured, shown beside a measured one (kind ``measured``)."""

    value: Value
    bound: Bound = None
    alternatives: tuple[Alternative, ...] = ()
    predicted: Value | None = None


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    summary: str
    derive: Callable[[Work], Derived]
    inputs: Mapping[str, str] = field(default_factory=dict)  # input name -> unit it is read in

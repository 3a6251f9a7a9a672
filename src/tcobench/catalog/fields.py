"""Pydantic field types that turn a catalog table ``{ value = "80 GB", source = "..." }`` into a Figure.

Each field names its unit, so the same parser checks "80 GB" is bytes, "3.35 TB/s" bytes per
second, and so on. Errors are raised as ValueError so pydantic attaches the key path to them.

A physical quantity whose zero means nothing (a capacity, a bandwidth, a peak, a power, a price, a chip count) must
be > 0, its low and high ends too: a chip with ``bandwidth = "0 TB/s"`` would predict an infinite time and a NaN
utilisation. Dimensionless numbers and durations may be 0 (a cost of capital, an overhead); their records check
their own ranges.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias

from pydantic import BeforeValidator

from tcobench import checks, units
from tcobench.errors import UnitError
from tcobench.records import Figure

_FIGURE_KEYS = {"value", "source", "note", "low", "high", "date", "direction"}
DIRECTIONS = ("per-direction", "bidirectional")


def _figure(raw: Any, *, unit: str, link: bool = False, dated: bool = False, integer: bool = False,
            positive: bool = False) -> Figure:
    if isinstance(raw, Figure):
        return raw
    if not isinstance(raw, dict):
        example = '{ value = "%s", source = "<source id>" }' % units._example(unit)
        raise ValueError(f"expected a table like {example}, got {raw!r}")
    extra = set(raw) - _FIGURE_KEYS
    if extra:
        from tcobench.errors import close_matches

        key = sorted(extra)[0]
        hint = close_matches(key, _FIGURE_KEYS)
        raise ValueError(f"unknown key {key!r}" + (f"; did you mean {hint[0]!r}?" if hint else f"; allowed: {', '.join(sorted(_FIGURE_KEYS))}"))
    for required in ("value", "source"):
        if required not in raw:
            raise ValueError(f"missing {required!r} in {raw!r}")
    source = raw["source"]
    if not isinstance(source, str) or not source.strip():
        raise ValueError(f"'source' must be a source id, got {source!r}")
    try:
        value = units.parse(raw["value"], unit)
        low = units.parse(raw["low"], unit) if "low" in raw else None
        high = units.parse(raw["high"], unit) if "high" in raw else None
    except UnitError as err:
        raise ValueError(str(err)) from err
    for key, v in (("value", value), ("low", low), ("high", high)):
        if v is not None and (v < 0 or (positive and v == 0)):
            kind = "is negative" if v < 0 else "is zero"
            what = "number" if unit == "1" else f"quantity in {unit}"
            raise ValueError(f"{key} {raw[key]!r} {kind}; expected a {'positive' if positive else 'non-negative'} {what}")
    if max(v for v in (value, low, high) if v is not None) > checks.MAX_FIGURE:
        raise ValueError(f"value {raw['value']!r} is implausibly large; expected at most {checks.MAX_FIGURE:g} {unit}")
    if integer and value != int(value):
        raise ValueError(f"value {raw['value']!r} must be a whole number")
    if integer and value > checks.MAX_COUNT:
        raise ValueError(f"value {raw['value']!r} is too large; expected at most {checks.MAX_COUNT:,}")
    if low is not None and low > value or high is not None and high < value:
        raise ValueError(f"range must satisfy low <= value <= high, got low={raw.get('low')!r} value={raw['value']!r} high={raw.get('high')!r}")
    date = raw.get("date")
    problem = checks.date_problem(date) if date is not None else None
    if problem is not None:
        raise ValueError(problem)
    if dated and date is None:
        raise ValueError("a price needs a 'date' (YYYY, YYYY-MM or YYYY-MM-DD)")
    direction = raw.get("direction")
    if link:
        if direction not in DIRECTIONS:
            raise ValueError(f"a link bandwidth needs direction = {' or '.join(repr(d) for d in DIRECTIONS)}, got {direction!r}")
        if direction == "bidirectional":  # stored per direction; the source's convention is kept
            value, low, high = value / 2, (low / 2 if low is not None else None), (high / 2 if high is not None else None)
    elif direction is not None:
        raise ValueError("'direction' is only for link bandwidths")
    return Figure(value=value, unit=unit, source=source.strip(), text=str(raw["value"]), note=raw.get("note"),
                  low=low, high=high, date=date, direction=direction)


def parser(unit: str, *, link: bool = False, dated: bool = False, integer: bool = False,
           positive: bool = False) -> BeforeValidator:
    """The pydantic validator that reads a Figure in ``unit`` (used in the ``Annotated`` aliases below)."""
    return BeforeValidator(lambda raw: _figure(raw, unit=unit, link=link, dated=dated, integer=integer,
                                               positive=positive))


Bytes: TypeAlias = Annotated[Figure, parser("B", positive=True)]
Bandwidth: TypeAlias = Annotated[Figure, parser("B/s", positive=True)]
LinkBandwidth: TypeAlias = Annotated[Figure, parser("B/s", link=True, positive=True)]
Flops: TypeAlias = Annotated[Figure, parser("FLOP/s", positive=True)]
Watts: TypeAlias = Annotated[Figure, parser("W", positive=True)]
Dollars: TypeAlias = Annotated[Figure, parser("USD", dated=True, positive=True)]
Count: TypeAlias = Annotated[Figure, parser("1", integer=True, positive=True)]
Number: TypeAlias = Annotated[Figure, parser("1")]
Seconds: TypeAlias = Annotated[Figure, parser("s")]

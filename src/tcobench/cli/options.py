"""Option types shared by commands: numbers that must be finite and in range, whole counts, durations and money
with units, integer lists and ranges, choices with hints.

Every flag that takes a number uses one of these instead of click's ``float`` / ``int`` / ``FloatRange``: those
accept ``nan`` and ``inf`` (``FloatRange(min=0)`` lets NaN through, as every comparison with NaN is false) and
digits of any script (``int('５')`` is 5). Here a number is ASCII, finite and in the flag's range, or the command
stops with one line that names the flag, the value and what was expected (tcobench.checks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from tcobench import checks, units
from tcobench.errors import InputError, close_matches, quote


class _Parsed(click.ParamType):  # type: ignore[type-arg]  # ParamType is generic only in click stubs newer than the pinned range
    """A click type that parses text with ``parse(text, flag)``; a value already of ``parsed`` type (a default)
    passes through. A bad value raises InputError naming the flag, which the CLI prints as its one line (exit 2)."""

    parsed: type | tuple[type, ...] = object

    def parse(self, text: str, flag: str) -> Any:
        raise NotImplementedError

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, self.parsed) and not isinstance(value, bool):
            return value
        return self.parse(str(value).strip(), _flag(param, self.name))


def _flag(param: click.Parameter | None, name: str) -> str:
    """The flag a value came in: its long option ('--tp'), an argument's name in capitals ('RUN_ID')."""
    if param is None:
        return name
    if isinstance(param, click.Argument):
        return (param.name or name).upper()
    long = [o for o in param.opts if o.startswith("--")]
    return (long or param.opts)[0]


class Count(_Parsed):
    """A whole number in [at_least, at_most] (default 1 to checks.MAX_COUNT): chips, tokens, requests."""

    name = "integer"
    parsed = int

    def __init__(self, at_least: int = 1, at_most: int = checks.MAX_COUNT) -> None:
        self.at_least, self.at_most = at_least, at_most

    def parse(self, text: str, flag: str) -> int:
        return checks.parse_count(text, flag, at_least=self.at_least, at_most=self.at_most)


class Number(_Parsed):
    """A finite real number within bounds: ``Number(low=0, low_open=True)`` is > 0, ``Number(0, 1)`` a fraction."""

    name = "number"
    parsed = (int, float)

    def __init__(self, low: float | None = None, high: float | None = None, *, low_open: bool = False,
                 high_open: bool = False) -> None:
        self.bounds: dict[str, Any] = dict(low=low, high=high, low_open=low_open, high_open=high_open)

    def parse(self, text: str, flag: str) -> float:
        return checks.parse_number(text, flag, **self.bounds)

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, int | float) and not isinstance(value, bool):  # a default: checked all the same
            return checks.number(value, _flag(param, self.name), **self.bounds)
        return super().convert(value, param, ctx)  # type: ignore[no-untyped-call]


class Duration(_Parsed):
    """'50ms', '0.2 s', '2s' -> seconds (float), > 0. A bare number is an error: say the unit."""

    name = "duration"
    parsed = float

    def parse(self, text: str, flag: str) -> float:
        return checks.positive(units.parse(text, "s", where=flag), flag)


class Money(_Parsed):
    """A price >= 0 in ``unit`` ('USD/h', 'USD'): a bare number ('2.49') or text with a unit ('$2.49/h')."""

    name = "price"
    parsed = float

    def __init__(self, unit: str) -> None:
        self.unit = unit

    def parse(self, text: str, flag: str) -> float:
        if checks.is_number_text(text):
            return checks.price(float(text), flag)
        si = units.parse(text, self.unit, where=flag)
        return checks.price(si, flag, f"{quote(text)} (= {si:g} {self.unit})")


DURATION = Duration()
COUNT = Count()


def positive_list(text: str, kind: Callable[[str], Any], flag: str) -> list[Any]:
    """'1,8,64' -> [1, 8, 64] with ``kind`` (int or float); every value finite and > 0 (InputError naming ``flag``)."""
    parts = [part for part in text.replace(" ", "").split(",") if part]
    if not parts:
        raise InputError(f"{flag} {quote(text)} holds no numbers; expected comma-separated numbers, e.g. 1,8,64")
    item = f"{flag} {quote(text)}: item" if len(parts) > 1 else flag
    if kind is int:
        return [checks.parse_count(p, item) for p in parts]
    return [checks.parse_number(p, item, low=0.0, low_open=True) for p in parts]


class IntList(_Parsed):
    """'1,2,4,8' -> (1, 2, 4, 8): positive integers, sorted, each once."""

    name = "N[,N...]"
    parsed = tuple

    def parse(self, text: str, flag: str) -> tuple[int, ...]:
        return tuple(sorted(set(positive_list(text, int, flag))))


INT_LIST = IntList()


class Choice(click.Choice):  # type: ignore[type-arg]
    """click's Choice, plus the closest choices when a value is not one ('runtime' -> 'runtimes')."""

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as err:
            hint = close_matches(str(value), [str(c) for c in self.choices])
            if not hint:
                raise
            self.fail(f"{err.message.rstrip('.')}; did you mean {', '.join(repr(h) for h in hint)}?", param, ctx)


def cluster_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--workers N (a local Dask cluster of N processes) and --scheduler ADDRESS (a running one; also
    TCOBENCH_SCHEDULER, read by the library). Both need the extra: pip install 'tcobench[distributed]'."""
    f = click.option("--scheduler", metavar="ADDRESS",
                     help="Run on a Dask cluster: its scheduler's address, e.g. tcp://10.0.0.5:8786; also "
                          "TCOBENCH_SCHEDULER. Needs tcobench[distributed].")(f)
    return click.option("--workers", type=Count(1, 1024),
                        help="Run on a local Dask cluster of this many worker processes (one thread each). "
                             "Needs tcobench[distributed].")(f)

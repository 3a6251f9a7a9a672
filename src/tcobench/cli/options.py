"""Option parsers shared by commands: durations with units, integer lists and ranges, choices with hints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from tcobench import units
from tcobench.errors import InputError, UnitError, close_matches


class _Parsed(click.ParamType):  # type: ignore[type-arg]  # ParamType is generic only in click stubs newer than the pinned range
    """A click type that parses text with ``parse(text, flag)``; a value already of ``parsed`` type (a default)
    passes through, and a parse error becomes click's usage error naming the flag."""

    parsed: type = object

    def parse(self, text: str, flag: str) -> Any:
        raise NotImplementedError

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, self.parsed):
            return value
        flag = "/".join(param.opts) if param is not None else self.name
        try:
            return self.parse(str(value).strip(), flag)
        except (UnitError, InputError) as err:
            self.fail(str(err), param, ctx)


class Duration(_Parsed):
    """'50ms', '0.2 s', '2s' -> seconds (float). A bare number is an error: say the unit."""

    name = "duration"
    parsed = float

    def parse(self, text: str, flag: str) -> float:
        return units.parse(text, "s", where=flag)


DURATION = Duration()


def positive_list(text: str, kind: Callable[[str], Any], flag: str) -> list[Any]:
    """'1,8,64' -> [1, 8, 64] with ``kind`` (int or float); every value must be > 0 (InputError naming ``flag``)."""
    try:
        values = [kind(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise InputError(f"cannot read {text!r} in {flag}; expected comma-separated numbers, e.g. 1,8,64") from None
    if not values or any(v <= 0 for v in values):
        raise InputError(f"{flag} {text!r}: every value must be > 0")
    return values


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

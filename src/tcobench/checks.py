"""Checks of what comes in from outside: numbers in range, whole counts, calendar dates, text files.

Every value a user gives (a flag, a keyword argument, a catalog or claim file) passes one of these where it
enters, so that NaN, infinity, a negative price, a bool where a count was meant, an impossible date or a file
that is not UTF-8 stops there with a message naming the input, never deeper as a traceback or a silent ``nan``.
``where`` names the input: a file and key ("hw.toml: hardware.x.memory.bandwidth") or a parameter as
``{name}``, which the CLI renders as its flag (errors.py); only a leading ``{name}`` is a parameter, so text quoted
after it ("{rate} '1,{x}': item") may hold braces.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any, TextIO

from tcobench.errors import InputError, quote

# The largest whole number a count (chips, tokens, layers, batch, requests) may be: far past any real deployment
# or model, and small enough that every product of a few counts stays exact in a float64 (2**53).
MAX_COUNT = 10**9
# The largest price, in US dollars per its unit (per chip, per hour, per 1M tokens, per joule): a trillion, far past
# any real one, so that products of prices and counts stay finite (a price of 1e308 overflowed to a cost of inf).
MAX_PRICE = 1e12
# The largest catalog figure in SI units (bytes, B/s, FLOP/s, W, USD): 10^30, for the same reason.
MAX_FIGURE = 1e30
_INT = re.compile(r"^\+?[0-9]+$", re.ASCII)
_FLOAT = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$", re.ASCII)
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$", re.ASCII)


def _params(where: str) -> tuple[str, ...]:
    """The parameter ``where`` starts with ('{rate} ...' -> ('rate',)); none for a file and key or a flag."""
    m = re.match(r"\{(\w+)\}", where)
    return (m[1],) if m else ()


def number(value: object, where: str, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, high_open: bool = False, shown: str | None = None) -> float:
    """``value`` as a float if it is a real, finite number within [low, high] (an open end with ``low_open`` /
    ``high_open``); else InputError naming ``where``, the value and the range expected. A bool is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where} {shown or quote(value)} is not a number; expected {describe_range(low, high, low_open, high_open)}",
                         params=_params(where))
    try:
        x = float(value)
    except OverflowError:  # an int past float range
        x = math.inf if value > 0 else -math.inf
    if not math.isfinite(x):
        raise InputError(f"{where} {shown or quote(value)} is not a finite number; expected {describe_range(low, high, low_open, high_open)}",
                         params=_params(where))
    if (low is not None and (x < low or (low_open and x == low))) or \
            (high is not None and (x > high or (high_open and x == high))):
        raise InputError(f"{where} {shown or quote(value)} is out of range; expected {describe_range(low, high, low_open, high_open)}",
                         params=_params(where))
    return x + 0.0  # -0.0 is 0.0 (a price of '-0' printed as '$-0')


def positive(value: object, where: str) -> float:
    """A finite number > 0 (a rate, a duration, a bandwidth)."""
    return number(value, where, low=0.0, low_open=True)


def non_negative(value: object, where: str) -> float:
    """A finite number >= 0 (a fraction that may be zero)."""
    return number(value, where, low=0.0)


def price(value: object, where: str, shown: str | None = None) -> float:
    """A price: a finite number from 0 to MAX_PRICE (US dollars per its unit)."""
    return number(value, where, low=0.0, high=MAX_PRICE, shown=shown)


def count(value: object, where: str, *, at_least: int = 1, at_most: int = MAX_COUNT) -> int:
    """A whole number (an int, not a bool or a float) in [at_least, at_most]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{where} {quote(value)} is not a whole number; expected one from {at_least:,} to {at_most:,}",
                         params=_params(where))
    if not at_least <= value <= at_most:
        raise InputError(f"{where} {quote(value)} is out of range; expected a whole number from {at_least:,} to {at_most:,}",
                         params=_params(where))
    return value


def parse_count(text: str, where: str, *, at_least: int = 1, at_most: int = MAX_COUNT) -> int:
    """'64' -> 64: ASCII digits only (not '６４', '1_000' or '1e3'), within [at_least, at_most]."""
    text = text.strip()
    if not _INT.match(text):
        raise InputError(f"{where} {quote(text)} is not a whole number; expected one from {at_least:,} to {at_most:,}",
                         params=_params(where))
    return count(int(text) if len(text) < 400 else 10**400, where, at_least=at_least, at_most=at_most)


def parse_number(text: str, where: str, **bounds: Any) -> float:
    """'0.5' -> 0.5: an ASCII decimal number (not 'nan', 'inf' or '０.５'), finite and within ``bounds`` (as
    ``number``'s keywords)."""
    text = text.strip()
    if not _FLOAT.match(text):
        raise InputError(f"{where} {quote(text)} is not a number; expected {describe_range(**bounds)}",
                         params=_params(where))
    return number(float(text), where, **bounds)


def is_number_text(text: str) -> bool:
    """Whether ``text`` is a plain ASCII decimal number ('2.49', '-1e3'), with no unit."""
    return bool(_FLOAT.match(text.strip()))


def describe_range(low: float | None = None, high: float | None = None, low_open: bool = False,
                   high_open: bool = False) -> str:
    """'a number >= 0 and <= 1', 'a finite number > 0': what ``number`` expects with these bounds."""
    if low is not None and high is not None:
        return f"a number {'>' if low_open else '>='} {low:g} and {'<' if high_open else '<='} {high:g}"
    if low is not None:
        return f"a finite number {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"a finite number {'<' if high_open else '<='} {high:g}"
    return "a finite number"


def date_problem(text: object) -> str | None:
    """Why ``text`` is not a date written YYYY, YYYY-MM or YYYY-MM-DD that exists on the calendar; None if it is."""
    m = _DATE.match(text) if isinstance(text, str) else None
    if m is None:
        return f"date {text!r} must be YYYY, YYYY-MM or YYYY-MM-DD (a string)"
    year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
    try:
        dt.date(year, month, day)
    except ValueError as err:
        return f"date {text!r} is not a calendar date ({err})"
    return None


def read_text(path: str | Path, what: str = "file") -> str:
    """The text of a UTF-8 file (a leading byte-order mark is dropped). InputError naming the file when it cannot
    be read, and naming the byte offset when it is not UTF-8."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise InputError(f"cannot read {what} {str(path)!r}: {err.strerror or err}") from err
    return decode(data, path, what)


def decode(data: bytes, path: str | Path, what: str = "file") -> str:
    """``data`` read from ``path`` as UTF-8, or InputError naming the file, the bad byte and its offset."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        bad = data[err.start:err.start + 1].hex()
        line = data.count(b"\n", 0, err.start) + 1
        raise InputError(f"{what} {str(path)!r} is not UTF-8 text: byte 0x{bad} at offset {err.start} (line {line}); "
                         "save it as UTF-8") from None


def open_output(path: str | Path, where: str) -> TextIO:
    """``path`` opened to write UTF-8 text, its folder created if missing; InputError naming ``where`` (a flag or
    ``{name}``) when the folder cannot be created or the file cannot be written."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"{where} {str(path)!r}: cannot create its folder {str(path.parent)!r} "
                         f"({err.strerror or err})", params=_params(where)) from err
    try:
        return path.open("w", newline="", encoding="utf-8")
    except OSError as err:
        raise InputError(f"{where} {str(path)!r}: cannot write it ({err.strerror or err})",
                         params=_params(where)) from err

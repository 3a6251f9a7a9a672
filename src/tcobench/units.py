"""Units at the edge: parse "3.35 TB/s" into SI floats and print floats back with units.

Inside tcobench every quantity is a float (or NumPy array) in base units: byte, second, FLOP, watt,
joule (W*s), US dollar. The unit table lives in ``units.txt`` (pint's definition format); bits and
bytes are different units of one dimension, so "400 Gb/s" parses to 5e10 B/s.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources
from typing import Any

from tcobench.errors import UnitError, params_in, quote


@contextmanager
def _dask_hidden() -> Iterator[None]:
    """Import pint without letting it import Dask.

    pint's ``compat`` module imports ``dask.base`` whenever Dask is installed (``find_spec("dask")``), to support
    quantities wrapping Dask arrays, which tcobench never makes. With the ``distributed`` extra installed that added
    about 80 ms to every command and broke the promise that a single-process run imports no Dask. A ``None`` in
    ``sys.modules`` makes ``find_spec`` answer "not installed" for the length of the import; the entry is removed
    afterwards, so ``import dask`` later in the process works as usual.
    """
    hide = "dask" not in sys.modules
    if hide:
        sys.modules["dask"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if hide and "dask" in sys.modules and sys.modules["dask"] is None:
            del sys.modules["dask"]


with _dask_hidden():
    import pint

_MONEY = re.compile(r"^\s*(-?)\$\s*([0-9][0-9,]*(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)\s*(.*)$")


@cache
def registry() -> pint.UnitRegistry[float]:
    path = resources.files("tcobench").joinpath("units.txt")
    with resources.as_file(path) as p:
        return pint.UnitRegistry(str(p), autoconvert_offset_to_baseunit=False)


def _normalise(text: str) -> str:
    """'$2.49/h' -> '2.49 USD/h'; '$33,600' -> '33600 USD'. Thousands separators are dropped."""
    m = _MONEY.match(text)
    if m:
        sign, number, rest = m.groups()
        rest = rest.strip()
        joiner = " USD " if rest and not rest.startswith("/") else " USD"
        text = f"{sign}{number.replace(',', '')}{joiner}{rest}"
    return re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)


# What a quantity may look like, in ASCII: a number, then a unit made of names (letters, 'µ'), powers ('^2',
# '**-1'), '/' and '*'; no brackets, nothing after it. pint's own parser is Python's tokenizer, which reads
# non-ASCII digits, brackets and trailing operators in ways that either crash or silently mean something else
# ("0.02 USD/ktoken(" read as 0.02 USD/ktoken), so text reaches it only in this shape.
_NUMBER = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_TERM = r"(?:[A-Za-zµ_][A-Za-z0-9µ_]*|1)(?:(?:\^|\*\*)-?[0-9]+)?"
_QUANTITY = re.compile(rf"^\s*{_NUMBER}\s*(?:(?:/\s*)?{_TERM}(?:\s*[/*]?\s*{_TERM})*)?\s*$", re.ASCII)


def _shape_problem(text: str) -> str | None:
    """Why ``text`` (normalised) is not a number followed by a unit; None if it is."""
    if _QUANTITY.match(text):
        return None
    for i, ch in enumerate(text):
        if ord(ch) > 127 and ch != "µ":
            return f"character {ch!r} (U+{ord(ch):04X}) at position {i} is not ASCII; write digits and units in ASCII"
    for i, ch in enumerate(text):
        if ch in "()[]{}":
            return f"{ch!r} at position {i}: brackets are not part of a quantity"
    if not re.match(rf"^\s*{_NUMBER}", text, re.ASCII):
        return "it does not start with a number"
    return "expected a number and then a unit, with nothing after it"


def parse(text: str | float | int, unit: str, *, where: str = "") -> float:
    """Parse ``text`` (e.g. "3.35 TB/s") and return its value in ``unit`` (e.g. "B/s") as a finite float.

    A bare number is accepted only when ``unit`` is dimensionless ("" or "1"). ``where`` names the
    file, key or flag the value came from, for the error message; a parameter as ``{name}``. Text is
    read strictly: ASCII digits, a number first, no brackets, nothing after the unit.
    """
    reg = registry()
    place = f" in {where}" if where else ""
    params = params_in(where)
    shown = quote(text)
    try:
        target = reg.Unit(unit or "dimensionless")
    except (pint.errors.PintError, ValueError, AttributeError, TypeError) as err:
        raise UnitError(f"unknown unit {unit!r} expected{place}", params=params) from err
    if isinstance(text, bool):
        raise UnitError(f"{shown}{place} is a boolean; expected a quantity in {unit}", params=params)
    if isinstance(text, int | float):
        if not target.dimensionless:
            raise UnitError(f"{shown}{place} has no unit; expected a quantity in {unit}, e.g. '{_example(unit)}'",
                            params=params)
        value = float(text) if not isinstance(text, int) or abs(text) < 2**1023 else math.inf
        if not math.isfinite(value):
            raise UnitError(f"{shown}{place} is not a finite number", params=params)
        return value
    if not isinstance(text, str):
        raise UnitError(f"{shown}{place} is not a quantity; expected text like '{_example(unit)}'", params=params)
    normal = _normalise(text)
    problem = _shape_problem(normal)
    if problem is not None:
        raise UnitError(f"cannot read {shown}{place} as a quantity: {problem}; expected {unit}, e.g. "
                        f"'{_example(unit)}'", params=params)
    try:
        q: Any = reg.Quantity(normal)
    except Exception as err:  # pint's parser is Python's tokenizer: anything it raises means "not a quantity"
        raise UnitError(f"cannot read {shown}{place} as a quantity ({' '.join(str(err).split())}); expected {unit}, e.g. '{_example(unit)}'",
                        params=params) from err
    if not isinstance(q, pint.Quantity):  # a bare number in a string
        q = reg.Quantity(float(q), "dimensionless")
    try:
        value = float(q.to(target).magnitude)
    except pint.errors.DimensionalityError as err:
        got = "no unit" if q.dimensionless else f"unit '{q.units:~}'"
        raise UnitError(f"{shown}{place} has {got}; expected a quantity in {unit}, e.g. '{_example(unit)}'",
                        params=params) from err
    except OverflowError as err:
        raise UnitError(f"{shown}{place} is not a finite number", params=params) from err
    if not math.isfinite(value):
        raise UnitError(f"{shown}{place} is not a finite number", params=params)
    return value


_EXAMPLES = {
    "B/s": "3.35 TB/s", "B": "80 GB", "FLOP/s": "989 TFLOP/s", "W": "700 W", "USD": "$30000",
    "USD/h": "$2.49/h", "USD/s": "$2.49/h", "s": "50 ms", "USD/J": "$0.10/kWh", "1": "8",
}


def _example(unit: str) -> str:
    return _EXAMPLES.get(unit, f"1 {unit}")


_PREFIXES = [(1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")]


def human(value: float | None, unit: str, digits: int = 3) -> str:
    """Format an SI value with a decimal prefix: human(3.35e12, "B/s") -> '3.35 TB/s'."""
    if value is None:
        return "unknown"
    if unit in ("USD", "$"):
        return f"${value:,.0f}" if abs(value) >= 100 else f"${value:.4g}"
    if unit == "USD/h":
        return f"${value:.4g}/h"
    if unit == "s":
        return _human_seconds(value, digits)
    mag = abs(value)
    for factor, prefix in _PREFIXES:
        if mag >= factor:
            return f"{value / factor:.{digits}g} {prefix}{unit}"
    return f"{value:.{digits}g} {unit}"


def _human_seconds(value: float, digits: int) -> str:
    mag = abs(value)
    if mag >= 1 or mag == 0:
        return f"{value:.{digits}g} s"
    if mag >= 1e-3:
        return f"{value * 1e3:.{digits}g} ms"
    return f"{value * 1e6:.{digits}g} µs"

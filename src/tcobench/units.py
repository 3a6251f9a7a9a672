"""Units at the edge: parse "3.35 TB/s" into SI floats and print floats back with units.

Inside tcobench every quantity is a float (or NumPy array) in base units: byte, second, FLOP, watt,
joule (W*s), US dollar. The unit table lives in ``units.txt`` (pint's definition format); bits and
bytes are different units of one dimension, so "400 Gb/s" parses to 5e10 B/s.
"""

from __future__ import annotations

import math
import re
from functools import cache
from importlib import resources
from typing import Any

import pint

from tcobench.errors import UnitError, params_in

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


def parse(text: str | float | int, unit: str, *, where: str = "") -> float:
    """Parse ``text`` (e.g. "3.35 TB/s") and return its value in ``unit`` (e.g. "B/s") as a float.

    A bare number is accepted only when ``unit`` is dimensionless ("" or "1"). ``where`` names the
    file, key or flag the value came from, for the error message; a parameter as ``{name}``.
    """
    reg = registry()
    place = f" in {where}" if where else ""
    try:
        target = reg.Unit(unit or "dimensionless")
    except (pint.errors.PintError, ValueError, AttributeError, TypeError) as err:
        raise UnitError(f"unknown unit {unit!r} expected{place}", params=params_in(where)) from err
    if isinstance(text, bool):
        raise UnitError(f"{text!r}{place} is a boolean; expected a quantity in {unit}", params=params_in(where))
    if isinstance(text, int | float):
        if target.dimensionless:
            return float(text)
        raise UnitError(f"{text!r}{place} has no unit; expected a quantity in {unit}, e.g. '{_example(unit)}'", params=params_in(where))
    try:
        q: Any = reg.Quantity(_normalise(text))
    except (pint.errors.PintError, ValueError, AttributeError, TypeError) as err:
        raise UnitError(f"cannot read {text!r}{place} as a quantity ({err}); expected {unit}, e.g. '{_example(unit)}'", params=params_in(where)) from err
    if not isinstance(q, pint.Quantity):  # a bare number in a string
        q = reg.Quantity(float(q), "dimensionless")
    try:
        value = float(q.to(target).magnitude)
    except pint.errors.DimensionalityError as err:
        got = "no unit" if q.dimensionless else f"unit '{q.units:~}'"
        raise UnitError(f"{text!r}{place} has {got}; expected a quantity in {unit}, e.g. '{_example(unit)}'", params=params_in(where)) from err
    if not math.isfinite(value):
        raise UnitError(f"{text!r}{place} is not a finite number", params=params_in(where))
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

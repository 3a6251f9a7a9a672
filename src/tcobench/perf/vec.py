"""The number type of the vectorised core, and the few NumPy functions it calls, fast on scalars too.

Every argument of the model may be a float or an array, and results broadcast over them. A sweep passes arrays
and pays NumPy's call overhead once per operator for millions of configurations; a single ``predict`` passes
scalars, where that overhead (about a microsecond per ``np.where``) is most of the cost. So ``scalar`` turns a
one-configuration input into a NumPy float64 scalar (NumPy's rules for division by zero and NaN, at the cost of
plain arithmetic), and ``where`` / ``maximum`` / ``minimum`` take the plain-Python branch when every argument
is such a scalar, with NumPy's semantics (NaN propagates).
"""

from __future__ import annotations

import math
from typing import Any, TypeAlias, cast

import numpy as np
from numpy.typing import NDArray

# A float or an ndarray of floats: the model's arguments and results broadcast over either. (A float64 scalar is a
# float.) ``Mask`` is the same for conditions: a bool or a bool array.
Vec: TypeAlias = float | NDArray[Any]
Mask: TypeAlias = bool | np.bool_ | NDArray[np.bool_]

_SCALARS = (float, int, np.floating, np.integer, np.bool_, bool)


def scalar(x: Any) -> Vec:
    """A float64 array of ``x``, or a float64 scalar when ``x`` holds one value and is not an array."""
    if isinstance(x, _SCALARS):
        return np.float64(x)
    return np.asarray(x, dtype=float)


def where(cond: Mask, a: Vec, b: Vec) -> Vec:
    if isinstance(cond, (bool, np.bool_)) and isinstance(a, _SCALARS) and isinstance(b, _SCALARS):
        return a if cond else b
    return cast(Vec, np.where(cond, a, b))


def maximum(a: Vec, b: Vec) -> Vec:
    if isinstance(a, _SCALARS) and isinstance(b, _SCALARS):
        if math.isnan(a) or math.isnan(b):
            return np.float64(math.nan)
        return a if a >= b else b
    return cast(Vec, np.maximum(a, b))


def minimum(a: Vec, b: Vec) -> Vec:
    if isinstance(a, _SCALARS) and isinstance(b, _SCALARS):
        if math.isnan(a) or math.isnan(b):
            return np.float64(math.nan)
        return a if a <= b else b
    return cast(Vec, np.minimum(a, b))


def isfinite(x: Vec) -> Mask:
    if isinstance(x, _SCALARS):
        return math.isfinite(x)
    return cast(Mask, np.isfinite(x))


def truthy(x: Vec | Mask) -> Mask:
    """``x != 0`` as a bool (a scalar) or a bool array."""
    if isinstance(x, _SCALARS):
        return bool(x)
    return cast(Mask, np.asarray(x) != 0)

"""Small frozen records shared by every layer: a sourced figure, a saved run, and the tabular mixin of results.

A ``Figure`` is one catalog number: its value in SI base units, the unit it is printed in, and where
it came from. ``None`` means unknown (never 0.0).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class Figure:
    """A number from a source. ``value`` is in SI base units (B, B/s, FLOP/s, W, USD, USD/s)."""

    value: float
    unit: str  # the unit it is shown in, e.g. "B/s"
    source: str  # a source id from the catalog ([source.<id>] tables)
    text: str = ""  # as written in the file, e.g. "900 GB/s"
    note: str | None = None
    low: float | None = None
    high: float | None = None
    date: str | None = None  # prices: when the price held
    direction: str | None = None  # link bandwidths: the source's convention, value is per direction

    @property
    def range(self) -> tuple[float, float, float]:
        """(low, likely, high); a figure without a stated range is its own range."""
        lo = self.value if self.low is None else self.low
        hi = self.value if self.high is None else self.high
        return (lo, self.value, hi)


class Provenance(StrEnum):
    CLAIMED = "claimed"
    PREDICTED = "predicted"
    MEASURED = "measured"


@dataclass(frozen=True, slots=True)
class Run:
    """One saved result of a command: what went in, what came out, and how it was obtained."""

    command: str  # "predict", "compare", "bench", "audit", ...
    provenance: Provenance
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    tool_version: str
    created: _dt.datetime = field(default_factory=lambda: _dt.datetime.now(_dt.UTC))
    label: str = ""
    id: int | None = None  # assigned by the store


class Tabular:
    """A result with rows: ``to_rows()`` (flat dicts) and ``to_pandas()`` (pandas is optional, imported here only)."""

    def to_rows(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def to_pandas(self) -> Any:
        """The rows as a ``pandas.DataFrame``; needs ``pip install pandas``, which tcobench does not install."""
        try:
            import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError as err:
            from tcobench.errors import MissingInputError

            raise MissingInputError("to_pandas() needs pandas, which tcobench does not install: pip install pandas") from err
        return pd.DataFrame(self.to_rows())

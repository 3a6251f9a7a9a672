"""Claim files: validated, frozen records of what a claim says and what it is about.

A claim file is TOML with ``[claim.<id>]`` tables and, optionally, ``[source.<id>]`` tables (the
catalog's Source schema) that claims cite::

    [claim.seed-deepspeed-175b-throughput]
    statement = "~74 teraflops on serving LM-175B (GPT-3), which is about 211 tok/s"
    source = "hn-chiplet-cloud-2023"
    date = "2023-07"
    kind = "throughput-from-flops"
    claimed = 211
    unit = "token/s"
    model = "gpt-3-175b"
    inputs = { achieved = "74 TFLOP/s" }

``inputs`` are the numbers the claim itself states, each a quantity ("74 TFLOP/s"), a table with its
own source (``{ value = "34.49 min", source = "<id>" }``) or the derived value of another claim
(``{ claim = "<id>" }``). Everything else the derivation needs comes from the catalog. Unknown keys
are errors with a close match.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pint
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tcobench import checks, units
from tcobench.catalog.formats import Precision

LINKS = ("scale_up", "scale_out", "external_io", "memory", "sram")


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Input(Record):
    """One number the claim states: a quantity with a unit, or another claim's derived value."""

    value: str | float | None = None
    claim: str | None = None  # use this claim's derived value
    source: str | None = None  # where this input comes from, when not the claim's own source
    note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare(cls, raw: Any) -> Any:
        if isinstance(raw, str | int | float) and not isinstance(raw, bool):
            return {"value": raw}
        return raw

    @model_validator(mode="after")
    def _one(self) -> Input:
        if (self.value is None) == (self.claim is None):
            raise ValueError("give exactly one of 'value' (a quantity, e.g. \"74 TFLOP/s\") or 'claim' (a claim id)")
        return self


class MeasuredRef(Record):
    """A saved run that measured the claimed number (``kind = "measured"``): the run's store id, the metric, and
    which of the run's load levels (``bench``: ``concurrency`` or ``rate``) or shapes (``measure``: ``batch`` and
    ``tokens``) it is. ``stat``: which summary of a latency (``bench``: mean or a percentile, p50 by default;
    ``measure``: ``best``, the fastest repetition as the command reports it, or ``p50``, the median)."""

    run: Annotated[int, Field(strict=True, ge=1)]
    metric: str
    stat: Literal["best", "mean", "p50", "p90", "p95", "p99"] | None = None
    concurrency: Annotated[int, Field(strict=True, ge=1, le=checks.MAX_COUNT)] | None = None
    rate: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    batch: Annotated[int, Field(strict=True, ge=1, le=checks.MAX_COUNT)] | None = None
    tokens: Annotated[int, Field(strict=True, ge=1, le=checks.MAX_COUNT)] | None = None


class Claim(Record):
    id: str
    statement: str = Field(min_length=1)  # the quoted words
    source: str  # a source id, from the claim file or the catalog
    date: str  # when the claim was made: YYYY, YYYY-MM or YYYY-MM-DD
    kind: str  # the derivation kind; checked against the registry by the loader
    # the number claimed, in ``unit``: finite and > 0 (every claim is a rate, a size, a time, a cost or a ratio; a 0
    # would leave nothing to compare against and divide by zero in the derivations that rebase it)
    claimed: Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)]
    unit: str  # the claim's own unit: "token/s", "USD/ktoken", "percent", "1" (a ratio)
    tolerance: Annotated[float, Field(strict=True, ge=0, lt=1, allow_inf_nan=False)] = 0.1  # relative
    # what the claim is about
    model: str | None = None
    hardware: str | None = None
    system: str | None = None
    baseline: str | None = None  # the hardware or system it is compared against
    chips: Annotated[int, Field(strict=True, ge=1, le=checks.MAX_COUNT)] | None = None
    precision: Precision | None = None
    density: Literal["dense", "sparse"] = "dense"
    link: Literal["scale_up", "scale_out", "external_io", "memory", "sram"] | None = None
    metric: str | None = None  # a catalog figure path ("peak_dense.bf16") or a prediction attribute
    runtime: str | None = None  # prediction claims: the catalog runtime (serving stack) the claim was measured on
    workload: str | None = None
    inputs: dict[str, Input] = Field(default_factory=dict)
    measured: MeasuredRef | None = None  # kind "measured": the saved run whose measurement the claim is judged against
    note: str | None = None
    origin: str = ""

    @field_validator("date")
    @classmethod
    def _date(cls, v: str) -> str:
        problem = checks.date_problem(v)
        if problem is not None:
            raise ValueError(problem)
        return v

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        known_unit(v)
        return v


def known_unit(unit: str) -> None:
    """Raise ValueError unless ``unit`` is in tcobench's unit table (units.txt)."""
    try:
        units.registry().Unit(unit)
    except (pint.errors.PintError, ValueError, AttributeError, TypeError) as err:
        raise ValueError(f"unknown unit {unit!r} ({err}); units are those of units.txt, e.g. 'token/s', "
                         "'USD/ktoken', 'percent', '1'") from err

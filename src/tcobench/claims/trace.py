"""The derivation trace: every value an audit uses, with its unit and where it came from.

A ``Value`` is one quantity in SI base units with the unit it is printed in and its source: a catalog
source id, ``"claim input"`` (a number the claim itself states), ``"derived"`` (a step's result) or
``"claim <id>"`` (the derived value of another claim), ``"default"`` (a value assumed because the claim
names none, e.g. one chip for a per-chip figure), or a definition. A ``Step`` is one line of arithmetic: its
formula, the Values that went in, and the Value that came out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tcobench import units

CLAIM_INPUT = "claim input"
_PLAIN = ("", "1", "s/h")
_SHOWN_AS = {"USD/s": ("USD/h", 3600.0), "USD/token": ("USD/Mtoken", 1e6)}
DERIVED = "derived"
DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class Value:
    """A quantity: ``value`` in SI base units of ``unit`` (e.g. 7.4e13 in "FLOP/s")."""

    name: str
    value: float
    unit: str
    source: str
    ref: str | None = None  # catalog path ("a100-sxm-80gb.peak_dense.bf16") or the input's own source id
    note: str | None = None
    written: str | None = None  # a claim input as the claim wrote it ("34.49 min")

    @property
    def text(self) -> str:
        if self.unit in _PLAIN:
            return f"{self.value:.4g}"
        if self.unit in _SHOWN_AS:  # $/s and $/token are unreadable; people quote $/h and $/1M tokens
            unit, factor = _SHOWN_AS[self.unit]
            return f"{self.value * factor:.4g} {unit}"
        return units.human(self.value, self.unit, digits=4)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "value": self.value, "unit": self.unit, "text": self.text,
                               "source": self.source}
        if self.ref:
            out["ref"] = self.ref
        if self.note:
            out["note"] = self.note
        if self.written:
            out["written"] = self.written
        return out


@dataclass(frozen=True, slots=True)
class Step:
    """One line of the derivation. ``context`` steps are shown but do not feed the verdict."""

    formula: str
    inputs: tuple[Value, ...]
    result: Value
    context: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"formula": self.formula, "inputs": [v.to_dict() for v in self.inputs],
                "result": self.result.to_dict(), "context": self.context}

"""The workspace a derivation writes into: it fetches inputs and catalog figures and records steps.

Every number a derivation uses goes through ``Work``: claim inputs (``input``), catalog figures
(``figure``, ``peak``), and results of arithmetic (``step``). So every number in the output has a
trace entry with its unit and source, and a missing input raises ``MissingInputError`` naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from tcobench import units
from tcobench.claims.measured import Measurement, RunGetter, measurement
from tcobench.claims.schema import Claim, MeasuredRef
from tcobench.claims.trace import CLAIM_INPUT, DEFAULT, DERIVED, Step, Value
from tcobench.catalog import Catalog, Hardware, Model, System
from tcobench.errors import InputError, MissingInputError, UnitError, quote

Resolver = Callable[[str, str], Value]  # (claim id, input name) -> that claim's derived Value


class Work:
    def __init__(self, claim: Claim, catalog: Catalog, resolve: Resolver, runs: RunGetter | None = None) -> None:
        self.claim, self.catalog, self._resolve, self._runs = claim, catalog, resolve, runs
        self.steps: list[Step] = []

    def measurement(self, ref: MeasuredRef) -> Measurement:
        """The number a saved run measured (``claims/measured.py``), read through the store getter handed in."""
        return measurement(ref, self.claim.id, self._runs)

    # ---- claim inputs -------------------------------------------------------------------------
    def has(self, name: str) -> bool:
        return name in self.claim.inputs

    def input(self, name: str, unit: str, *, what: str = "") -> Value:
        """The claim input ``name`` in ``unit`` (SI), > 0; MissingInputError if the claim does not give it, InputError
        if it is zero or negative (every input is a rate, a size, a time, a price or a count: a 0 means nothing and
        would divide by zero in the derivation)."""
        spec = self.claim.inputs.get(name)
        if spec is None:
            desc = f" ({what})" if what else ""
            raise MissingInputError(f"missing input {name!r}{desc}: add it under [claim.{self.claim.id}.inputs], "
                                    f"e.g. {name} = \"{units._example(unit)}\"")
        if spec.claim is not None:
            got = self._resolve(spec.claim, name)
            try:
                value = got.value * units.parse(f"1 {got.unit}", unit)
            except UnitError as err:
                raise UnitError(f"claim.{self.claim.id}.inputs.{name}: claim {spec.claim!r} derives {got.unit}; "
                                f"expected {unit}") from err
            return Value(name, value, unit, f"claim {spec.claim}", note=spec.note)
        where = f"{self.claim.origin}: claim.{self.claim.id}.inputs.{name}"
        value = units.parse(spec.value if spec.value is not None else "", unit, where=where)
        if not value > 0:
            raise InputError(f"{where} = {quote(spec.value)}: expected a positive quantity in {unit}")
        return Value(name, value, unit, CLAIM_INPUT, ref=spec.source or self.claim.source, note=spec.note,
                     written=str(spec.value))

    def claimed(self, unit: str) -> Value:
        """The claimed value itself, as an input (for derivations that rebase a claimed ratio)."""
        value = units.parse(f"{self.claim.claimed!r} {self.claim.unit}", unit, where=f"claim.{self.claim.id}.claimed")
        return Value("claimed", value, unit, CLAIM_INPUT, ref=self.claim.source)

    def chips(self, default_from: System | None = None, *, one_by_default: bool = False) -> Value:
        """The chip count: the claim's ``chips``, else the system's catalog figure, else one chip where the
        derivation is per chip (``one_by_default``), marked as a default in the trace."""
        if self.claim.chips is not None:
            return Value("chips", float(self.claim.chips), "1", CLAIM_INPUT, ref=self.claim.source)
        if default_from is not None:
            return self.figure(default_from, "chips", name="chips")
        if one_by_default:
            return Value("chips", 1.0, "1", DEFAULT, note="the claim names no chip count; per chip")
        raise MissingInputError(f"claim {self.claim.id!r} gives no 'chips' (and no 'system' to take them from)")

    # ---- catalog ------------------------------------------------------------------------------
    def _need(self, key: str, what: str) -> str:
        ref = getattr(self.claim, key)
        if ref is None:
            raise MissingInputError(f"claim {self.claim.id!r} names no {key!r} ({what})")
        return str(ref)

    def model(self) -> Model:
        return self.catalog.get_model(self._need("model", "a catalog model id"), where=f"claim.{self.claim.id}.model")

    def hardware(self) -> Hardware:
        if self.claim.hardware is None and self.claim.system is not None:
            return self.catalog.get_hardware(self.system().accelerator)
        name = self._need("hardware", "a catalog hardware id")
        return self.catalog.get_hardware(name, where=f"claim.{self.claim.id}.hardware")

    def system(self) -> System:
        return self.catalog.get_system(self._need("system", "a catalog system id"), where=f"claim.{self.claim.id}.system")

    def baseline_system(self) -> System:
        name = self._need("baseline", "the catalog system id it is compared with")
        return self.catalog.get_system(name, where=f"claim.{self.claim.id}.baseline")

    def baseline_hardware(self) -> Hardware:
        name = self._need("baseline", "the catalog hardware id it is compared with")
        return self.catalog.get_hardware(name, where=f"claim.{self.claim.id}.baseline")

    def figure(self, record: Hardware | System | Model, path: str, *, name: str = "") -> Value:
        """A catalog figure by dotted path, e.g. figure(h100, "memory.bandwidth")."""
        fig = record.figures().get(path)  # type: ignore[union-attr]
        if fig is None:
            raise MissingInputError(f"the catalog has no {record.id}.{path} (needed by claim {self.claim.id!r})")
        return Value(name or path, fig.value, fig.unit, fig.source, ref=f"{record.id}.{path}",
                     note=f"price date {fig.date}" if fig.date else None)

    def peak(self, hw: Hardware, precision: str, density: str = "dense") -> Value:
        """Per-chip peak at ``precision``; bf16 and fp16 stand in for each other (one tensor-core rate)."""
        table = "peak_dense" if density == "dense" else "peak_sparse"
        figures = hw.figures()
        for p in (precision, {"bf16": "fp16", "fp16": "bf16"}.get(precision, "")):
            if f"{table}.{p}" in figures:
                return self.figure(hw, f"{table}.{p}", name=f"{density} {precision} peak per chip")
        raise MissingInputError(f"the catalog has no {density} {precision} peak for {hw.id} (needed by claim {self.claim.id!r})")

    # ---- arithmetic ---------------------------------------------------------------------------
    def step(self, formula: str, name: str, value: float, unit: str, *inputs: Value, context: bool = False) -> Value:
        result = Value(name, float(value), unit, DERIVED)
        self.steps.append(Step(formula, tuple(inputs), result, context))
        return result

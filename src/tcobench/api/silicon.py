"""``design``: a chip described by its silicon -> its derived peaks, its area and its cost, as one document."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tcobench.api.inputs import catalog_or_default
from tcobench.catalog import Catalog, Hardware
from tcobench.cost.span import Span
from tcobench.silicon import Derived, design_of


@dataclass(frozen=True)
class DesignResult:
    """A design derived: what perf uses (the hardware figures) and what it costs (the breakdown, USD spans)."""

    derived: Derived

    def to_dict(self) -> dict[str, Any]:
        d = self.derived
        c = d.cost

        def span(s: Span | None) -> dict[str, float] | None:
            return None if s is None else dict(zip(("low", "likely", "high"), s.as_tuple(), strict=True))

        return {
            "design": d.design.id, "name": d.design.name, "file": d.design.origin, "node": d.node.id,
            "packaging": d.packaging.id, "dram": d.dram.id if d.dram else None, "dies": d.design.dies,
            "area_mm2": {"die": d.area.die * 1e6, "sram": d.area.sram * 1e6,
                         "macs": None if d.area.macs is None else d.area.macs * 1e6, "derived": d.area.derived},
            "dies_per_wafer": c.dies_per_wafer, "yield_negative_binomial": span(c.yield_nb),
            "yield_murphy": span(c.yield_murphy),
            "hardware": {path: {"value": f.value, "unit": f.unit, "text": f.text, "low": f.low, "high": f.high,
                                "source": f.source, "note": f.note} for path, f in d.hardware.figures().items()},
            "cost_usd": {name: span(s) for name, s, _ in c.rows()},
            "cost_how": {name: how for name, _, how in c.rows()},
            "packages_per_system": d.design.system.packages,
        }


def design(design: str, *, catalog: Catalog | None = None) -> DesignResult:
    """A design by catalog id or TOML file (``[design.<id>]``, docs/silicon.md): its derived hardware record and
    its cost per good die, package, chip and system, each (low, likely, high) in USD."""
    cat = catalog_or_default(catalog)
    return DesignResult(design_of(cat, str(design), where="{design}"))


def varied_hardware(cat: Catalog, hardware: list[Hardware], refs: list[str], vary: str | Sequence[str] | None
                    ) -> tuple[list[Hardware], list[tuple[str, str]]]:
    """``sweep --vary``: every design among ``refs`` (parallel to ``hardware``) replaced by its buildable variants;
    catalog chips pass through unchanged. Returns the hardware rows and the skipped variants (id, reason). An
    InputError names --vary when no hardware given is a design (there would be nothing to vary)."""
    from tcobench.errors import InputError
    from tcobench.silicon import is_design, load
    from tcobench.silicon.variants import parse_vary, variants

    specs = [vary] if isinstance(vary, str) else list(vary or [])
    if not specs:
        return hardware, []
    axes = parse_vary(specs, "{vary}")
    out: list[Hardware] = []
    skipped: list[tuple[str, str]] = []
    found = False
    for hw, ref in zip(hardware, refs, strict=True):
        if not is_design(cat, ref):
            out.append(hw)
            continue
        found = True
        if ref.endswith(".toml") or "/" in ref:
            spec, dcat = load(cat, Path(ref), "{hardware}")
        else:
            spec, dcat = cat.designs[ref.lower()], cat
        got = variants(spec, dcat, axes, "{vary}")
        out.extend(d.hardware for d in got.derived)
        skipped.extend(got.skipped)
    if not found:
        raise InputError("{vary} changes a design's silicon, but no {hardware} given is a design (a [design.<id>] id "
                         "or a TOML file with one)", params=("vary", "hardware"))
    if not out:
        raise InputError("{vary}: no variant can be built: " + "; ".join(f"{i}: {why}" for i, why in skipped[:3]),
                         params=("vary",))
    return out, skipped


def with_designs(cat: Catalog) -> Catalog:
    """The catalog with each of its designs derived into a hardware record, so that a claim (which reads hardware
    by id and never imports ``silicon``) can name a designed chip: the Chiplet Cloud claims name
    ``chiplet-cloud-die``. A design whose id a catalog chip already has is left out: the chip wins."""
    from dataclasses import replace

    from tcobench.silicon import derive

    if not cat.designs:
        return cat
    made = {k: derive(d, cat).hardware for k, d in cat.designs.items() if k not in cat.hardware}
    return replace(cat, hardware={**cat.hardware, **made})

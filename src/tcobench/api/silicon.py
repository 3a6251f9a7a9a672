"""``design``: a chip described by its silicon -> its derived peaks, its area and its cost, as one document."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tcobench.api.inputs import catalog_or_default
from tcobench.catalog import Catalog
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

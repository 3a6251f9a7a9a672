"""A design (``[design.<id>]``) -> the ``Hardware`` record the performance and cost models use, and its cost.

The package is the chip: its dense peaks are dies x MAC units x 2 FLOP x clock per precision; its memory is its
DRAM stacks, or, for an SRAM-only design, its SRAM (as the catalog's Groq and Graphcore entries do); its scale-up
link is the package-to-package bandwidth over ``links.domain`` packages, its scale-out link ``links.network``;
its power the given TDP or the node's energy per FLOP times the bf16 peak, plus its share of the server's other
power; its price the cost of one good package plus its shares of the NRE and of the server (cost/silicon.py).
Every figure's source is "design FILE" and its note the arithmetic that made it.

Physically impossible designs stop here (``CatalogError``, exit 2), naming the field, its value and the limit:
a die past the reticle, SRAM and MACs that do not fit the die at the node's densities, a die that yields no good
die on a wafer; so do figures a derivation needs and the data lacks (never a silent default).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tcobench import units
from tcobench.catalog import Catalog, Hardware
from tcobench.catalog.design import Design, Dram, Node, Packaging
from tcobench.catalog.schema import Link, Memory, Power, Price, Sram
from tcobench.cost.silicon import SiliconCost, silicon_cost
from tcobench.errors import CatalogError, MissingInputError, close_matches
from tcobench.records import Figure

FLOP_PER_MAC = 2  # a multiply and an add
MIN_GOOD_DIES = 1.0  # good dies per wafer below which a design "does not yield"


@dataclass(frozen=True)
class Area:
    """Where the die's area goes, m^2: what SRAM and MACs need at the node's likely densities, and the die."""

    sram: float
    macs: float | None  # None: the node has no compute density
    die: float
    derived: bool  # True: die area from the densities, not given


@dataclass(frozen=True)
class Derived:
    """A design with everything derived from it."""

    design: Design
    node: Node
    packaging: Packaging
    dram: Dram | None
    area: Area
    cost: SiliconCost
    hardware: Hardware


def derive(design: Design, catalog: Catalog) -> Derived:
    """The design's hardware record and cost; CatalogError on an impossible design or a missing figure."""
    where = f"{design.origin}: design.{design.id}"
    node = _pick(catalog.nodes, design.node, "node", where)
    pack = _pick(catalog.packagings, design.packaging, "packaging", where)
    dram = _pick(catalog.drams, design.dram.type, "dram.type", where) if design.dram is not None else None
    area = _area(design, node, where)
    if pack.kind != "wafer-scale" and area.die > node.reticle.value:
        raise CatalogError(f"{where}.die_area = {_mm2(area.die)} is larger than the reticle limit {_mm2(node.reticle.value)} "
                           f"of node {node.id} ({node.reticle.source}); split it into more dies or use wafer-scale packaging")
    cost = silicon_cost(design, node, pack, dram, area.die)
    good = cost.dies_per_wafer * float(cost.yield_nb.likely)
    if cost.dies_per_wafer < 1 or good < MIN_GOOD_DIES:
        raise CatalogError(f"{where}.die_area = {_mm2(area.die)} yields {max(good, 0.0):.2g} good dies per "
                           f"{units.human(node.wafer_diameter.value * 1e3, '')} mm wafer ({cost.dies_per_wafer:.3g} dies x "
                           f"{float(cost.yield_nb.likely):.2g} yield at {node.id}'s defect density); expected at least "
                           f"{MIN_GOOD_DIES:g}: a smaller die")
    if design.dies > 1 and design.links.die_to_die is None:
        raise MissingInputError(f"{where}.links.die_to_die is missing: a package of {design.dies} dies needs its "
                                "die-to-die bandwidth (per die, per direction), e.g. die_to_die = \"1 TB/s\"")
    if design.links.package is not None and design.links.domain is None:
        raise MissingInputError(f"{where}.links.domain is missing: how many packages the package links reach "
                                "(the scale-up domain), e.g. domain = 8")
    return Derived(design, node, pack, dram, area, cost, _hardware(design, node, pack, dram, area, cost, where))


R = TypeVar("R", Node, Packaging, Dram)


def _pick(table: Mapping[str, R], name: str, key: str, where: str) -> R:
    if name.lower() in table:
        return table[name.lower()]
    hint = close_matches(name, list(table))
    raise CatalogError(f"{where}.{key} = {name!r}: unknown; expected one of {', '.join(sorted(table)) or '(none)'}"
                       + (f"; did you mean {hint[0]!r}?" if hint else ""))


def _bf16_macs(design: Design) -> int | None:
    macs = {str(k): v for k, v in design.macs.items()}
    return macs.get("bf16", macs.get("fp16"))


def _area(design: Design, node: Node, where: str) -> Area:
    """The die's area, given or from the densities, checked against what its SRAM and MACs need."""
    sram = design.sram * node.sram_area.value
    macs_bf16 = _bf16_macs(design)
    peak = None if macs_bf16 is None else macs_bf16 * FLOP_PER_MAC * design.clock
    macs = None if peak is None or node.compute_area is None else peak * node.compute_area.value
    core = node.core_fraction.value if node.core_fraction is not None else None
    if design.die_area is None:
        missing = [name for name, v in (("node compute_area", node.compute_area), ("node core_fraction", core),
                                        ("macs.bf16", macs_bf16)) if v is None]
        if missing:
            raise MissingInputError(f"{where}.die_area is not given and cannot be derived: {node.id} or the design has no "
                                    f"{', '.join(missing)}; give die_area")
        assert macs is not None and core is not None  # checked just above
        return Area(sram, macs, (sram + macs) / core, True)
    # the least the SRAM and MACs can take: the node's lowest densities, the largest core share it states
    least = design.sram * node.sram_area.range[0] + (0.0 if peak is None or node.compute_area is None
                                                     else peak * node.compute_area.range[0])
    room = design.die_area * (node.core_fraction.range[2] if node.core_fraction is not None else 1.0)
    if least > room:
        share = (f" x core_fraction {node.core_fraction.range[2]:g}" if node.core_fraction is not None else "")
        raise CatalogError(
            f"{where}.sram = {units.human(design.sram, 'B')} does not fit: with the MACs it needs at least {_mm2(least)} "
            f"at {node.id}'s densities (SRAM {units.human(node.sram_area.range[0] * 1e12, '')} mm^2/MB"
            + (f", MACs {node.compute_area.range[0] * 1e18:.3g} mm^2/TFLOPS" if node.compute_area is not None and peak else "")
            + f"), more than die_area {_mm2(design.die_area)}{share} = {_mm2(room)}")
    return Area(sram, macs, design.die_area, False)


def _mm2(area_m2: float) -> str:
    return f"{area_m2 * 1e6:,.0f} mm^2"


def _hardware(design: Design, node: Node, pack: Packaging, dram: Dram | None, area: Area, cost: SiliconCost,
              where: str) -> Hardware:
    src = f"design {design.origin}"

    def fig(value: float, unit: str, note: str, **kw: object) -> Figure:
        text = f"{value:g}" if unit == "1" else units.human(value, unit)
        return Figure(value=value, unit=unit, source=src, text=text, note=f"derived: {note}", **kw)  # type: ignore[arg-type]

    clock = units.human(design.clock, "Hz")
    peaks = {p: fig(design.dies * n * FLOP_PER_MAC * design.clock, "FLOP/s",
                    f"{design.dies} dies x {n:,} {p} MACs x {FLOP_PER_MAC} FLOP x {clock}") for p, n in design.macs.items()}
    sram = Sram(capacity=fig(design.dies * design.sram, "B", f"{design.dies} dies x {units.human(design.sram, 'B')}"),
                bandwidth=fig(design.dies * design.sram_bandwidth, "B/s",
                              f"{design.dies} dies x {units.human(design.sram_bandwidth, 'B/s')}"))
    if design.dram is not None and dram is not None:
        n = design.dram.stacks
        memory = Memory(type=dram.name,
                        capacity=fig(n * dram.stack_capacity.value, "B", f"{n} stacks x {dram.stack_capacity.text} ({dram.id})"),
                        bandwidth=fig(n * dram.stack_bandwidth.value, "B/s", f"{n} stacks x {dram.stack_bandwidth.text} ({dram.id})"))
    else:  # SRAM-only: the weights and the KV cache live in SRAM, as for the catalog's Groq and GC200
        memory = Memory(type="on-chip SRAM (no DRAM)", capacity=sram.capacity, bandwidth=sram.bandwidth)
    links = design.links
    up = Link(name=f"package links ({links.topology or 'topology not given'})",
              bandwidth=fig(links.package, "B/s", "links.package, per package per direction", direction="per-direction")
              if links.package is not None else None,
              domain=fig(float(links.domain), "1", "links.domain") if links.domain is not None else None)
    out = Link(name="network", bandwidth=fig(links.network, "B/s", "links.network, per package per direction",
                                             direction="per-direction") if links.network is not None else None)
    power = Power(tdp=_tdp(design, node, dram, pack, where, fig))
    price = Price(purchase=_price(cost, design, node, src))
    notes = [f"Designed: {design.dies} x {_mm2(area.die)} dies on {node.name}"
             + (f", {design.dram.stacks} {dram.id} stacks" if design.dram is not None and dram is not None else ", SRAM only"),
             f"die-to-die {units.human(links.die_to_die, 'B/s')} per die" if links.die_to_die is not None else "",
             design.note or ""]
    return Hardware(id=design.id, name=design.name, vendor=design.vendor, kind=design.kind, peak_dense=peaks,
                    memory=memory, sram=sram, scale_up=up, scale_out=out, power=power, price=price,
                    note="; ".join(n for n in notes if n), origin=design.origin)


def _tdp(design: Design, node: Node, dram: Dram | None, pack: Packaging, where: str, fig: Callable[..., Figure]) -> Figure:
    server = (design.system.power or 0.0) / design.system.packages
    extra = f" + server power {units.human(design.system.power, 'W')} / {design.system.packages}" if design.system.power else ""
    if design.tdp is not None:
        return fig(design.tdp + server, "W", f"tdp {units.human(design.tdp, 'W')}{extra}")
    macs = _bf16_macs(design)
    if dram is not None or node.energy_per_flop is None or macs is None:
        why = ("a design with DRAM" if dram is not None else f"node {node.id} has no energy_per_flop" if node.energy_per_flop
               is None else "the design has no bf16 MACs")
        raise MissingInputError(f"{where}.tdp is missing and cannot be derived ({why}); give tdp, e.g. tdp = \"300 W\"")
    peak = design.dies * macs * FLOP_PER_MAC * design.clock
    watts = peak * node.energy_per_flop.value
    d2d, d2d_note = _die_to_die_watts(design, pack, where)
    return fig(watts + d2d + server, "W", f"bf16 peak {units.human(peak, 'FLOP/s')} x {node.energy_per_flop.text} ({node.id})"
               + d2d_note + extra)


def _die_to_die_watts(design: Design, pack: Packaging, where: str) -> tuple[float, str]:
    """The power of a package's die-to-die links running flat out: each die sending ``die_to_die`` bytes/s at the
    packaging's energy per byte (UCIe's published pJ/bit by package kind); none for a one-die package."""
    link = design.links.die_to_die
    if design.dies < 2 or link is None:
        return 0.0, ""
    energy = pack.die_to_die_energy
    if energy is None:
        raise MissingInputError(f"{where}.tdp is missing and cannot be derived: packaging {pack.id} has no "
                                "die_to_die_energy for the die-to-die links; give tdp, or the packaging's energy per bit")
    watts = design.dies * link * energy.value
    return watts, (f" + die-to-die {design.dies} dies x {units.human(link, 'B/s')} x {energy.value * 1e12 / 8:g}"
                   f" pJ/bit ({pack.id}) = {units.human(watts, 'W')}")


def _price(cost: SiliconCost, design: Design, node: Node, src: str) -> Figure:
    lo, mid, hi = cost.chip.as_tuple()
    date = max(d for d in (node.wafer_price.date, node.mask_set.date if node.mask_set else None, "2025") if d)
    return Figure(value=mid, unit="USD", source=src, text=f"${mid:,.0f}", low=lo, high=hi, date=date,
                  note=f"derived: good package ${float(cost.package.likely):,.0f} + NRE share ${float(cost.nre.likely):,.0f} "
                       f"+ server share ${float(cost.server_share.likely):,.0f} (tcobench design for the breakdown)")


def load(catalog: Catalog, path: Path, where: str = "design") -> tuple[Design, Catalog]:
    """The one design in ``path`` (a TOML file with one ``[design.<id>]``) and the catalog it was read with: the
    catalog's files and ``path``, so the file may define its own nodes, packagings and memories. CatalogError
    naming the file otherwise."""
    from tcobench.catalog.loader import _build

    if not path.is_file():
        raise CatalogError(f"{where} file {str(path)!r} does not exist")
    files = [Path(f) for f in catalog.files if Path(f).resolve() != path.resolve()] + [path]
    cat = _build(files)
    mine = [d for d in cat.designs.values() if Path(d.origin).resolve() == path.resolve()]
    if len(mine) != 1:
        raise CatalogError(f"{path}: expected exactly one [design.<id>] table, found {len(mine)}")
    return mine[0], cat

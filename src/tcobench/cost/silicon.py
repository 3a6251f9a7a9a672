"""What a chip costs to make, from its silicon: wafer, dies, yield, test, packaging, memory, NRE and server.

    dies_per_wafer(area, diameter)              whole dies on a round wafer, edge loss included
    negative_binomial_yield(area, d0, alpha)    share of good dies, clustered defects (the yield used for prices)
    repaired_yield(area, d0, alpha, ...)        the same with spare cores repairing defects (wafer-scale parts)
    murphy_yield(area, d0)                      Murphy's model, shown beside it as a cross-check
    silicon_cost(...) -> SiliconCost            $ per good die, per good package, per chip as bought, per system

Formulas (areas in m^2, defect densities per m^2):

- Dies per wafer, d the wafer diameter and A the die area: pi (d/2)^2 / A - pi d / sqrt(2 A) (the second term is
  the partial dies lost at the edge; Hennessy and Patterson, Computer Architecture: A Quantitative Approach,
  section 1.6, whose 216 mm^2 Sandy Bridge example gives 282 against 280 whole dies on the real wafer).
- Negative binomial yield (Stapper): (1 + D0 A / alpha)^-alpha; Murphy: ((1 - exp(-D0 A)) / (D0 A))^2.
- With spare cores (``redundancy``): P(defects in the core array <= spare cores) x the yield of the rest of the
  die, the defects negative-binomial with mean D0 x array area. A wafer-scale die is one per wafer: its yield is
  not Murphy's or Stapper's over the whole area (which is ~0), but the chance that its spares cover its defects.
- Cost per good die: wafer price / (dies per wafer x yield), times (1 + the node's test fraction) for the
  known-good-die test. A package: its dies, its DRAM stacks and the packaging, divided by the assembly yield
  (a package that fails takes its good dies with it). A chip as bought adds its share of the NRE (the node's mask
  set plus the design's own NRE, over the volume) and of its server (board, power, chassis, NIC).

Every figure is a ``Span``: the low end takes every input at its cost-minimising end (lowest wafer price and
defect density, the clustering that yields most), the high end the opposite; every formula here is monotone in
each input, so the ends are exact (span.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tcobench.catalog.design import Design, Dram, Node, Packaging
from tcobench.cost.span import Span
from tcobench.records import Figure


def dies_per_wafer(area: float, diameter: float) -> float:
    """Whole dies of ``area`` m^2 on a wafer of ``diameter`` m, edge loss included (may be < 1: none fit)."""
    return math.pi * (diameter / 2) ** 2 / area - math.pi * diameter / math.sqrt(2 * area)


def negative_binomial_yield(area: float, d0: float, alpha: float) -> float:
    """Share of good dies: (1 + D0 A / alpha)^-alpha; ``d0`` defects per m^2, ``area`` m^2."""
    return float((1.0 + d0 * area / alpha) ** -alpha)


def repaired_yield(area: float, d0: float, alpha: float, *, cores: int, spare_cores: int, core_area: float) -> float:
    """Share of dies good after repair by spare cores (Cerebras, "100x Defect Tolerance", 2025): a defect in the
    core array disables one core, so the die is good when the array holds at most ``spare_cores`` defects and the
    rest of the die (``area`` - cores x core_area, if any) none.

    The negative binomial is a Poisson whose rate varies from die to die (gamma, shape alpha, mean D0): given the
    rate both regions are Poisson, so P(good) = sum over k <= spares of E[e^(-rate A) (rate A_array)^k / k!], whose
    terms run t_0 = (1 + D0 A / alpha)^-alpha (``negative_binomial_yield`` of the whole die: no spares, no repair) and
    t_(k+1) = t_k (k + alpha) / (k + 1) x D0 A_array / (alpha + D0 A)."""
    array = min(cores * core_area, area)
    if d0 * array == 0:
        return negative_binomial_yield(area, d0, alpha)
    k = np.arange(spare_cores, dtype=float)
    step = np.log((k + alpha) / (k + 1.0)) + math.log(d0 * array / (alpha + d0 * area))
    logt = -alpha * math.log1p(d0 * area / alpha) + np.concatenate(([0.0], np.cumsum(step)))
    return float(min(np.exp(logt).sum(), 1.0))


def murphy_yield(area: float, d0: float) -> float:
    """Murphy's yield ((1 - exp(-D0 A)) / (D0 A))^2; 1 for a defect-free process."""
    x = d0 * area
    return 1.0 if x == 0 else float(((1.0 - math.exp(-x)) / x) ** 2)


@dataclass(frozen=True)
class SiliconCost:
    """The breakdown, per package unless named: each a Span in USD (yields and counts are plain numbers)."""

    die_area: float  # m^2
    dies_per_wafer: float
    yield_nb: Span  # negative binomial: low, likely, high yield
    yield_murphy: Span
    wafer: Span  # one wafer
    good_die: Span  # per good, tested die
    dies: Span  # the package's dies
    dram: Span  # its DRAM stacks
    packaging: Span  # substrate or interposer and assembly
    assembly_loss: Span  # good parts lost in packages that fail assembly
    package: Span  # per good package: dies + dram + packaging + loss
    nre: Span  # per package: (mask set + design NRE) / volume
    mask_set: Span | None  # the node's, None where the node data has none
    server_share: Span  # the server's cost (board, power, chassis, NIC) / packages per server
    chip: Span  # per package as bought: package + nre + server share
    system: Span  # one server: chip x packages

    def rows(self) -> list[tuple[str, Span | None, str]]:
        """(item, span, how) for a breakdown table, in the order the sum is built."""
        return [("wafer", self.wafer, "one processed wafer"),
                ("good die", self.good_die, f"wafer / ({self.dies_per_wafer:.1f} dies x yield) x (1 + test)"),
                ("dies", self.dies, "dies per package x good die"),
                ("dram", self.dram, "stacks x GB per stack x $/GB"),
                ("packaging", self.packaging, "per package + per die + interposer area"),
                ("assembly loss", self.assembly_loss, "(dies + dram + packaging) x (1 / assembly yield - 1)"),
                ("package", self.package, "per good package"),
                ("mask set", self.mask_set, "the node's, once"),
                ("nre", self.nre, "(mask set + design NRE) / volume, per package"),
                ("server share", self.server_share, "server cost / packages per server"),
                ("chip", self.chip, "package + nre + server share: the price per chip"),
                ("system", self.system, "chip x packages per server")]


def _span(fig: Figure | None) -> Span:
    return Span.point(0.0) if fig is None else Span.from_figure(fig)


def silicon_cost(design: Design, node: Node, packaging: Packaging, dram: Dram | None, die_area: float) -> SiliconCost:
    """The cost breakdown of ``design`` with dies of ``die_area`` m^2 (module docstring for the formulas)."""
    d0, alpha = node.defect_density.range, node.clustering.range
    dpw = _dies_per_wafer(die_area, node.wafer_diameter.value, packaging)
    # yield at the cost-minimising end (fewest defects, most clustered), likely, and the cost-maximising end
    nb = Span.of(*(_yield(design, die_area, d, a) for d, a in ((d0[2], alpha[2]), (d0[1], alpha[1]), (d0[0], alpha[0]))))
    murphy = Span.of(murphy_yield(die_area, d0[2]), murphy_yield(die_area, d0[1]), murphy_yield(die_area, d0[0]))
    wafer = Span.from_figure(node.wafer_price)
    test = _span(node.test_fraction)
    good_die = Span(wafer.low / (dpw * nb.high) * (1 + test.low), wafer.likely / (dpw * nb.likely) * (1 + test.likely),
                    wafer.high / (dpw * nb.low) * (1 + test.high))
    dies = good_die.scale(design.dies)
    mem = Span.point(0.0)
    if dram is not None and design.dram is not None:
        mem = Span.from_figure(dram.price).scale(design.dram.stacks * dram.stack_capacity.value)
    pkg = _add(_span(packaging.per_package), _span(packaging.per_die).scale(design.dies),
               _span(packaging.per_area).scale(design.dies * die_area))
    parts = _add(dies, mem, pkg)
    ay = Span.from_figure(packaging.assembly_yield)
    package = Span(parts.low / ay.high, parts.likely / ay.likely, parts.high / ay.low)
    loss = Span(package.low - parts.low, package.likely - parts.likely, package.high - parts.high)
    masks = None if node.mask_set is None else Span.from_figure(node.mask_set)
    nre = _add(masks or Span.point(0.0), Span.point(design.nre)).per(design.volume)
    server = Span.point(design.system.cost / design.system.packages)
    chip = _add(package, nre, server)
    return SiliconCost(die_area, dpw, nb, murphy, wafer, good_die, dies, mem, pkg, loss, package, nre, masks, server, chip,
                       chip.scale(design.system.packages))


def _dies_per_wafer(area: float, diameter: float, packaging: Packaging) -> float:
    """A wafer-scale die is the wafer: one per wafer while it fits the wafer's area (0 past it); else the formula."""
    if packaging.kind == "wafer-scale":
        return 1.0 if area <= math.pi * (diameter / 2) ** 2 else 0.0
    return dies_per_wafer(area, diameter)


def _yield(design: Design, area: float, d0: float, alpha: float) -> float:
    """Negative binomial, or with the design's spare cores the repaired yield (which is never lower)."""
    r = design.redundancy
    if r is None:
        return negative_binomial_yield(area, d0, alpha)
    return repaired_yield(area, d0, alpha, cores=r.cores, spare_cores=r.spare_cores, core_area=r.core_area)


def _add(*spans: Span) -> Span:
    return Span(np.sum([s.low for s in spans], axis=0), np.sum([s.likely for s in spans], axis=0),
                np.sum([s.high for s in spans], axis=0))

"""A chip described by its silicon, and the sourced process data that turn it into peaks and dollars.

Four catalog tables (``catalog/data/silicon/*.toml`` ship the sourced ones; a user's design file holds the last):

- ``[node.<id>]`` a process node: wafer price, wafer size, defect density and its clustering, SRAM and compute area
  per unit, energy per FLOP, the reticle limit, the mask set and the cost of testing a die. Sourced ``Figure``s.
- ``[packaging.<id>]`` a way to put dies in a package: organic substrate, 2.5D interposer (CoWoS), wafer-scale;
  what it costs per package, per die and per mm^2 of interposer, and the share of packages that come out good.
- ``[dram.<id>]`` a stacked memory (HBM3, HBM3e): capacity and bandwidth per stack and price per byte.
- ``[design.<id>]`` the chip: a node, a packaging, dies per package, die area (or the densities give it), clock,
  MAC units per precision, SRAM and its bandwidth per die, DRAM stacks or none, links, power, NRE and volume, and
  the server it goes in. Its numbers are the designer's choices, written with units ("900 MB", "1 GHz"), not
  sourced figures: the design file is their source. ``silicon.derive`` turns it into a ``Hardware`` record.

Every quantity is in SI units once read (m^2, B, B/s, 1/s, W, USD); checks of one field against another that
need the node (the reticle, SRAM that must fit the die) are made by ``silicon.derive``, which knows the node.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from pydantic import BeforeValidator, Field, model_validator

from tcobench import checks, units
from tcobench.catalog.fields import Bandwidth, Bytes, Dollars, Number, parser
from tcobench.catalog.formats import Precision
from tcobench.catalog.schema import Record, WithFigures
from tcobench.errors import UnitError
from tcobench.records import Figure

# Sourced figures of the process tables, each in its SI unit.
Length: TypeAlias = Annotated[Figure, parser("m", positive=True)]
Area: TypeAlias = Annotated[Figure, parser("m^2", positive=True)]
PerArea: TypeAlias = Annotated[Figure, parser("1/m^2", positive=True)]  # defects per m^2
AreaPerByte: TypeAlias = Annotated[Figure, parser("m^2/B", positive=True)]  # SRAM macro area per byte
AreaPerFlops: TypeAlias = Annotated[Figure, parser("m^2*s/FLOP", positive=True)]  # compute area per FLOP/s
EnergyPerFlop: TypeAlias = Annotated[Figure, parser("J/FLOP", positive=True)]
EnergyPerByte: TypeAlias = Annotated[Figure, parser("J/B", positive=True)]  # written per bit ("0.5 pJ/bit") or byte
DollarsPerArea: TypeAlias = Annotated[Figure, parser("USD/m^2", dated=True, positive=True)]
DollarsPerByte: TypeAlias = Annotated[Figure, parser("USD/B", dated=True, positive=True)]
Fraction: TypeAlias = Number


class Node(WithFigures):
    """A process node's economics and densities (one foundry's, e.g. TSMC N7)."""

    id: str
    name: str
    wafer_price: Dollars  # one processed wafer
    wafer_diameter: Length
    defect_density: PerArea  # D0, killer defects per area
    clustering: Number  # alpha of the negative-binomial yield model (smaller: more clustered, higher yield)
    sram_area: AreaPerByte  # SRAM macro area per byte (bit cells, periphery and redundancy)
    compute_area: AreaPerFlops | None = None  # MAC-array area per dense bf16 FLOP/s
    energy_per_flop: EnergyPerFlop | None = None  # chip power per dense bf16 FLOP/s (a TDP model)
    core_fraction: Fraction | None = None  # the share of a die that SRAM and MACs fill (the rest: I/O, control)
    reticle: Area  # the largest die one exposure prints
    mask_set: Dollars | None = None
    test_fraction: Fraction | None = None  # known-good-die test, as a fraction of the die's cost
    note: str | None = None
    origin: str = ""

    @model_validator(mode="after")
    def _fractions(self) -> Node:
        for name in ("core_fraction", "test_fraction"):
            fig: Figure | None = getattr(self, name)
            if fig is not None and any(not 0 <= v <= 1 for v in fig.range):
                raise ValueError(f"{name} = {fig.text}: a fraction; expected from 0 to 1")
        if self.core_fraction is not None and min(self.core_fraction.range) == 0:
            raise ValueError(f"core_fraction = {self.core_fraction.text}: must be more than 0")
        return self


class Packaging(WithFigures):
    """A way to package dies, and what it costs: per package, per die placed, per m^2 of interposer."""

    id: str
    name: str
    kind: Literal["organic", "interposer", "wafer-scale"]
    per_package: Dollars | None = None
    per_die: Dollars | None = None
    per_area: DollarsPerArea | None = None  # silicon interposer, per m^2 of dies it carries
    die_to_die_energy: EnergyPerByte | None = None  # energy to move a byte between dies of one package
    assembly_yield: Fraction
    note: str | None = None
    origin: str = ""

    @model_validator(mode="after")
    def _yield(self) -> Packaging:
        if any(not 0 < v <= 1 for v in self.assembly_yield.range):
            raise ValueError(f"assembly_yield = {self.assembly_yield.text}: a share of packages; expected more than 0 "
                             "and at most 1")
        if self.per_package is None and self.per_die is None and self.per_area is None:
            raise ValueError("give at least one of per_package, per_die, per_area (what packaging costs)")
        return self


class Dram(WithFigures):
    """A stacked DRAM (HBM): one stack's capacity and bandwidth, and its price per byte."""

    id: str
    name: str
    stack_capacity: Bytes
    stack_bandwidth: Bandwidth
    price: DollarsPerByte
    note: str | None = None
    origin: str = ""


def _quantity(unit: str, *, integer: bool = False) -> BeforeValidator:
    """A design value: text with a unit ("900 MB"), read into ``unit``; > 0 and finite."""

    def read(raw: object) -> float:
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise ValueError(f"expected text with a unit, e.g. '{units._example(unit)}'")
        try:
            value = units.parse(raw, unit)
        except UnitError as err:
            raise ValueError(str(err)) from err
        if not value > 0:
            raise ValueError(f"{raw!r} must be more than 0")
        if value > checks.MAX_FIGURE:
            raise ValueError(f"{raw!r} is implausibly large; expected at most {checks.MAX_FIGURE:g} {unit}")
        return value

    return BeforeValidator(read)


SiArea: TypeAlias = Annotated[float, _quantity("m^2")]
SiHertz: TypeAlias = Annotated[float, _quantity("1/s")]
SiBytes: TypeAlias = Annotated[float, _quantity("B")]
SiBandwidth: TypeAlias = Annotated[float, _quantity("B/s")]
SiWatts: TypeAlias = Annotated[float, _quantity("W")]
SiDollars: TypeAlias = Annotated[float, _quantity("USD")]
Units: TypeAlias = Annotated[int, Field(strict=True, ge=1, le=checks.MAX_COUNT)]


class DesignDram(Record):
    type: str  # a [dram.<id>]
    stacks: Units


class DesignLinks(Record):
    """Per-direction bandwidths. ``die_to_die``: per die, inside the package; ``package``: per package to the
    other packages of its scale-up domain (``domain`` packages, ``topology``); ``network``: per package beyond it."""

    die_to_die: SiBandwidth | None = None
    package: SiBandwidth | None = None
    domain: Units | None = None
    topology: Literal["all-to-all", "ring", "torus-2d", "torus-3d", "switch"] | None = None
    network: SiBandwidth | None = None


class DesignRedundancy(Record):
    """Spare cores that repair defects (Cerebras' wafer-scale approach): ``cores`` identical cores per die of
    ``core_area`` each, of which ``spare_cores`` may be lost to defects and the die still sold whole."""

    cores: Units
    spare_cores: Annotated[int, Field(strict=True, ge=0, le=checks.MAX_COUNT)]
    core_area: SiArea

    @model_validator(mode="after")
    def _spares(self) -> DesignRedundancy:
        if self.spare_cores >= self.cores:
            raise ValueError(f"spare_cores = {self.spare_cores} must be fewer than cores = {self.cores}")
        return self


class DesignSystem(Record):
    """The server the packages go in: how many, and what the rest of it (board, power, chassis, NIC) costs."""

    packages: Units
    cost: SiDollars
    power: SiWatts | None = None  # the rest of the server's power (fans, host, NIC), W


class Design(Record):
    """A chip described by its silicon (module docstring); per die unless a name says otherwise."""

    id: str
    name: str
    vendor: str = "designed"
    kind: Literal["asic", "lpu", "ipu", "wafer", "tpu", "gpu"] = "asic"
    node: str  # a [node.<id>]
    packaging: str  # a [packaging.<id>]
    dies: Units  # per package
    die_area: SiArea | None = None  # None: from SRAM and MAC area at the node's densities
    clock: SiHertz
    macs: dict[Precision, Units]  # MAC units per die at each precision; one MAC is 2 FLOP per cycle
    sram: SiBytes
    sram_bandwidth: SiBandwidth
    dram: DesignDram | None = None
    redundancy: DesignRedundancy | None = None  # spare cores: the yield counts dies repairable by them as good
    links: DesignLinks = DesignLinks()
    tdp: SiWatts | None = None  # per package; None: from the node's energy per FLOP (SRAM-only designs)
    volume: Units  # packages made, over which the NRE is amortised
    nre: SiDollars  # design, verification, IP and software, masks excluded (the node's mask_set is added)
    system: DesignSystem
    note: str | None = None
    origin: str = ""

    @model_validator(mode="after")
    def _macs(self) -> Design:
        if not self.macs:
            raise ValueError("macs names no precision; expected e.g. macs = { bf16 = 65536 }")
        return self

"""A design's variants: the same chip with some of its silicon changed, one derived chip per combination.

``sweep --vary sram=100MB,200MB,400MB --vary dies=1,2`` turns one design into the cartesian product of those
values (``hbm=none,hbm3x4``: SRAM only, or 4 HBM3 stacks per package); each variant is derived and priced as a design of its own (derive.py), so its peaks, capacity, power and
price follow from the change (a bigger SRAM is a bigger die, a lower yield and a dearer chip), and the deployment
search then runs every variant as one more hardware row, in the same vectorised pass as any catalog chip. A
variant that cannot be built (past the reticle, no good die, several dies without a die-to-die link) is not
silently dropped: it comes back in ``skipped`` with the reason ``derive`` gives.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tcobench import checks, units
from tcobench.catalog import Catalog
from tcobench.catalog.design import Design, DesignDram
from tcobench.errors import CatalogError, InputError, MissingInputError, UnitError, close_matches, params_in
from tcobench.silicon.derive import Derived, derive

# what --vary may change: key -> (path in the design, kind); "quantity" values carry a unit, read as the design reads it
AXES: dict[str, tuple[tuple[str, ...], str]] = {
    "sram": (("sram",), "quantity"),
    "sram_bandwidth": (("sram_bandwidth",), "quantity"),
    "clock": (("clock",), "quantity"),
    "die_area": (("die_area",), "quantity"),
    "dies": (("dies",), "count"),
    "node": (("node",), "name"),
    "packaging": (("packaging",), "name"),
    "packages": (("system", "packages"), "count"),
    "hbm": (("dram",), "hbm"),  # 'none', or a [dram.<id>] and stacks: 'hbm3x4'
    "tdp": (("tdp",), "quantity"),
}
UNITS = {"sram": "B", "sram_bandwidth": "B/s", "clock": "1/s", "die_area": "m^2", "tdp": "W"}  # the design schema's units
MAX_VARIANTS = 4096  # each variant is derived and priced one by one (cheap, but not vectorised)


@dataclass(frozen=True)
class Variants:
    """The variants that could be built (derived) and those that could not, with why: (variant id, reason)."""

    derived: tuple[Derived, ...]
    skipped: tuple[tuple[str, str], ...]


def parse_vary(specs: Sequence[str], where: str = "vary") -> dict[str, list[str]]:
    """['sram=100 MB,200 MB', 'dies=1,2'] -> {'sram': ['100 MB', '200 MB'], 'dies': ['1', '2']}; InputError naming
    ``where`` for a key --vary cannot change, a repeated key or a key without values."""
    out: dict[str, list[str]] = {}
    for spec in specs:
        key, sep, values = spec.partition("=")
        key = key.strip().lower().replace("-", "_")
        if not sep or key not in AXES:
            hint = close_matches(key, list(AXES))
            raise InputError(f"{where} {spec!r}: expected KEY=V1,V2,... with KEY one of {', '.join(AXES)}"
                             + (f"; did you mean {hint[0]!r}?" if hint else ""), params=params_in(where))
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not vals or key in out:
            raise InputError(f"{where} {spec!r}: " + ("no values; expected e.g. sram=100MB,200MB" if not vals
                                                       else f"{key} is given twice; put all its values in one {where}"),
                             params=params_in(where))
        out[key] = vals
    return out


def variants(design: Design, catalog: Catalog, vary: Mapping[str, Sequence[str]], where: str = "vary") -> Variants:
    """Every combination of ``vary``'s values applied to ``design``, each derived; InputError for a value the design
    schema refuses (naming the key and value) or for more than MAX_VARIANTS combinations. A design that gives its
    die area keeps it: a larger SRAM that no longer fits that area is skipped with derive's reason."""
    keys = list(vary)
    total = 1
    for k in keys:
        total *= len(vary[k])
    if total > MAX_VARIANTS:
        raise InputError(f"{where}: {total:,} design variants; expected at most {MAX_VARIANTS:,} (fewer values per key)",
                         params=params_in(where))
    _known(catalog, vary, where)
    derived: list[Derived] = []
    skipped: list[tuple[str, str]] = []
    for combo in itertools.product(*(vary[k] for k in keys)):
        changes = dict(zip(keys, combo, strict=True))
        variant = _apply(design, changes, where)
        try:
            derived.append(derive(variant, catalog))
        except (CatalogError, MissingInputError) as err:
            skipped.append((variant.id, str(err)))
    return Variants(tuple(derived), tuple(skipped))


def _known(catalog: Catalog, vary: Mapping[str, Sequence[str]], where: str) -> None:
    """A node, packaging or memory that is not in the catalog is a typo to name (InputError, did you mean), not a
    variant that "cannot be built"."""
    tables = {"node": catalog.nodes, "packaging": catalog.packagings, "hbm": catalog.drams}
    for key, table in tables.items():
        for value in vary.get(key, ()):
            name = value.rpartition("x")[0] if key == "hbm" else value
            if key == "hbm" and value.lower() == "none" or not name or name.lower() in table:
                continue
            hint = close_matches(name, list(table))
            raise InputError(f"{where} {key}={value!r}: unknown {'memory' if key == 'hbm' else key} {name!r}; expected one "
                             f"of {', '.join(sorted(table))}" + (f"; did you mean {hint[0]!r}?" if hint else ""),
                             params=params_in(where))


def variant_id(design_id: str, changes: Mapping[str, str]) -> str:
    """'chiplet-cloud-die(sram=100MB,dies=2)': the design's id and what changed, spaces dropped (no square
    brackets: a terminal table would read them as markup)."""
    shown = ",".join(f"{k}={v}".replace(" ", "") for k, v in changes.items())
    return f"{design_id}({shown})"


def _apply(design: Design, changes: Mapping[str, str], where: str) -> Design:
    """The design with ``changes`` made; each value read the way the design file's own value is (units, > 0)."""
    update: dict[str, Any] = {}
    system: dict[str, Any] = {}
    for key, value in changes.items():
        path, kind = AXES[key]
        parsed = _value(key, value, kind, where)
        (system if path[0] == "system" else update)[path[-1]] = parsed
    if system:
        update["system"] = design.system.model_copy(update=system)
    update["id"] = variant_id(design.id, changes)
    update["name"] = f"{design.name} ({', '.join(f'{k} {v}' for k, v in changes.items())})"
    return design.model_copy(update=update)


def _value(key: str, value: str, kind: str, where: str) -> object:
    if kind == "name":
        return value
    if kind == "hbm":  # HBM or not: 'none', or '<dram id>x<stacks>'
        if value.lower() == "none":
            return None
        kind_id, sep, stacks = value.rpartition("x")
        if not sep or not kind_id or not stacks.isdigit() or int(stacks) < 1:
            raise InputError(f"{where} {key}={value!r}: expected 'none' or a memory and its stacks per package, e.g. "
                             f"{key}=none,hbm3x4", params=params_in(where))
        return DesignDram(type=kind_id, stacks=int(stacks))
    if kind == "count":
        if not value.isdigit() or not 1 <= int(value) <= checks.MAX_COUNT:
            raise InputError(f"{where} {key}={value!r}: expected a whole number from 1 to {checks.MAX_COUNT:,}, "
                             f"e.g. {key}=1,2,4", params=params_in(where))
        return int(value)
    try:
        parsed = units.parse(value, UNITS[key])
    except UnitError as err:
        raise InputError(f"{where} {key}={value!r}: {err}", params=params_in(where)) from err
    if not 0 < parsed <= checks.MAX_FIGURE:
        raise InputError(f"{where} {key}={value!r}: expected more than 0", params=params_in(where))
    return parsed

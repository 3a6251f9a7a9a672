"""Chips described by their silicon: a ``[design.<id>]`` -> the ``Hardware`` record perf, cost and search use.

    design_of(catalog, ref) -> Derived        a design by catalog id or file, derived (derive.py)
    hardware_of(catalog, ref) -> Hardware | None   the same, as hardware; None when ``ref`` names no design
    is_design(catalog, ref) -> bool            whether ``ref`` names a design (an id, or a file with a [design])

perf, cost and search never import this package: a designed chip reaches them as a plain ``Hardware`` record.
"""

from __future__ import annotations

from pathlib import Path

from tcobench.catalog import Catalog, Hardware
from tcobench.silicon.derive import FLOP_PER_MAC, Area, Derived, derive, load

__all__ = ["FLOP_PER_MAC", "Area", "Derived", "derive", "design_of", "hardware_of", "is_design", "load"]


def _is_path(ref: str) -> bool:
    return ref.endswith(".toml") or "/" in ref


def is_design(catalog: Catalog, ref: str) -> bool:
    """``ref`` is a design id of the catalog (and no hardware id), or a TOML file holding a ``[design.<id>]``."""
    if _is_path(ref):
        path = Path(ref)
        if not path.is_file():
            return False
        from tcobench.catalog.loader import read_toml

        return "design" in read_toml(path)
    return ref.lower() in catalog.designs and ref.lower() not in catalog.hardware


def design_of(catalog: Catalog, ref: str, where: str = "design") -> Derived:
    """A design by catalog id or file, derived; CatalogError / UnknownIdError naming ``where`` otherwise."""
    if _is_path(ref):
        design, cat = load(catalog, Path(ref), where)
        return derive(design, cat)
    from tcobench.errors import UnknownIdError

    if ref.lower() not in catalog.designs:
        raise UnknownIdError("design", ref, catalog.designs, where)
    return derive(catalog.designs[ref.lower()], catalog)


def hardware_of(catalog: Catalog, ref: str, where: str = "hardware") -> Hardware | None:
    """The hardware a design derives, or None when ``ref`` names no design (a catalog chip, say)."""
    return design_of(catalog, ref, where).hardware if is_design(catalog, ref) else None

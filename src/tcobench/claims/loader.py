"""Read claim files into validated Claims; collect every problem instead of stopping at the first.

A bad claim (unknown key, unknown unit, unknown kind or input name, undefined source) becomes an
``Invalid`` entry with a precise message, and the other claims in the file still load.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tcobench.claims.kinds import REGISTRY
from tcobench.claims.schema import Claim, Input
from tcobench.catalog import Catalog, Source
from tcobench.catalog.loader import _describe, read_toml
from tcobench.catalog.schema import ID
from tcobench.errors import CatalogError, InputError, close_matches

TABLES = ("claim", "source")


@dataclass(frozen=True, slots=True)
class Invalid:
    """A claim (or a whole file) that could not be read; ``id`` is empty for file-level problems."""

    id: str
    file: str
    message: str


@dataclass(frozen=True)
class ClaimSet:
    claims: tuple[Claim, ...]
    sources: Mapping[str, Source]
    invalid: tuple[Invalid, ...] = ()


def builtin_dir() -> Path:
    return Path(str(resources.files("tcobench.claims").joinpath("data")))


def claim_files(paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*.toml") if f.is_file()))
        elif p.is_file():
            out.append(p)
        else:
            raise CatalogError(f"claim file {str(p)!r} does not exist")
    return out


def load_claims(paths: Iterable[str | Path], catalog: Catalog) -> ClaimSet:
    """Claims and sources from the given files (or folders of .toml files)."""
    raw_claims: list[tuple[Path, str, Any]] = []
    sources: dict[str, Source] = {}
    invalid: list[Invalid] = []
    for path in claim_files(paths):
        doc = _read(path, invalid)
        for table, entries in doc.items():
            if table not in TABLES:
                hint = close_matches(table, TABLES)
                invalid.append(Invalid("", str(path), f"{path}: unknown table [{table}]; expected [claim.<id>] or "
                                       "[source.<id>]" + (f"; did you mean [{hint[0]}]?" if hint else "")))
                continue
            if not isinstance(entries, dict):
                invalid.append(Invalid("", str(path), f"{path}: {table} = {entries!r}: expected tables like [{table}.<id>]"))
                continue
            for rid, raw in entries.items():
                if isinstance(raw, dict) and raw and all(isinstance(v, dict) for v in raw.values()) and not (
                        set(raw) & set((Claim if table == "claim" else Source).model_fields)):
                    sub = next(iter(raw))
                    invalid.append(Invalid("", str(path), f"{path}: [{table}.{rid}.{sub}]: TOML split an id containing "
                                           f"'.' into nested tables; quote the id: [{table}.\"{rid}.{sub}\"]"))
                elif table == "source":
                    _source(path, rid, raw, sources, invalid)
                else:
                    raw_claims.append((path, rid, raw))
    known_sources = {**catalog.sources, **sources}
    claims: dict[str, Claim] = {}
    for path, rid, raw in raw_claims:
        claim = _claim(path, rid, raw, known_sources, invalid)
        if claim is None:
            continue
        if claim.id in claims:
            invalid.append(Invalid(claim.id, str(path), f"{path}: claim.{claim.id}: defined twice (also in {claims[claim.id].origin})"))
            continue
        claims[claim.id] = claim
    return ClaimSet(tuple(claims.values()), sources, tuple(invalid))


def _read(path: Path, invalid: list[Invalid]) -> dict[str, Any]:
    try:
        return read_toml(path)
    except InputError as err:
        invalid.append(Invalid("", str(path), str(err)))
    return {}


def _source(path: Path, rid: str, raw: Any, sources: dict[str, Source], invalid: list[Invalid]) -> None:
    try:
        sources[rid] = Source.model_validate({**(raw if isinstance(raw, dict) else {"title": raw}), "id": rid})
    except ValidationError as err:
        for e in err.errors():
            invalid.append(Invalid("", str(path), _describe(e, Source, "source", rid, path)))


def _explain(e: Any, rid: str, path: Path) -> str:
    """pydantic's error as 'file: claim.<id>.<key>: problem', with a close match for unknown keys."""
    loc = [str(x) for x in e["loc"]]
    if e["type"] == "extra_forbidden" and len(loc) == 3 and loc[0] == "inputs":  # a key inside one input's table
        fields = list(Input.model_fields)
        hint = close_matches(loc[-1], fields)
        return (f"{path}: claim.{rid}.{'.'.join(loc)}: unknown key"
                + (f"; did you mean {hint[0]!r}?" if hint else f"; expected one of {', '.join(fields)}"))
    return _describe(e, Claim, "claim", rid, path)


def _claim(path: Path, rid: str, raw: Any, sources: Mapping[str, Source], invalid: list[Invalid]) -> Claim | None:
    def bad(msg: str) -> None:
        invalid.append(Invalid(rid, str(path), f"{path}: claim.{rid}{msg}"))

    if not ID.match(rid):
        bad(": id must be lower-case letters, digits, '.' and '-'")
        return None
    if not isinstance(raw, dict):
        bad(f" = {raw!r}: expected a table")
        return None
    try:
        claim = Claim.model_validate({**raw, "id": rid, "origin": str(path)})
    except ValidationError as err:
        for e in err.errors():
            invalid.append(Invalid(rid, str(path), _explain(e, rid, path)))
        return None
    kind = REGISTRY.get(claim.kind)
    if kind is None:
        hint = close_matches(claim.kind, REGISTRY)
        bad(f".kind = {claim.kind!r}: unknown derivation kind" + (f"; did you mean {hint[0]!r}?" if hint
                                                                   else f"; expected one of {', '.join(REGISTRY)}"))
        return None
    ok = True
    if (claim.measured is None) == (claim.kind == "measured"):
        bad(".measured: only kind 'measured' cites a saved run" if claim.measured is not None else
            ": kind 'measured' needs measured = { run = <id>, metric = \"tpot_s\" } (a saved bench or measure run)")
        ok = False
    for name in claim.inputs:
        if name not in kind.inputs:
            hint = close_matches(name, kind.inputs)
            expected = f"; did you mean {hint[0]!r}?" if hint else (
                f"; kind {kind.name!r} takes {', '.join(kind.inputs)}" if kind.inputs else f"; kind {kind.name!r} takes no inputs")
            bad(f".inputs.{name}: unknown input{expected}")
            ok = False
    refs = {"source": claim.source} | {f"inputs.{n}.source": i.source for n, i in claim.inputs.items() if i.source}
    for key, src in refs.items():
        if src not in sources:
            hint = close_matches(src, sources)
            bad(f".{key} = {src!r}: not defined in a [source.<id>] table of the claim files or the catalog"
                + (f"; did you mean {hint[0]!r}?" if hint else ""))
            ok = False
    return claim if ok else None


__all__ = ["ClaimSet", "Input", "Invalid", "builtin_dir", "load_claims"]

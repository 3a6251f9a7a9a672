"""``tcobench catalog list|show|lint``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from tcobench import units
from tcobench.catalog import Catalog, Hardware, Model, System
from tcobench.catalog.loader import builtin_dir, user_paths
from tcobench.catalog.loader import lint as lint_files
from tcobench.catalog.params import count_params
from tcobench.catalog.schema import Runtime
from tcobench.cli.context import Context, pass_context
from tcobench.cli.options import Choice
from tcobench.cli.render import console, print_json, table
from tcobench.errors import CatalogError
from tcobench.records import Figure

KINDS = ("hardware", "systems", "models", "runtimes")


@click.group()
def catalog() -> None:
    """Accelerators, systems and models, with every figure's source."""


@catalog.command("list")
@click.argument("kind", required=False, type=Choice(KINDS))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def list_(ctx: Context, kind: str | None, as_json: bool) -> None:
    """List catalog entries (all kinds, or one of hardware|systems|models|runtimes)."""
    cat = ctx.catalog
    kinds = (kind,) if kind else KINDS
    rows = {k: [_summary(r, cat) for r in _records(cat, k)] for k in kinds}
    if as_json:
        print_json(rows[kind] if kind else rows)
        return
    out = console()
    for k in kinds:
        if not rows[k]:
            continue
        cols = list(rows[k][0])
        out.print(table(k, cols, ([_cell(v) for v in r.values()] for r in rows[k])))
        out.print()


def _records(cat: Catalog, kind: str) -> list[Any]:
    table_ = {"hardware": cat.hardware, "systems": cat.systems, "models": cat.models, "runtimes": cat.runtimes}[kind]
    return [table_[k] for k in sorted(table_)]


def _cell(v: Any) -> str:
    return "" if v is None else str(v)


def _summary(r: Hardware | System | Model | Runtime, cat: Catalog) -> dict[str, Any]:
    if isinstance(r, Runtime):
        return {"id": r.id, "name": r.name, "decode_attention": r.decode_attention,
                "context_attention": r.context_attention, "source": r.source}
    if isinstance(r, Hardware):
        bf16 = r.peak("bf16")
        return {"id": r.id, "name": r.name, "vendor": r.vendor, "kind": r.kind,
                "bf16_dense": units.human(bf16.value if bf16 else None, "FLOP/s"),
                "memory": units.human(_v(r.memory.capacity), "B"), "bandwidth": units.human(_v(r.memory.bandwidth), "B/s"),
                "tdp": units.human(_v(r.power.tdp), "W")}
    if isinstance(r, System):
        return {"id": r.id, "name": r.name, "accelerator": r.accelerator, "chips": int(r.chips.value),
                "price": units.human(_v(r.price), "USD") if r.price else None, "power": units.human(_v(r.power), "W")}
    p = count_params(r)
    return {"id": r.id, "name": r.name, "family": r.family, "params": f"{p.total / 1e9:.2f}B",
            "active": f"{p.active / 1e9:.2f}B" if r.moe else None, "layers": r.layers, "hidden": r.hidden,
            "heads": r.heads, "kv_heads": r.kv_head_count, "context": r.max_context}


def _v(f: Figure | None) -> float | None:
    return f.value if f else None


@catalog.command()
@click.argument("id_")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def show(ctx: Context, id_: str, as_json: bool) -> None:
    """Every field of one entry, with its unit and source. ID may be a path to a catalog file or config.json."""
    cat = ctx.catalog
    rec: Hardware | System | Model
    if id_.endswith((".toml", ".json")) or "/" in id_:
        rec = cat.model(id_) if id_.endswith(".json") else _from_any_file(cat, id_)
    else:
        rec = cat.find(id_, where="catalog show")
    doc = describe(rec, cat)
    if as_json:
        print_json(doc)
        return
    out = console()
    out.print(f"[bold]{rec.id}[/bold]  {rec.name}  ({doc['kind']}, from {rec.origin})")
    if doc.get("attributes"):
        out.print(table(None, ["attribute", "value"], doc["attributes"].items()))
    if doc.get("figures"):
        rows = [(k, f["text"] or units.human(f["value"], f["unit"]), f"{f['value']:.6g} {f['unit']}",
                 f["source"] + (f" ({f['date']})" if f.get("date") else ""), f.get("note") or "")
                for k, f in doc["figures"].items()]
        out.print(table(None, ["field", "as given", "SI value", "source", "note"], rows))
    if doc.get("sources"):
        out.print(table("sources", ["id", "title", "where"], ((s["id"], s["title"], s.get("url") or s.get("locator") or "")
                                                              for s in doc["sources"])))


def _from_any_file(cat: Catalog, path: str) -> Hardware | System | Model:
    for kind in ("hardware", "model", "system"):
        try:
            found: Hardware | System | Model = cat._from_file(kind, __import__("pathlib").Path(path), "catalog show")  # noqa: SLF001
            return found
        except CatalogError as err:
            if "expected exactly one" not in str(err) or "found 0" not in str(err):
                raise
    raise CatalogError(f"{path}: defines no hardware, model or system")


def describe(rec: Hardware | System | Model, cat: Catalog) -> dict[str, Any]:
    """A JSON-able description of a record: plain attributes, sourced figures, and the sources used."""
    kind = {Hardware: "hardware", System: "system", Model: "model"}[type(rec)]
    figures: dict[str, Figure] = rec.figures() if hasattr(rec, "figures") else {}
    attributes: dict[str, Any] = {}
    if isinstance(rec, Model):
        for name in ("published_params", "published_active_params"):
            if getattr(rec, name) is not None:
                figures[name] = getattr(rec, name)
        skip = {"id", "name", "origin", "published_params", "published_active_params"}
        attributes = {k: v for k, v in rec.model_dump(exclude=skip).items() if v is not None}
        p = count_params(rec)
        attributes["derived_params"] = p.total
        if rec.moe:
            attributes["derived_active_params"] = p.active_by(rec.active_params_convention)
    else:
        skip = {"id", "name", "origin"}
        dumped = rec.model_dump(exclude=skip)
        attributes = {k: v for k, v in _flatten(dumped).items() if v not in (None, "", {}) and not _is_figure_path(k, figures)}
    if isinstance(rec, Hardware):
        for i, c in enumerate(rec.cloud):
            attributes[f"cloud[{i}]"] = f"{c.provider}: ${c.rate.value * 3600:.4g}/chip-hour ({c.date}, source {c.source})"
        attributes = {k: v for k, v in attributes.items() if not k.startswith("cloud.")}
    used = sorted({f.source for f in figures.values()} | ({rec.source} if isinstance(rec, Model) else set())
                  | ({c.source for c in rec.cloud} if isinstance(rec, Hardware) else set()))
    sources = [cat.sources[s].model_dump(exclude_none=True) for s in used if s in cat.sources]
    return {"id": rec.id, "name": rec.name, "kind": kind, "origin": rec.origin, "attributes": attributes,
            "figures": {k: _figure_doc(f) for k, f in figures.items()}, "sources": sources}


def _figure_doc(f: Figure) -> dict[str, Any]:
    doc = {"value": f.value, "unit": f.unit, "text": f.text, "source": f.source}
    for k in ("low", "high", "date", "direction", "note"):
        if getattr(f, k) is not None:
            doc[k] = getattr(f, k)
    return doc


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict) and not ({"value", "unit", "source"} <= set(v)):
            out.update(_flatten(v, f"{prefix}{k}."))
        elif isinstance(v, list | tuple):
            continue
        else:
            out[f"{prefix}{k}"] = v
    return out


def _is_figure_path(key: str, figures: dict[str, Figure]) -> bool:
    return key in figures or any(key.startswith(f + ".") for f in figures)


@catalog.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def lint(ctx: Context, paths: tuple[str, ...], as_json: bool) -> None:
    """Validate catalog files (yours, or the shipped catalog and TCOBENCH_CATALOG when no PATH is given)."""
    targets: list[str | Path] = [*paths] or [*user_paths(ctx.catalog_paths)]
    cat, problems = lint_files(targets) if targets else lint_files([builtin_dir()])
    counts = {"hardware": len(cat.hardware), "systems": len(cat.systems), "models": len(cat.models), "sources": len(cat.sources)}
    if as_json:
        print_json({"ok": not problems, "problems": problems, "counts": counts})
    elif problems:
        for p in problems:
            click.echo(p, err=True)
        click.echo(f"{len(problems)} problem(s)", err=True)
    else:
        click.echo("ok: " + ", ".join(f"{n} {k}" for k, n in counts.items()) + " (shipped catalog included)")
    if problems:
        raise SystemExit(2)

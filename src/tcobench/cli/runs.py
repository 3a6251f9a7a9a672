"""``tcobench runs list|show|export``: the saved results."""

from __future__ import annotations

import csv
import json
import sys
from typing import Any

import click

from tcobench import checks
from tcobench.cli.context import Context, pass_context
from tcobench.cli.options import Choice, Count
from tcobench.cli.render import console, print_json, table
from tcobench.errors import InputError
from tcobench.records import Run

RUN_ID_MAX = 2**63 - 1  # the largest integer SQLite and PostgreSQL keep (a BIGINT)


@click.group()
def runs() -> None:
    """Saved runs in the results store (--db / TCOBENCH_DB; SQLite by default)."""


def run_doc(r: Run) -> dict[str, Any]:
    return {"id": r.id, "created": r.created.isoformat(), "command": r.command, "provenance": str(r.provenance),
            "label": r.label, "tool_version": r.tool_version, "inputs": r.inputs, "outputs": r.outputs}


@runs.command("list")
@click.option("--command", "command", help="Only runs of this command (predict, bench, ...).")
@click.option("--limit", type=Count(1, 1_000_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_context
def list_(ctx: Context, command: str | None, limit: int, as_json: bool) -> None:
    """The latest runs, newest first."""
    found = ctx.store.list(command=command, limit=limit)
    if as_json:
        print_json([{k: v for k, v in run_doc(r).items() if k not in ("inputs", "outputs")} for r in found])
        return
    rows = [(r.id, r.created.strftime("%Y-%m-%d %H:%M:%S"), r.command, str(r.provenance), r.label) for r in found]
    console().print(table(f"runs in {ctx.store.where}", ["id", "created (UTC)", "command", "provenance", "label"], rows))


@runs.command()
@click.argument("run_id", type=Count(1, RUN_ID_MAX))
@click.option("--json", "as_json", is_flag=True)
@pass_context
def show(ctx: Context, run_id: int, as_json: bool) -> None:
    """One run with its inputs and outputs."""
    r = ctx.store.get(run_id)
    if as_json:
        print_json(run_doc(r))
        return
    out = console()
    out.print(f"[bold]run {r.id}[/bold]  {r.command} ({r.provenance})  {r.created.isoformat()}  tcobench {r.tool_version}")
    out.print("inputs:  " + json.dumps(r.inputs, default=str))
    out.print("outputs: " + json.dumps(r.outputs, default=str, indent=2))


@runs.command()
@click.option("--format", "fmt", type=Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--command", "command", help="Only runs of this command.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="File to write (default: stdout).")
@pass_context
def export(ctx: Context, fmt: str, command: str | None, output: str | None) -> None:
    """Every run as JSON, or as CSV with inputs/outputs flattened to dotted columns."""
    docs = [run_doc(r) for r in ctx.store.list(command=command)]
    fh = checks.open_output(output, "-o") if output else sys.stdout
    try:
        if fmt == "json":
            fh.write(json.dumps(docs, indent=2, default=str) + "\n")
        else:
            flat = [_flatten(d) for d in docs]
            cols = list(dict.fromkeys(k for f in flat for k in f))
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            w.writerows(flat)
        fh.flush()
    except OSError as err:
        if not output:
            raise  # standard output: the entry point reports it
        raise InputError(f"-o {str(output)!r}: cannot write it ({err.strerror or err})") from err
    finally:
        if output:
            try:
                fh.close()
            except OSError:  # the flush above has reported it
                pass


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}." if not isinstance(v, dict | list) else f"{prefix}{k}."))
        return {k.rstrip("."): v for k, v in out.items()}
    if isinstance(d, list):
        return {prefix.rstrip("."): json.dumps(d, default=str)}
    return {prefix: d}

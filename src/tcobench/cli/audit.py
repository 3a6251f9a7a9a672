"""``tcobench audit [FILE...]``: claimed vs derived, with the derivation shown and a verdict."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import click
from rich.markup import escape

from tcobench import __version__
from tcobench.api.tasks import saved_runs
from tcobench.claims import ClaimResult, Verdict, audit_claims, builtin_dir, invalid_result, load_claims
from tcobench.claims.trace import Step
from tcobench.cli.context import Context, pass_context
from tcobench.cli.render import console, print_json, table
from tcobench.errors import UnknownIdError
from tcobench.records import Provenance, Run


@click.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=True))
@click.option("--json", "as_json", is_flag=True, help="Print {\"claims\": [...]} as JSON.")
@click.option("--save", is_flag=True, help="Save the audit to the results store.")
@click.option("--explain", "explain", metavar="ID", help="Show the derivation trace of one claim.")
@click.option("--explain-all", is_flag=True, help="Show the derivation trace of every claim.")
@pass_context
def audit(ctx: Context, files: tuple[str, ...], as_json: bool, save: bool, explain: str | None, explain_all: bool) -> None:
    """Audit claims: the built-in suite, or the claims in FILE... (TOML with [claim.<id>] tables).

    Each claim's value is re-derived from the catalog and the claim's own inputs, and judged:
    consistent, overstated, understated, unit-mismatch, precision-mismatch or unverifiable.
    Exits 2 when a claim file has errors, or a claim an input the derivation cannot use (a zero, a wrong unit, an
    unknown id); the other claims are still audited.
    """
    catalog = ctx.catalog
    builtin = load_claims([builtin_dir()], catalog)
    chosen = load_claims(files, catalog) if files else builtin
    library = builtin.claims if files else ()
    results = audit_claims(chosen.claims, catalog, library=[c for c in library if c.id not in {x.id for x in chosen.claims}],
                           runs=saved_runs(lambda: ctx.store))
    results += [invalid_result(bad) for bad in chosen.invalid]
    if explain is not None and explain.lower() not in {r.id for r in results}:
        raise UnknownIdError("claim", explain, [r.id for r in results], where="audit --explain")
    if save:
        run = Run(command="audit", provenance=Provenance.CLAIMED, tool_version=__version__,
                  inputs={"files": list(files) or ["(built-in suite)"]}, outputs={"claims": [r.to_dict() for r in results]})
        run_id = ctx.store.save(run)
    if as_json:
        print_json({"claims": [r.to_dict() for r in results]})
    else:
        out = console()
        shown = [r for r in results if explain_all or r.id == (explain or "").lower()]
        if shown:
            for r in shown:
                _explain(r)
        else:
            beside = any(r.predicted_value is not None for r in results)  # a measured claim: the prediction too
            heads = ["id", "verdict", "claimed", "derived", *(["predicted"] if beside else []), "unit", "ratio", "why"]
            t = table(None, heads, (_row(r, beside) for r in results),
                      justify=["left", "left", "right", "right", *(["right"] if beside else []), "left", "right", "left"])
            for col in t.columns:
                col.no_wrap = True
            why = t.columns[-1]
            why.overflow, why.max_width = "ellipsis", 42  # the full reason is in --explain
            out.print(t)
            out.print()
            out.print("verdicts: " + _summary(results))
        if save:
            out.print(f"saved run {run_id} to {ctx.store.where}")
    for bad in chosen.invalid:
        click.echo(f"CatalogError: {bad.message}", err=True)  # the error class for malformed data files
    malformed = [r for r in results[:len(results) - len(chosen.invalid)] if r.error]
    for r in malformed:  # read, but an input the derivation could not use: a zero, a wrong unit, an unknown id
        click.echo(" ".join((r.error or "").split()), err=True)  # 'ErrorType: message', on one line
    if chosen.invalid or malformed:
        raise SystemExit(2)


_ONLY = "matches only another reading: "


def _num(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    text = f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return text if unit in ("1", "") else f"{text} {unit}"


def _row(r: ClaimResult, beside: bool = False) -> Sequence[str]:
    ratio = "-" if r.ratio is None else f"{r.ratio:.3g}"
    why = r.reason.removeprefix(_ONLY).split("; ")[0]
    unit = "" if r.unit == "1" else r.unit
    predicted = [_num(r.predicted_value, "1")] if beside else []
    cells = (r.id, str(r.verdict), _num(r.claimed_value, "1"), _num(r.derived_value, "1"), *predicted, unit, ratio, why)
    return [escape(x) for x in cells]


def _summary(results: Sequence[ClaimResult]) -> str:
    counts = Counter(str(r.verdict) for r in results)
    return ", ".join(f"{counts[v]} {v}" for v in (str(x) for x in Verdict) if counts[v])


def _explain(r: ClaimResult) -> None:
    out = console()
    out.print(f"[bold]{r.id}[/bold]  ({r.kind}; source {r.source}, {r.date})", markup=True)
    out.print(f"  statement: \"{r.statement}\"", markup=False)
    for i, s in enumerate(r.trace, 1):
        _step(i, s)
    what = "measured" if r.kind == "measured" else "derived"
    out.print(f"  claimed {_num(r.claimed_value, r.unit)} vs {what} {_num(r.derived_value, r.unit)}"
              + (f" (ratio {r.ratio:.3g})" if r.ratio is not None else "")
              + (f"; predicted {_num(r.predicted_value, r.unit)}" if r.predicted_value is not None else ""), markup=False)
    out.print(f"  verdict: {r.verdict}: {r.reason}", markup=False)
    out.print()


def _step(i: int, s: Step) -> None:
    out = console()
    tag = " (context, not used in the verdict)" if s.context else ""
    out.print(f"  {i}. {s.formula}{tag}", markup=False)
    for v in s.inputs:
        where = v.source + (f", {v.ref}" if v.ref else "")
        written = f" (written {v.written!r})" if v.written and v.written != v.text else ""
        out.print(f"       {v.name} = {v.text}{written}   [{where}]", markup=False)
    out.print(f"       -> {s.result.name} = {s.result.text}", markup=False)

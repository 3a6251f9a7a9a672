"""Audit: one row per claim with its verdict, claimed vs derived, each row opening to its derivation trace."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from tcobench.catalog import Catalog
from tcobench.records import Run
from tcobench.report import words
from tcobench.report.document import Part, Section
from tcobench.report.tables import Expandable, Step, Table

VERDICT_ORDER = ("overstated", "understated", "unit-mismatch", "precision-mismatch", "unverifiable", "consistent")


def build(runs: Sequence[Run], catalog: Catalog) -> Section | None:
    parts = [part(r) for r in runs if r.command == "audit" and r.outputs.get("claims")]
    return Section("audit", "Audit of claims", tuple(parts)) if parts else None


def number(v: Any) -> str:
    if not isinstance(v, int | float) or not math.isfinite(v):
        return "–"
    return f"{v:,.4g}" if abs(v) < 1e6 else f"{v:.4g}"


def _input_text(x: dict[str, Any]) -> str:
    text = f"{x.get('name', '?')} = {x.get('text') or number(x.get('value'))}"
    src = x.get("ref") or x.get("source")
    if src and src != "derived":
        text += f"  [{src}]"
    if x.get("note"):
        text += f" — {x['note']}"
    return text


def trace(claim: dict[str, Any]) -> tuple[Step, ...]:
    steps = []
    for s in claim.get("trace") or ():
        result = s.get("result") or {}
        steps.append(Step(str(s.get("formula", "")), tuple(_input_text(x) for x in s.get("inputs") or ()),
                          f"{result.get('name', 'result')} = {result.get('text') or number(result.get('value'))}"))
    return tuple(steps)


def row(claim: dict[str, Any]) -> tuple[Expandable | str, ...]:
    ratio = claim.get("ratio")
    return (Expandable(str(claim.get("statement") or claim.get("id", "?")), trace(claim)), str(claim.get("id", "")),
            number(claim.get("claimed_value")), number(claim.get("derived_value")), str(claim.get("unit") or ""),
            f"{ratio:.3g}" if isinstance(ratio, int | float) and math.isfinite(ratio) else "–",
            str(claim.get("verdict", "?")), str(claim.get("reason") or claim.get("error") or ""), str(claim.get("source") or ""))


def part(run: Run) -> Part:
    claims: list[dict[str, Any]] = sorted(run.outputs["claims"], key=lambda c: (
        VERDICT_ORDER.index(c.get("verdict")) if c.get("verdict") in VERDICT_ORDER else len(VERDICT_ORDER), str(c.get("id"))))
    table = Table("Claims, worst verdicts first (open a claim to see how its value was derived)",
                  ("claim", "id", "claimed", "derived", "unit", "claimed / derived", "verdict", "why", "source"),
                  tuple(row(c) for c in claims), numeric=(2, 3, 5), classes=((6, "verdict"),))
    files = run.inputs.get("files") or []
    beside = side_by_side(claims)
    return Part(f"{words.plural(len(claims), 'claim')} from {words.listing([str(f) for f in files]) or 'claim files'} — run {run.id}",
                reading(claims), tables=(table,) if beside is None else (table, beside))


def side_by_side(claims: list[dict[str, Any]]) -> Table | None:
    """Claims judged against a saved measurement (kind ``measured``): claimed, predicted and measured on one row."""
    rows = []
    for c in claims:
        if c.get("kind") != "measured" or not isinstance(c.get("derived_value"), int | float):
            continue
        measured, predicted, ratio = c["derived_value"], c.get("predicted_value"), c.get("ratio")
        over = measured / predicted if isinstance(predicted, int | float) and predicted > 0 else None
        rows.append((str(c.get("id", "")), number(c.get("claimed_value")), number(predicted), number(measured),
                     str(c.get("unit") or ""), f"{ratio:.3g}" if isinstance(ratio, int | float) else "–",
                     "–" if over is None else f"{over:.3g}", str(c.get("verdict", "?"))))
    if not rows:
        return None
    return Table("Claims that cite a saved measurement: claimed, predicted (the claim's hardware, or the run's own "
                 "prediction) and measured", ("id", "claimed", "predicted", "measured", "unit", "claimed / measured",
                                              "measured / predicted", "verdict"),
                 tuple(rows), numeric=(1, 2, 3, 5, 6), classes=((7, "verdict"),))


def reading(claims: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for c in claims:
        counts[str(c.get("verdict"))] = counts.get(str(c.get("verdict")), 0) + 1
    order = sorted(counts, key=lambda v: VERDICT_ORDER.index(v) if v in VERDICT_ORDER else len(VERDICT_ORDER))
    text = (f"tcobench re-derived each of {words.plural(len(claims), 'claim')} from the catalog and the claim's own inputs: "
            f"{words.listing([f'{counts[v]} {v}' for v in order])}. ")
    off = [c for c in claims if c.get("verdict") in ("overstated", "understated") and isinstance(c.get("ratio"), int | float)]
    if off:
        worst = max(off, key=lambda c: max(c["ratio"], 1 / c["ratio"]) if c["ratio"] > 0 else math.inf)
        r = worst["ratio"]
        text += (f"The furthest off is {worst.get('id')}: it claims {number(worst.get('claimed_value'))} {worst.get('unit') or ''} "
                 f"where the derivation gives {number(worst.get('derived_value'))}, {words.times(r if r >= 1 else 1 / r)} "
                 f"{'too high' if r >= 1 else 'too low'}. ")
    mism = counts.get("unit-mismatch", 0) + counts.get("precision-mismatch", 0)
    if mism:
        text += (f"{words.plural(mism, 'claim')} compare{'s' if mism == 1 else ''} numbers that are not like for like "
                 f"(different units, or sparse or lower-precision peaks against dense ones). ")
    if counts.get("unverifiable"):
        text += f"{counts['unverifiable']} could not be checked because an input is unknown. "
    return text + "Open a claim to see each step of its derivation, with the source of every input."

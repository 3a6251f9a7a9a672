"""The provenance footer: tool version, the runs used (ids and times), and the catalog sources behind them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from tcobench.catalog import Catalog
from tcobench.errors import TcobenchError
from tcobench.records import Run
from tcobench.report.document import Provenance, RunRef, SourceRef


def build(runs: Sequence[Run], catalog: Catalog, *, store: str, tool_version: str, generated: dt.datetime) -> Provenance:
    refs = tuple(RunRef(r.id, r.command, str(r.provenance), r.created, r.tool_version, r.label) for r in runs)
    ids = sorted({s for r in runs for s in source_ids(r, catalog)} - {"derived", "claim input", "default"})
    known = dict(catalog.sources)
    if any(r.command == "audit" for r in runs):
        known = {**_claim_sources(catalog), **known}
    sources = tuple(SourceRef(i, known[i].title, known[i].url, known[i].locator) if i in known
                    else SourceRef(i, f"{i} (named in a claim file, not in the catalog)") for i in ids)
    return Provenance(tool_version, generated, store, refs, sources)


def _claim_sources(catalog: Catalog) -> dict[str, Any]:
    """Sources the built-in claim files define (claims cite papers and threads the hardware catalog does not)."""
    try:
        from tcobench.claims.loader import builtin_dir, load_claims

        return dict(load_claims([builtin_dir()], catalog).sources)
    except (TcobenchError, ImportError, AttributeError, TypeError):
        return {}


def _figure_sources(obj: Any) -> Iterator[str]:
    for fig in obj.figures().values():
        if getattr(fig, "source", None):
            yield fig.source


def source_ids(run: Run, catalog: Catalog) -> Iterator[str]:
    """Catalog source ids behind a run's numbers: its hardware's figures, its model's source, its claims' sources."""
    hardware: list[str] = []
    models: list[str] = []
    if run.command == "compare":
        hardware = [r["hardware"] for r in run.outputs.get("rows", []) if r.get("deployment")]
        models = [str(run.inputs.get("model", ""))]
    elif run.command == "predict":
        hardware, models = [str(run.outputs.get("hardware", ""))], [str(run.outputs.get("model", ""))]
    elif run.command == "audit":
        for c in run.outputs.get("claims", []):
            if c.get("source"):
                yield str(c["source"])
            for step in c.get("trace") or ():
                for x in [*(step.get("inputs") or ()), step.get("result") or {}]:
                    for key in ("source", "ref"):
                        if x.get(key):
                            yield str(x[key])
    for h in hardware:
        hw = catalog.hardware.get(h)
        if hw is not None:
            yield from _figure_sources(hw)
            for rate in hw.cloud:
                yield rate.source
    for m in models:
        try:
            yield catalog.get_model(m).source
        except TcobenchError:
            continue

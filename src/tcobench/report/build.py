"""From saved runs to a ``Report``: pick the runs, build each section that has data, add the footer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from tcobench.catalog import Catalog
from tcobench.errors import InputError
from tcobench.records import Run
from tcobench.report.document import Report, Section
from tcobench.report.sections import audit, bench, cost, pareto, provenance, roofline, training, validation
from tcobench.store import Store

REPORTABLE = ("compare", "predict", "validate", "bench", "audit", "train")  # commands whose saved runs a report can show
BUILDERS = (cost.build, pareto.build, roofline.build, validation.build, bench.build, audit.build, training.build)  # in page order


def select_runs(store: Store, ids: Sequence[int] = (), latest: bool = False) -> list[Run]:
    """The runs named by ``ids``; with ``latest`` (or no ids) also the newest run of each reportable command."""
    chosen = [store.get(i) for i in dict.fromkeys(ids)]
    if latest or not ids:
        have = {r.command for r in chosen}
        for command in REPORTABLE:
            if command not in have:
                chosen += store.list(command=command, limit=1)
    if not chosen:
        raise InputError(f"no runs to report in {store.where}: save some first with compare --save, bench, audit --save, "
                         f"predict --save, compare --train --save or train --save")
    unusable = [r for r in chosen if r.command not in REPORTABLE]
    if unusable and len(unusable) == len(chosen):
        raise InputError(f"run {unusable[0].id} is a {unusable[0].command!r} run; a report shows runs of "
                         f"{', '.join(REPORTABLE)}")
    return sorted(chosen, key=lambda r: r.id or 0)


def build_report(runs: Sequence[Run], catalog: Catalog, *, store: str = "", tool_version: str | None = None,
                 generated: dt.datetime | None = None, title: str = "tcobench report") -> Report:
    """Every section whose data exists in ``runs``, in page order, with the provenance footer."""
    if tool_version is None:
        from tcobench import __version__

        tool_version = __version__
    generated = generated or dt.datetime.now(dt.UTC)
    sections: list[Section] = [s for b in BUILDERS for s in [b(runs, catalog)] if s is not None]
    skipped = tuple(f"run {r.id} ({r.command}): not a kind of run a report shows" for r in runs if r.command not in REPORTABLE)
    return Report(title, tuple(sections), provenance.build(runs, catalog, store=store, tool_version=tool_version, generated=generated),
                  skipped)

"""What a report is made of, before it is drawn: sections of parts, each with a reading, charts and tables.

Sections are built from saved runs (``tcobench.report.sections``) and rendered by ``html`` (one page)
or ``export`` (one file per chart). Everything here is plain data, so tests can check a report's
structure without drawing it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from tcobench.report.charts import Chart
from tcobench.report.tables import Table


@dataclass(frozen=True)
class Part:
    """One run's contribution to a section: a heading, a plain-language reading, charts, tables, notes."""

    title: str
    reading: str
    charts: tuple[Chart, ...] = ()
    tables: tuple[Table, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    id: str  # the HTML anchor: "cost", "pareto", "roofline", "bench", "audit"
    title: str
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class RunRef:
    """A run the report was built from, for the provenance footer."""

    id: int | None
    command: str
    provenance: str
    created: dt.datetime
    tool_version: str
    label: str = ""


@dataclass(frozen=True)
class SourceRef:
    """A catalog source some number in the report came from."""

    id: str
    title: str
    url: str | None = None
    locator: str | None = None


@dataclass(frozen=True)
class Provenance:
    tool_version: str
    generated: dt.datetime
    store: str
    runs: tuple[RunRef, ...]
    sources: tuple[SourceRef, ...] = ()


@dataclass(frozen=True)
class Report:
    title: str
    sections: tuple[Section, ...]
    provenance: Provenance
    skipped: tuple[str, ...] = field(default=())  # runs the report could not use, and why

    @property
    def charts(self) -> tuple[Chart, ...]:
        return tuple(c for s in self.sections for p in s.parts for c in p.charts)

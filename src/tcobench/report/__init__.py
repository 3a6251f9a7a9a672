"""Reports people would rather look at than read: one self-contained HTML page, or one file per figure.

    select_runs(store, ids, latest) -> [Run]             what goes in
    build_report(runs, catalog) -> Report                sections as data (document, charts, tables)
    render_html(report) -> str                           one page, charts as inline SVG, no network
    write_figures(report, "png" | "svg", out_dir)        each chart on its own

Plotting (matplotlib, Agg) and templating (jinja2) are imported only when something is drawn.
"""

from tcobench.report.build import build_report, select_runs
from tcobench.report.document import Report
from tcobench.report.export import write_figures
from tcobench.report.html import render_html

__all__ = ["Report", "build_report", "render_html", "select_runs", "write_figures"]

"""``--format png|svg``: every chart of a report written to its own file, for papers and slides."""

from __future__ import annotations

from pathlib import Path

from tcobench.errors import InputError
from tcobench.report.document import Report

FORMATS = ("png", "svg")


def write_figures(report: Report, fmt: str, out_dir: str | Path) -> list[Path]:
    """Write ``<out_dir>/<chart name>.<fmt>`` for each chart; returns the paths in page order."""
    from tcobench.report.plots import render

    if fmt not in FORMATS:
        raise InputError(f"{{fmt}} {repr(fmt)}: figures can be written as {' or '.join(FORMATS)}", params=("fmt",))
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"{{out_dir}} {repr(str(out))}: cannot create it ({err.strerror})",
                         params=("out_dir",)) from err
    paths = []
    for chart in report.charts:
        path = out / f"{chart.name}.{fmt}"
        try:
            path.write_bytes(render(chart, fmt))
        except OSError as err:
            raise InputError(f"{{out_dir}} {repr(str(out))}: cannot write {path.name} ({err.strerror})",
                             params=("out_dir",)) from err
        paths.append(path)
    return paths

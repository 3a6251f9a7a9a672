"""``tcobench report``: saved runs -> one self-contained HTML page, or each figure as PNG/SVG."""

from __future__ import annotations

from pathlib import Path

import click

from tcobench import checks
from tcobench.cli.context import Context, pass_context
from tcobench.cli.options import Choice, Count
from tcobench.cli.render import print_json
from tcobench.cli.runs import RUN_ID_MAX
from tcobench.errors import InputError


@click.command()
@click.option("--run", "run_ids", type=Count(1, RUN_ID_MAX), multiple=True, metavar="ID",
              help="A saved run to show (repeatable) [default: the latest compare, predict, validate, bench, audit and train runs].")
@click.option("--latest", is_flag=True, help="Also add the newest run of each kind not named by --run.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"), show_default=True,
              help="The HTML file to write (--format html).")
@click.option("--format", "fmt", type=Choice(["html", "png", "svg"]), default="html", show_default=True,
              help="html: one page; png/svg: each figure in its own file under --out-dir.")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder for --format png|svg [default: report-figures].")
@click.option("--json", "as_json", is_flag=True, help="Print what was written, and the sections, as JSON.")
@pass_context
def report(ctx: Context, run_ids: tuple[int, ...], latest: bool, output: Path, fmt: str, out_dir: Path | None, as_json: bool) -> None:
    """Write a report of saved runs: cost comparison, Pareto fronts, roofline, endpoint benchmarks, audit, training."""
    from tcobench.report import build_report, render_html, select_runs, write_figures

    if out_dir is not None and fmt == "html":
        raise InputError("--out-dir is for --format png|svg; the HTML page goes to -o/--output")
    runs = select_runs(ctx.store, run_ids, latest)
    rep = build_report(runs, ctx.catalog, store=ctx.store.where)
    if fmt == "html":
        page = render_html(rep)
        with checks.open_output(output, "-o") as fh:  # its folder made, or an InputError naming -o
            try:
                fh.write(page)
            except OSError as err:
                raise InputError(f"-o {str(output)!r}: cannot write it ({err.strerror})") from err
        written = [output]
    else:
        written = write_figures(rep, fmt, out_dir or Path("report-figures"))
    doc = {"format": fmt, "files": [str(p) for p in written], "runs": [r.id for r in runs],
           "sections": [{"id": s.id, "title": s.title, "parts": [p.title for p in s.parts]} for s in rep.sections],
           "figures": [c.name for c in rep.charts], "skipped": list(rep.skipped)}
    if as_json:
        print_json(doc)
        return
    names = ", ".join(s.title.lower() for s in rep.sections) or "no sections: the runs hold no data a report shows"
    if fmt == "html":
        click.echo(f"wrote {output} ({names}; {len(rep.charts)} figures from runs {', '.join(str(r.id) for r in runs)})")
    else:
        click.echo(f"wrote {len(written)} {fmt.upper()} figure{'s' if len(written) != 1 else ''} to {out_dir or 'report-figures'}")
        for p in written:
            click.echo(f"  {p}")
    for note in rep.skipped:
        click.echo(f"not shown: {note}", err=True)

"""``tcobench sweep``: a grid of deployments in one vectorised pass, reduced to top-k, a Pareto front or a file."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click
import numpy as np
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from tcobench import api, units
from tcobench.cli.compare import cost_options, money
from tcobench.cli.context import Context, pass_context
from tcobench.cli.options import DURATION, Choice, Count, Number, cluster_options
from tcobench.cli.render import console, print_json, print_trusts, table
from tcobench.search.goodput import RANKS, SIM_REQUESTS
from tcobench.search.sweep import AXES, CONFIRM_POINTS, DEFAULT_CHUNK, MAX_CHUNK, Estimate, duration

LINE_EVERY_S = 5.0  # off a terminal, a progress line this often
SAY_ESTIMATE_S = 1.0  # the estimate is printed when the sweep should take at least this long


class Report:
    """Progress on stderr: a bar with the time remaining on a terminal; elsewhere (a log, CI, a pipe) one line
    every LINE_EVERY_S seconds with the share done, the time elapsed and the time left."""

    def __init__(self, quiet: bool, yes: bool) -> None:
        self.quiet, self.yes, self.tty = quiet, yes, sys.stderr.isatty()
        self.bar: Progress | None = None
        self.task: TaskID | None = None
        self.done = 0
        self.start = self.last = 0.0

    def estimate(self, est: Estimate) -> None:
        refused = est.points > CONFIRM_POINTS and not self.yes  # the error that follows carries the estimate
        if not self.quiet and not refused and est.seconds >= SAY_ESTIMATE_S:
            click.echo(f"sweep: {est.text()}", err=True)

    def advance(self, n: int, total: int) -> None:
        if self.quiet:
            return
        now = time.perf_counter()
        if not self.done:
            self.start = self.last = now - 1e-9
            if self.tty:
                self.bar = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                    TextColumn("left"), TimeRemainingColumn(), console=console(stderr=True),
                                    transient=True)
                self.bar.start()
                self.task = self.bar.add_task("sweep", total=total)
        self.done += n
        if self.bar is not None and self.task is not None:
            self.bar.advance(self.task, n)
        elif now - self.last >= LINE_EVERY_S and self.done < total:
            self.last = now
            elapsed = now - self.start
            left = elapsed * (total - self.done) / self.done
            click.echo(f"sweep: {self.done / total:.0%} ({self.done:,} of {total:,} points), {duration(elapsed)} "
                       f"elapsed, about {duration(left)} left", err=True)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@click.command()
@click.option("--model", "model_ref", required=True)
@click.option("--hardware", "hw_spec", help="Comma-separated ids or 'all' [default: all].")
@click.option("--precision", "precisions", default="bf16,fp8", show_default=True)
@click.option("--tp", default="1,2,4,8", show_default=True, help="List or range: '1,2,4,8', '1:8', '1:64:x2'.")
@click.option("--pp", default="1", show_default=True)
@click.option("--ep", default="1", show_default=True)
@click.option("--batch", default="1:256:x2", show_default=True)
@click.option("--input-len", default="1024", show_default=True)
@click.option("--output-len", default="256", show_default=True)
@click.option("--slo-ttft", type=DURATION)
@click.option("--slo-tpot", type=DURATION)
@click.option("--basis", type=Choice(["own", "rent"]), default="own", show_default=True, help="Prices the cost objective.")
@cost_options
@click.option("--objective", type=Choice(["cost", "throughput", "latency"]), default="cost", show_default=True)
@click.option("--top", "top_k", type=Count(1, 10_000), default=10, show_default=True)
@click.option("--pareto", is_flag=True, help="Print the Pareto front (tokens/s per chip vs interactivity).")
@click.option("--rate", type=Number(0.0, low_open=True),
              help="Also serve each top row's replica at this many requests/s (Poisson) in the serving simulator: goodput "
                   "under the SLOs, p99s and $/1M good output tokens (docs/serving.md).")
@click.option("--rank", type=Choice(list(RANKS)), default="cost", show_default=True,
              help="With --rate: re-order the top rows by goodput or by $/1M good output tokens (good-cost).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write every point: .csv, or .parquet (needs pyarrow).")
@click.option("--chunk", type=Count(1, MAX_CHUNK), default=DEFAULT_CHUNK, show_default=True,
              help="Points per vectorised chunk; memory grows about 1 kB per point.")
@click.option("--yes", is_flag=True, help=f"Run a grid of more than {CONFIRM_POINTS:,} points (refused otherwise, with "
                                          "the estimated time).")
@click.option("--quiet", is_flag=True, help="No estimate and no progress on stderr.")
@cluster_options
@click.option("--json", "as_json", is_flag=True)
@pass_context
def sweep(ctx: Context, /, model_ref: str, hw_spec: str | None, precisions: str, basis: str, objective: str, top_k: int,
          pareto: bool, output: Path | None, chunk: int, yes: bool, quiet: bool, as_json: bool, slo_ttft: float | None,
          slo_tpot: float | None, workers: int | None, scheduler: str | None, rate: float | None, rank: str,
          **kw: Any) -> None:
    """Evaluate every combination of the axes; report the top-k by --objective, the count and the wall time.

    Before starting, the first chunk is timed and the size and time are printed to stderr (when it should take a
    second or more); more than 100 million points need --yes. Progress goes to stderr: a bar on a terminal, a line
    every 5 s elsewhere.

    With --workers N or --scheduler ADDRESS the grid runs on Dask (pip install 'tcobench[distributed]') as tasks of
    whole chunks; the result is the single-process one, row for row, and --output (.parquet) is a folder of parts."""
    report = Report(quiet, yes)
    try:
        res = api.sweep(model_ref, hw_spec, precision=precisions, basis=basis, objective=objective,  # type: ignore[arg-type]
                        top=top_k, pareto=pareto, output=output, chunk=chunk, slo_ttft=slo_ttft, slo_tpot=slo_tpot,
                        yes=yes, on_estimate=report.estimate, progress=report.advance, catalog=ctx.catalog,
                        workers=workers, scheduler=scheduler, rate=rate, rank=rank, **kw)
    finally:
        report.stop()
    doc = res.to_dict()
    wall = res.wall_s
    if as_json:
        print_json(doc)
        return
    out = console()
    on = "" if res.workers is None else f" on {res.workers} Dask worker{'s' if res.workers > 1 else ''}"
    out.print(f"evaluated {res.evaluated:,} configurations ({res.feasible:,} feasible) in {wall:.2f} s{on} "
              f"({res.evaluated / max(wall, 1e-9):,.0f}/s)" + (f"; all points written to {output}" if output else ""))
    cols = ["hardware", "precision", "tp", "pp", "ep", "batch", "in", "out", "TTFT", "TPOT", "tok/s/chip", f"$/1M out ({basis})"]

    def cells(r: dict[str, Any]) -> list[Any]:
        cost = r["usd_per_1m_output_tokens"]
        return [r["hardware"], r["precision"], *(int(r[a]) for a in AXES), units.human(r["ttft_s"], "s"),
                units.human(r["tpot_s"], "s"), f"{r['output_tokens_per_s_per_chip']:,.0f}",
                money(cost) if np.isfinite(cost) else "no price"]
    out.print(table(f"top {top_k} by {objective}", cols, (cells(r) for r in doc["top"])))
    if res.rate is not None:
        good_cols = ["hardware", "precision", *AXES, "goodput tok/s", "SLO met", "TTFT p99", "TPOT p99", "queue",
                     f"$/1M good ({basis})"]

        def good_cells(r: dict[str, Any]) -> list[Any]:
            a = r["at_rate"]
            return [r["hardware"], r["precision"], *(int(r[x]) for x in AXES), f"{a['goodput_tokens_per_s']:,.0f}",
                    f"{a['slo_met']:.1%}", units.human(a["ttft_p99_s"], "s"),
                    units.human(a["tpot_p99_s"], "s") if a["tpot_p99_s"] is not None else "-",
                    "grows without bound" if a["saturated"] else "keeps up",
                    money(a["usd_per_1m_good_tokens"]) if a["usd_per_1m_good_tokens"] is not None else "-"]
        out.print(table(f"the top {top_k} at {res.rate:g} requests/s (Poisson, {SIM_REQUESTS:,} simulated) per replica; "
                        f"ranked by {res.rank}", good_cols, (good_cells(r) for r in doc["top"])))
    if pareto:
        out.print(table("Pareto front: tokens/s per chip vs interactivity", cols, (cells(r) for r in doc["pareto"])))
    print_trusts([res.trust[r["hardware"]] for r in doc["top"] if r["hardware"] in res.trust])

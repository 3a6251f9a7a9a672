"""``tcobench sweep``: a grid of deployments in one vectorised pass, reduced to top-k, a Pareto front or a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from tcobench import api, units
from tcobench.cli.compare import cost_options, money
from tcobench.cli.context import Context, pass_context
from tcobench.cli.options import DURATION, Choice
from tcobench.cli.render import console, print_json, print_trusts, table
from tcobench.search.sweep import AXES


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
@click.option("--top", "top_k", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--pareto", is_flag=True, help="Print the Pareto front (tokens/s per chip vs interactivity).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write every point: .csv, or .parquet (needs pyarrow).")
@click.option("--chunk", type=click.IntRange(min=1), default=1 << 20, show_default=True, help="Points per vectorised chunk.")
@click.option("--json", "as_json", is_flag=True)
@pass_context
def sweep(ctx: Context, /, model_ref: str, hw_spec: str | None, precisions: str, basis: str, objective: str, top_k: int,
          pareto: bool, output: Path | None, chunk: int, as_json: bool, slo_ttft: float | None, slo_tpot: float | None,
          **kw: Any) -> None:
    """Evaluate every combination of the axes; report the top-k by --objective, the count and the wall time."""
    bar = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=console(stderr=True), transient=True, disable=as_json)
    task: list[TaskID] = []

    def advance(n: int, total: int) -> None:  # the bar starts with the work, after the inputs were checked
        if not task:
            bar.start()
            task.append(bar.add_task("sweep", total=total))
        bar.advance(task[0], n)

    try:
        res = api.sweep(model_ref, hw_spec, precision=precisions, basis=basis, objective=objective,  # type: ignore[arg-type]
                        top=top_k, pareto=pareto, output=output, chunk=chunk, slo_ttft=slo_ttft, slo_tpot=slo_tpot,
                        progress=advance, catalog=ctx.catalog, **kw)
    finally:
        if task:
            bar.stop()
    doc = res.to_dict()
    wall = res.wall_s
    if as_json:
        print_json(doc)
        return
    out = console()
    out.print(f"evaluated {res.evaluated:,} configurations ({res.feasible:,} feasible) in {wall:.2f} s "
              f"({res.evaluated / max(wall, 1e-9):,.0f}/s)" + (f"; all points written to {output}" if output else ""))
    cols = ["hardware", "precision", "tp", "pp", "ep", "batch", "in", "out", "TTFT", "TPOT", "tok/s/chip", f"$/1M out ({basis})"]

    def cells(r: dict[str, Any]) -> list[Any]:
        cost = r["usd_per_1m_output_tokens"]
        return [r["hardware"], r["precision"], *(int(r[a]) for a in AXES), units.human(r["ttft_s"], "s"),
                units.human(r["tpot_s"], "s"), f"{r['output_tokens_per_s_per_chip']:,.0f}",
                money(cost) if np.isfinite(cost) else "no price"]
    out.print(table(f"top {top_k} by {objective}", cols, (cells(r) for r in doc["top"])))
    if pareto:
        out.print(table("Pareto front: tokens/s per chip vs interactivity", cols, (cells(r) for r in doc["pareto"])))
    print_trusts([res.trust[r["hardware"]] for r in doc["top"] if r["hardware"] in res.trust])

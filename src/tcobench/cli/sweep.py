"""``tcobench sweep``: a grid of deployments in one vectorised pass, reduced to top-k, a Pareto front or a file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tcobench import units
from tcobench.cli.compare import cost_options, hardware_list, money, own_parameters
from tcobench.cli.context import Context, pass_context
from tcobench.cli.options import DURATION, Choice
from tcobench.cli.render import console, print_json, table
from tcobench.cost import price_hardware
from tcobench.search import candidates
from tcobench.search.sweep import AXES, iter_rows, open_sink, parse_axis
from tcobench.search.sweep import sweep as run_sweep


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
    cat = ctx.catalog
    model = cat.model(model_ref, where="--model")
    axes = {a: parse_axis(kw.pop(a), "--" + a.replace("_", "-")) for a in AXES}
    price_hour, price_chip = kw.pop("price_hour"), kw.pop("price_chip")
    params = own_parameters(cat, kw)
    cands = candidates(hardware_list(cat, hw_spec), precisions.split(","))
    prices = {}
    for c in cands:
        p = price_hardware(c.hardware, cat, params, basis, price_hour=price_hour, price_chip=price_chip)  # type: ignore[arg-type]
        span = p.own if basis == "own" else p.rent
        prices[c.hardware.id] = float(span.likely) if span is not None else float("nan")
    total = len(cands) * int(np.prod([len(axes[a]) for a in AXES]))
    sink = open_sink(output) if output else None
    start = time.perf_counter()
    with Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console(stderr=True), transient=True, disable=as_json) as bar:
        task = bar.add_task("sweep", total=total)
        try:
            res = run_sweep(model, cands, axes, catalog=cat, usd_per_chip_s=[prices[c.hardware.id] for c in cands],
                            slo_ttft=slo_ttft, slo_tpot=slo_tpot, objective=objective,  # type: ignore[arg-type]
                            top_k=top_k, chunk=chunk, sink=sink, progress=lambda n: bar.advance(task, n))
        finally:
            if sink is not None:
                sink.close()
    wall = time.perf_counter() - start
    doc: dict[str, Any] = {"model": model.id, "evaluated": res.evaluated, "feasible": res.feasible, "wall_s": wall,
           "configurations_per_s": res.evaluated / wall if wall > 0 else None, "objective": objective, "basis": basis,
           "output": str(output) if output else None, "top": list(iter_rows(res.top))}
    if pareto:
        doc["pareto"] = list(iter_rows(res.front))
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

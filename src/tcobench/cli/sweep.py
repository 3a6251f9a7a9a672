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
from tcobench.cli.compare import RUNTIME_OPTION, cost_options, money
from tcobench.cli.context import Context, pass_context
from tcobench.cli.options import DURATION, Choice, Count, Number, cluster_options
from tcobench.cli.render import console, per_s, print_json, print_trusts, table
from tcobench.search.goodput import RANKS, SIM_REQUESTS
from tcobench.perf.stacks import frameworks
from tcobench.search.sweep import AXES, CONFIRM_POINTS, DEFAULT_CHUNK, MAX_CHUNK, Estimate, duration

TRAIN_ONLY = ("chips", "cp", "vpp", "zero", "micro_batch", "recompute", "seq_len", "global_batch", "tokens", "deadline",
              "framework")
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
@click.option("--precision", "precisions", help="[default: bf16,fp8; with --train bf16 (bf16, fp16 or fp8)]")
@click.option("--tp", help="List or range: '1,2,4,8', '1:8', '1:64:x2' [default: 1,2,4,8].")
@click.option("--pp", help="[default: 1; with --train 1,2,4,8,16]")
@click.option("--ep", help="[default: 1]")
@click.option("--batch", help="[default: 1:256:x2]")
@click.option("--input-len", help="[default: 1024]")
@click.option("--output-len", help="[default: 256]")
@click.option("--train", is_flag=True, help="Training jobs instead of deployments: --chips x the layout axes, each run "
                                           "priced for --tokens (docs/training.md, 'Sweeps').")
@click.option("--chips", help="With --train: chip counts, e.g. '64:4096:x2' (required).")
@click.option("--cp", help="With --train: context parallelism [default: 1].")
@click.option("--vpp", help="With --train: virtual pipeline stages per chip [default: 1].")
@click.option("--zero", help="With --train: ZeRO stages, e.g. '0,1,2,3' [default: 1,3].")
@click.option("--micro-batch", help="With --train: sequences per forward pass [default: 1,2,4,8].")
@click.option("--recompute", help="With --train: 'none,selective,full' or some of them [default: all three].")
@click.option("--seq-len", type=Count(1), help="With --train: tokens per sequence [default: 4096, or the model's context].")
@click.option("--global-batch", type=Count(1), help="With --train: sequences per optimizer step [default: about 4M tokens].")
@click.option("--tokens", help="With --train: training tokens [default: 1e12].")
@click.option("--deadline", type=DURATION, help="With --train: runs longer than this are not feasible, e.g. '14 days'.")
@click.option("--framework", type=Choice(list(frameworks())), help="With --train: training stack [default: megatron].")
@click.option("--slo-ttft", type=DURATION)
@click.option("--slo-tpot", type=DURATION)
@RUNTIME_OPTION
@click.option("--basis", type=Choice(["own", "rent"]), default="own", show_default=True, help="Prices the cost objective.")
@cost_options
@click.option("--objective", type=Choice(["cost", "throughput", "latency", "time", "energy"]), default="cost", show_default=True,
              help="cost, throughput, latency; with --train cost ($ to train), time or energy (kWh) to train.")
@click.option("--top", "top_k", type=Count(1, 10_000), default=10, show_default=True)
@click.option("--pareto", is_flag=True, help="Print the Pareto front (tokens/s per chip vs interactivity).")
@click.option("--rate", type=Number(0.0, low_open=True),
              help="Also serve each top row's replica at this many requests/s (Poisson) in the serving simulator: goodput "
                   "under the SLOs, p99s and $/1M good output tokens (docs/serving.md).")
@click.option("--rank", type=Choice(list(RANKS)), default="cost", show_default=True,
              help="With --rate: re-order the top rows by goodput or by $/1M good output tokens (good-cost).")
@click.option("--vary", multiple=True, metavar="KEY=V1,V2,...",
              help="Vary a design given in --hardware (repeatable): sram, sram_bandwidth, clock, die_area, dies, node, "
                   "packaging, packages (per server), hbm (none or e.g. hbm3x4), tdp; every combination is derived and "
                   "priced as its own chip (docs/silicon.md).")
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
          vary: tuple[str, ...], **kw: Any) -> None:
    """Evaluate every combination of the axes; report the top-k by --objective, the count and the wall time.

    Before starting, the first chunk is timed and the size and time are printed to stderr (when it should take a
    second or more); more than 100 million points need --yes. Progress goes to stderr: a bar on a terminal, a line
    every 5 s elsewhere.

    With --workers N or --scheduler ADDRESS the grid runs on Dask (pip install 'tcobench[distributed]') as tasks of
    whole chunks; the result is the single-process one, row for row, and --output (.parquet) is a folder of parts."""
    report = Report(quiet, yes)
    train = kw.pop("train")
    given = {k: v for k, v in kw.items() if v is not None}
    train_only = [k for k in TRAIN_ONLY if given.pop(k, None) is not None]
    if train:
        serving = [k for k, v in (("--batch", kw["batch"]), ("--input-len", kw["input_len"]), ("--output-len", kw["output_len"]),
                                  ("--slo-ttft", slo_ttft), ("--slo-tpot", slo_tpot), ("--rate", rate),
                                  ("--runtime", kw.pop("runtime"))) if v is not None]
        if vary:
            raise click.UsageError("--vary goes with a serving sweep; a training sweep takes catalog hardware (or a "
                                   "hardware file) in --hardware")
        if serving or rank != "cost":
            raise click.UsageError(f"{(serving or ['--rank'])[0]} describes serving; a training sweep takes --chips, the "
                                   "layout axes, --tokens and --deadline")
        _train_sweep(ctx, report, model_ref, hw_spec, precisions, basis, objective, top_k, pareto, output, chunk, yes,
                     as_json, workers, scheduler, kw)
        return
    if train_only:
        raise click.UsageError(f"--{train_only[0].replace('_', '-')} describes a training job: add --train")
    if objective in ("time", "energy"):
        raise click.UsageError(f"--objective {objective} ranks training runs: add --train, or use cost, throughput or latency")
    kw = given
    try:
        res = api.sweep(model_ref, hw_spec, precision=precisions or "bf16,fp8", basis=basis, objective=objective,  # type: ignore[arg-type]
                        top=top_k, pareto=pareto, output=output, chunk=chunk, slo_ttft=slo_ttft, slo_tpot=slo_tpot,
                        yes=yes, on_estimate=report.estimate, progress=report.advance, catalog=ctx.catalog,
                        workers=workers, scheduler=scheduler, rate=rate, rank=rank, vary=list(vary) or None, **kw)
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
    stacks = "runtime" in kw  # a column for the serving stacks when they were chosen
    cols = ["hardware", "precision", *(["runtime"] if stacks else []), "tp", "pp", "ep", "batch", "in", "out", "TTFT", "TPOT",
            "tok/s/chip", f"$/1M out ({basis})"]

    def cells(r: dict[str, Any]) -> list[Any]:
        cost = r["usd_per_1m_output_tokens"]
        return [r["hardware"], r["precision"], *([r["runtime"]] if stacks else []), *(int(r[a]) for a in AXES),
                units.human(r["ttft_s"], "s"),
                units.human(r["tpot_s"], "s"), per_s(r["output_tokens_per_s_per_chip"]),
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
    for name, why in res.skipped:
        out.print(f"  not built: {name}: {why}")
    print_trusts([res.trust[r["hardware"]] for r in doc["top"] if r["hardware"] in res.trust])


def _train_sweep(ctx: Context, report: Report, model_ref: str, hw_spec: str | None, precisions: str | None, basis: str,
                 objective: str, top_k: int, pareto: bool, output: Path | None, chunk: int, yes: bool, as_json: bool,
                 workers: int | None, scheduler: str | None, kw: dict[str, Any]) -> None:
    """sweep --train: the training grid through ``tcobench.sweep_training``, rendered or as --json."""
    from tcobench.api.train_sweep import sweep_training
    from tcobench.cli.train import _days, _money, _track_record

    axes = {k: kw.pop(k) for k in ("chips", "tp", "pp", "cp", "ep", "vpp", "zero", "micro_batch", "recompute", "seq_len",
                                   "global_batch", "deadline", "framework") if kw.get(k) is not None}
    for k in ("batch", "input_len", "output_len", "chips", "tp", "pp", "cp", "ep", "vpp", "zero", "micro_batch", "recompute",
              "seq_len", "global_batch", "deadline", "framework"):
        kw.pop(k, None)
    tokens = kw.pop("tokens") or "1e12"
    try:
        res = sweep_training(model_ref, hw_spec, precision=precisions or "bf16", basis=basis,  # type: ignore[arg-type]
                             objective=objective, top=top_k, pareto=pareto, output=output, chunk=chunk, yes=yes,
                             tokens=tokens, on_estimate=report.estimate, progress=report.advance, catalog=ctx.catalog,
                             workers=workers, scheduler=scheduler, **axes, **{k: v for k, v in kw.items() if v is not None})
    finally:
        report.stop()
    doc = res.to_dict()
    if as_json:
        print_json(doc)
        return
    out = console()
    wall = res.wall_s
    on = "" if res.workers is None else f" on {res.workers} Dask worker{'s' if res.workers > 1 else ''}"
    deadline = f" within {_days(res.deadline_s)}" if res.deadline_s else ""
    out.print(f"{res.model}: train {res.tokens:.3g} tokens of {res.seq_len} per sequence{deadline}; evaluated "
              f"{res.evaluated:,} training jobs ({res.feasible:,} feasible) in {wall:.2f} s{on} "
              f"({res.evaluated / max(wall, 1e-9):,.0f}/s)" + (f"; all points written to {output}" if output else ""))
    cols = ["hardware", "prec", "chips", "tp", "pp", "cp", "dp", "ep", "vpp", "ZeRO", "mb", "recompute", "gbs", "MFU", "time",
            f"$ ({basis})", "energy"]

    def cells(r: dict[str, Any]) -> list[Any]:
        usd, kwh = r["usd_to_train"], r["energy_kwh"]
        return [r["hardware"], r["precision"], f"{r['chips']:,}", r["tp"], r["pp"], r["cp"], r["dp"], r["ep"], r["vpp"],
                r["zero"], r["micro_batch"], r["recompute"], r["global_batch"], f"{r['mfu']:.1%}", _days(r["time_to_train_s"]),
                _money(usd) if usd is not None else "no price",
                "-" if kwh is None else (f"{kwh / 1e3:,.1f} MWh" if kwh >= 1e3 else f"{kwh:,.0f} kWh")]
    names = {"cost": "$ to train", "time": "time to train", "energy": "energy to train"}
    out.print(table(f"top {top_k} by {names[res.objective]}", cols, (cells(r) for r in doc["top"])))
    if pareto:
        out.print(table("Pareto front: time to train vs $ to train", cols, (cells(r) for r in doc["pareto"])))
    for hw, note in sorted(res.price_notes.items()):
        if any(r["hardware"] == hw for r in doc["top"]):
            out.print(f"{hw} {basis} price: {note}")
    shown = {r["hardware"] for r in doc["top"]}
    for vendor in sorted({ctx.catalog.hardware_ref(h, where="--hardware").vendor for h in shown}):
        _track_record(ctx, vendor)  # how far to trust the model for this vendor's training results

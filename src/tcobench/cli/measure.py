"""``tcobench probe``, ``measure`` and ``calibrate``: the local device measured, perf's factors fitted to it."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tcobench import __version__, checks
from tcobench.api.measured import calibrate as run_calibrate
from tcobench.api.measured import measure as run_measure
from tcobench.api.measured import probe as run_probe
from tcobench.cli.context import Context, pass_context
from tcobench.cli.options import COUNT, Count, Number
from tcobench.cli.render import console, print_json, table
from tcobench.local.grid import Record, Shape

DEVICE_HELP = "cpu, cuda or cuda:N."
THREADS_HELP = ("With --device cpu: PyTorch's compute threads [default: as PyTorch sets them]. Probe and measure with the "
                "same; on a machine shared with other work, 1 measures more steadily.")


def _write(path: str, text: str) -> None:
    with checks.open_output(path, "--output") as fh:
        fh.write(text)


def _say(quiet: bool) -> Any:
    err = console(stderr=True)
    return (lambda _: None) if quiet else (lambda line: err.print(line, markup=False, highlight=False))


def _save(r: Any, output: str | None, as_json: bool) -> str:
    """Write a profile (probe's or calibrate's) to its default path when no -o was given, print its --json document
    (with the path) when asked, and return the path."""
    path = output or f"{r.hardware_id}.toml"
    if output is None:
        _write(path, r.toml)
    if as_json:
        print_json({**r.to_dict(), "path": path})
    return path


@click.command()
@click.option("--device", default="cpu", show_default=True, help=DEVICE_HELP)
@click.option("-o", "--output", metavar="FILE", help="Where to write the hardware profile [default: <id>.toml here].")
@click.option("--id", "hardware_id", metavar="ID", help="Hardware id of the profile [default: probed-<host>-<device>].")
@click.option("--base", metavar="ID", help="A catalog chip whose datasheet peaks, bandwidth and capacity the factors are "
                                           "measured against (e.g. h200-sxm) [default: the best rates measured here].")
@click.option("--quick", is_flag=True, help="Fewer shapes and shorter timings (a few seconds on a CPU).")
@click.option("--threads", type=COUNT, help=THREADS_HELP)
@click.option("--json", "as_json", is_flag=True)
@pass_context
def probe(ctx: Context, /, device: str, output: str | None, hardware_id: str | None, base: str | None, quick: bool,
          threads: int | None, as_json: bool) -> None:
    """Measure this device (GEMM FLOP/s by shape, weight streaming at small m, copy bandwidth, launch cost) and
    write a hardware profile for --hardware FILE."""
    r = run_probe(device=device, output=output, hardware_id=hardware_id, base=base, quick=quick, threads=threads,
                  catalog=ctx.catalog if base else None, progress=_say(False))
    path = _save(r, output, as_json)
    if as_json:
        return
    out = console()
    d = r.probe.device
    out.print(f"[bold]{d.description}[/bold] ({d.name}) on {d.host}, torch {d.torch_version}: probed in {r.probe.wall_s:.0f} s")
    out.print(table(None, ["measured", "figure", "note"], r.rows()))
    f = r.factors
    against = f"the datasheet of {r.base}" if r.base else "the best rates measured"
    out.print("efficiency factors (fractions of " + against + "): "
              + ", ".join(f"compute {k} {v:.2f}" for k, v in f.compute_at.items()) + "; "
              + ", ".join(f"weight streaming {k} {v:.2f}" for k, v in f.memory_at.items())
              + f"; other reads {f.memory:.2f}; {f.overhead_s * 1e6:.2f} us per operator")
    out.print(f"wrote {path} (hardware id {r.hardware_id}): use it as --hardware {path}")


def _ms(s: float | None) -> str:
    return "-" if s is None else f"{s * 1e3:,.2f}"


class GridProgress:
    """One bar on stderr over the grid's shapes (all rounds)."""

    def __init__(self, quiet: bool) -> None:
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=console(stderr=True), disable=quiet, transient=False)
        self.task: Any = None

    def __call__(self, done: int, total: int, shape: Shape, rec: Record | None) -> None:
        if self.task is None:
            self.bar.start()
            self.task = self.bar.add_task(shape.label, total=total)
        self.bar.update(self.task, completed=done, description=shape.label if rec is None else f"{shape.label}: "
                        f"{rec.seconds * 1e3:,.2f} ms")

    def stop(self) -> None:
        if self.task is not None:
            self.bar.stop()


@click.command()
@click.option("--model", "model_ref", required=True, metavar="ID|config.json", help="Model id or Hugging Face config.json.")
@click.option("--device", default="cpu", show_default=True, help=DEVICE_HELP)
@click.option("--batch", metavar="N[,N...]", help="Decode batch sizes [default: 1,2,4,8,16].")
@click.option("--context", metavar="N[,N...]", help="Decode contexts, tokens already cached [default: 128,512].")
@click.option("--prefill", metavar="N[,N...]", help="Prefill lengths at batch 1 [default: 32,64,128,256,512].")
@click.option("--precision", metavar="fp32|bf16|fp16", help="Weights and activations [default: fp32 on cpu, bf16 on cuda].")
@click.option("--hardware", "hw_ref", metavar="ID|FILE", help="A profile (from tcobench probe): perf's prediction is "
                                                             "printed beside each shape, and calibrate uses it.")
@click.option("--budget", type=Number(0.001, 60), default=0.3, show_default=True,
              help="Seconds of repetitions per shape and round.")
@click.option("--rounds", type=Count(1, 100), default=2, show_default=True,
              help="Passes over the grid; each shape keeps its fastest (other work on the machine only slows one down).")
@click.option("--threads", type=COUNT, help=THREADS_HELP)
@click.option("--label", default="", help="A label saved with the run.")
@click.option("--endpoint", metavar="URL", help="Measure the model served at this OpenAI-compatible URL through bench "
                                                "instead (--model: the architecture it serves; docs/measure.md).")
@click.option("--served-model", metavar="NAME", help="With --endpoint: the name the server serves [default: the model's id].")
@click.option("--output-len", type=Count(2, 100_000), default=32, show_default=True,
              help="With --endpoint: tokens generated per decode request.")
@click.option("--requests", type=COUNT, default=8, show_default=True,
              help="With --endpoint: requests per level (at least twice its concurrency).")
@click.option("--api", type=click.Choice(["chat", "completions"]), default="completions", show_default=True,
              help="With --endpoint: the API called.")
@click.option("--save/--no-save", default=True, help="Save the records to the store (calibrate reads them).")
@click.option("--json", "as_json", is_flag=True)
@pass_context
def measure(ctx: Context, /, model_ref: str, device: str, batch: str | None, context: str | None, prefill: str | None,
            precision: str | None, hw_ref: str | None, budget: float, rounds: int, threads: int | None, label: str,
            endpoint: str | None, served_model: str | None, output_len: int, requests: int, api: str,
            save: bool, as_json: bool) -> None:
    """Time prefill and decode of a Llama-shaped model with random weights on this device, or of the model served
    at --endpoint; save the records. Ctrl-C stops early and keeps the shapes measured (exit 130)."""
    store = ctx.store if save else None  # a store that cannot open fails before anything is measured
    if endpoint is not None:
        if hw_ref is not None:
            raise click.UsageError("--hardware goes with a device measurement; for --endpoint, calibrate the run with "
                                   "calibrate --run ID --hardware FILE")
        r = run_measure(model_ref, batch=batch, context=context, prefill=prefill, precision=precision,
                        catalog=ctx.catalog, endpoint=endpoint, served_model=served_model, output_len=output_len,
                        requests=requests, api=api)  # type: ignore[arg-type]
    else:
        bar = GridProgress(as_json)
        try:
            r = run_measure(model_ref, device=device, batch=batch, context=context, prefill=prefill, precision=precision,
                            hardware=hw_ref, budget=budget, rounds=rounds, threads=threads, catalog=ctx.catalog,
                            say=_say(False), progress=bar)
        finally:
            bar.stop()
    doc = r.to_dict()
    if store is not None and r.records:
        inputs = {"model": model_ref, "device": device, "batch": batch, "context": context, "prefill": prefill,
                  "precision": r.precision, "hardware": r.hardware, "budget": budget, "rounds": rounds, "threads": threads,
                  **({"endpoint": r.device["url"], "served_model": r.device["name"], "output_len": output_len,
                      "requests": requests, "api": api} if endpoint is not None else {})}
        doc["run_id"] = store.save(r.to_run(__version__, inputs, label))
    if as_json:
        print_json(doc)
    else:
        _render_measure(r, doc.get("run_id"))
    if r.interrupted:
        console(stderr=True).print("Interrupted: kept the shapes measured so far.")
        sys.exit(130)


def _render_measure(r: Any, run_id: int | None) -> None:
    out = console()
    d = r.device
    where = (f"{d['description']} through bench (p50 of each level's requests)" if d.get("kind") == "endpoint" else
             f"{d['description']} ({d['name']}), torch {d['torch_version']}")
    weights = "" if d.get("kind") == "endpoint" else ", random weights"
    out.print(f"[bold]{r.model.id}[/bold] ({r.model.layers} layers, hidden {r.model.hidden}, {r.precision}{weights}) "
              f"on {where}: {len(r.records)} shapes in {r.wall_s:.0f} s" + (" (interrupted)" if r.interrupted else ""))
    served = d.get("kind") == "endpoint"  # a record is a level's p50, with its p99 beside it
    cols = (["phase", "batch", "tokens"] + (["p50 ms", "p99 ms", "requests"] if served else ["measured ms", "median ms"])
            + (["predicted ms", "pred / meas"] if r.predicted else []))
    rows = []
    for i, rec in enumerate(r.records):
        row = [rec.phase, rec.batch, f"{rec.input_len} in" if rec.phase == "prefill" else f"{rec.input_len} cached",
               _ms(rec.seconds), *([_ms(rec.high_s), rec.reps] if served else [_ms(rec.median_s)])]
        if r.predicted:
            p = r.predicted[i]
            row += [_ms(p), "-" if p is None else f"{p / rec.seconds:.2f}"]
        rows.append(row)
    out.print(table(None, cols, rows, justify=["left"] + ["right"] * (len(cols) - 1)))
    if r.predicted:
        out.print(f"predicted by perf with {r.hardware}, before calibration")
    for note in d.get("skipped") or ():
        out.print(f"skipped: {note}")
    if run_id is not None:
        out.print(f"saved as run {run_id}: tcobench calibrate --run {run_id}" + ("" if r.hardware else " --hardware FILE"))


@click.command()
@click.option("--run", "run_ids", type=COUNT, multiple=True, required=True, metavar="ID",
              help="A `tcobench measure` run id (repeatable: runs of one model and format).")
@click.option("--hardware", "hw_ref", metavar="ID|FILE", help="The profile to calibrate [default: the runs' --hardware].")
@click.option("--holdout", type=Count(0, 1000), default=5, show_default=True,
              help="k of a k-fold check: each record predicted by a fit that did not see it (0: none).")
@click.option("-o", "--output", metavar="FILE", help="Where to write the calibrated profile [default: <id>.toml here].")
@click.option("--id", "hardware_id", metavar="ID", help="Hardware id of the calibrated profile [default: <base>-calibrated].")
@click.option("--json", "as_json", is_flag=True)
@pass_context
def calibrate(ctx: Context, /, run_ids: tuple[int, ...], hw_ref: str | None, holdout: int, output: str | None,
              hardware_id: str | None, as_json: bool) -> None:
    """Fit perf's efficiency factors to measured runs; write a calibrated profile and report the fit on the
    records used and on held-out ones."""
    r = run_calibrate(list(run_ids), hardware=hw_ref, holdout=holdout, output=output, hardware_id=hardware_id,
                      catalog=ctx.catalog, db=ctx.db)
    path = _save(r, output, as_json)
    if as_json:
        return
    out = console()
    out.print(f"[bold]{r.model}[/bold] in {r.precision} on {r.hardware}: {len(r.records)} records from run(s) "
              f"{', '.join(map(str, r.runs))}")
    rows = []
    for f in r.factors:
        rows.append([f.name.replace("_", " "), _factor(f.name, f.before), _factor(f.name, f.after), f"x{f.after / f.before:.2f}",
                     "no record depends on it: left as it was" if not f.sensitive else
                     "above the probe's figure: the profile's peak (bandwidth) is raised to match" if f.after > 1 else ""])
    out.print(table("factors", ["factor", "before", "after", "moved", "note"], rows,
                    justify=["left", "right", "right", "right", "left"]))
    s = r.fit_summary()
    fit_rows = [["used in the fit, before", s["before"]["records"], _pct(s["before"]["median_abs_error"]), _pct(s["before"]["max_abs_error"])],
                ["used in the fit, after", s["after"]["records"], _pct(s["after"]["median_abs_error"]), _pct(s["after"]["max_abs_error"])]]
    if "held_out" in s:
        h = s["held_out"]
        fit_rows.append([f"held out ({h['folds']}-fold)", h["records"], _pct(h["median_abs_error"]), _pct(h["max_abs_error"])])
    out.print(table("|predicted / measured - 1|", ["records", "n", "median", "max"], fit_rows,
                    justify=["left", "right", "right", "right"]))
    rec_rows = [[rec.phase, rec.batch, rec.input_len, _ms(rec.seconds), _ms(b), _ms(a), _ms(h)]
                for rec, b, a, h in zip(r.records, r.predicted_before, r.predicted_after, r.predicted_held_out, strict=True)]
    out.print(table(None, ["phase", "batch", "tokens", "measured ms", "before ms", "after ms", "held-out ms"], rec_rows,
                    justify=["left"] + ["right"] * 6))
    out.print(f"wrote {path} (hardware id {r.hardware_id}): use it as --hardware {path}")


def _factor(name: str, v: float) -> str:
    return f"{v * 1e6:.3g} us" if name == "overhead" else f"{v:.3g}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


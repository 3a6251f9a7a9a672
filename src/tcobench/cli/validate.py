"""``tcobench validate``: the performance model against published results, error per row."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape

from tcobench import __version__, api
from tcobench.cli.context import Context, pass_context
from tcobench.cli.render import console, print_json, table
from tcobench.cli.predict import render
from tcobench.perf.validate import GROUPS, Outcome, predict_command
from tcobench.records import Provenance, Run


@click.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--save", is_flag=True, help="Save the comparison to the results store.")
@click.option("--by", default="phase", show_default=True,
              help=f"Summarise the error per group of rows: one of {', '.join(GROUPS)}, or several joined by commas "
                   "(e.g. batching,phase).")
@click.option("--row", "row_ids", multiple=True,
              help="Only these rows: an id or a shell pattern such as 'azure-*' (repeatable).")
@click.option("--explain", is_flag=True,
              help="For each row: the `tcobench predict` command that reproduces it and its per-operator breakdown.")
@click.option("--training", is_flag=True,
              help="Also print the training rows (tcobench train against published runs) and their summary; --json always "
                   "carries them.")
@pass_context
def validate(ctx: Context, as_json: bool, save: bool, by: str, row_ids: tuple[str, ...], explain: bool,
             training: bool) -> None:
    """Predicted vs published for the shipped reference set (MLPerf, TensorRT-LLM, DeepSpeed BLOOM, PaLM, Azure)."""
    res = api.validate(by=by, row=row_ids, explain=explain, catalog=ctx.catalog)
    rows, summ, outcomes = res.rows, res.summary, res.outcomes
    for r in rows if not as_json else ():  # the operators are printed below, not saved
        r.pop("ops", None)
    doc: dict[str, Any] = res.to_dict()
    if save:
        doc["run_id"] = ctx.store.save(Run(command="validate", provenance=Provenance.PREDICTED, inputs={}, outputs=doc,
                                           tool_version=__version__, label="validation set"))
    if as_json:
        print_json(doc)
        return
    out = console()
    out.print(table("predicted vs published", ["id", "ref", "phase", "metric", "published", "predicted", "error", "note"],
                    [(r["id"], r["ref"], r["phase"], r["metric"], _num(r["published"]), _num(r["predicted"]),
                      f"{r['error']:+.0%}" if r["error"] is not None else "", r["problem"] or "") for r in rows],
                    justify=["left", "left", "left", "left", "right", "right", "right", "left"]))
    med, mx = summ["median_abs_error"], summ["max_abs_error"]
    ts = res.training_summary
    if res.training and not training and ts.get("compared"):
        out.print(f"(training, apart: {ts['compared']} rows compared, median |error| {ts['median_abs_error']:.1%}, signed "
                  f"{ts['median_error']:+.1%}; tcobench validate --training lists them)")
    ws = res.workloads_summary
    if res.workloads and not training and ws.get("compared"):
        out.print(f"(training workloads that are not LLMs, apart: {ws['compared']} MLPerf v1.0 rows, median |error| "
                  f"{ws['median_abs_error']:.1%}; tcobench validate --training lists them)")
    if med is None:  # every selected row was skipped: nothing to take a median of
        out.print(f"0 rows compared, {summ['skipped']} skipped (each row's reason is in its note column)")
    else:
        out.print(f"{summ['compared']} rows compared, {summ['skipped']} skipped; median |error| {med:.1%}, max |error| "
                  f"{mx:.1%}; {summ['within_2x']}/{summ['compared']} within 2x")
    for name, s in summ["groups"][by].items():
        out.print(f"  {name}: median |error| {s['median_abs_error']:.1%} (median signed {s['median_error']:+.1%}), "
                  f"max {s['max_abs_error']:.1%} over {s['rows']} rows")
    if res.training and training:
        _training(res.training, res.training_summary)
    if res.workloads and training:
        _workloads(res.workloads, res.workloads_summary)
    if explain:
        _explain(outcomes)
    if save:
        click.echo(f"saved as run {doc['run_id']}", err=True)


def _training(rows: list[dict[str, Any]], summ: dict[str, Any]) -> None:
    """The training rows, apart from inference: their own table and summary (error: + means the model is too fast)."""
    out = console()
    out.print()
    out.print(table("training: predicted vs published", ["id", "source", "metric", "published", "predicted", "error", "note"],
                    [(r["id"], r["group"], r["metric"], _num(r["published"]), _num(r["predicted"]),
                      f"{r['error']:+.0%}" if r["error"] is not None else "", r["problem"] or "") for r in rows],
                    justify=["left", "left", "left", "right", "right", "right", "left"]))
    if summ.get("compared"):
        out.print(f"training: {summ['compared']} rows compared, {summ['skipped']} skipped; median |error| "
                  f"{summ['median_abs_error']:.1%} (median signed {summ['median_error']:+.1%}, + = the model is too fast), "
                  f"max {summ['max_abs_error']:.1%}")
        for name, s in summ["groups"].items():
            out.print(f"  {name}: median |error| {s['median_abs_error']:.1%} (signed {s['median_error']:+.1%}) over {s['rows']} rows")


def _workloads(rows: list[dict[str, Any]], summ: dict[str, Any]) -> None:
    """The FLOPs-per-sample workloads (MLPerf v1.0 BERT-large, ResNet-50), apart from the LLM training rows: time to
    train in minutes, error + when the model is too fast."""
    out = console()
    out.print()
    out.print(table("training, workloads that are not LLMs: predicted vs published time to train (min)",
                    ["id", "ref", "hardware", "chips", "published", "predicted", "error", "MFU", "note"],
                    [(r["id"], r["ref"], r["hardware"], str(r["chips"]), _num(r["published"]), _num(r["predicted"]),
                      f"{r['error']:+.0%}" if r["error"] is not None else "", f"{r['mfu']:.0%}" if r["mfu"] else "",
                      r["problem"] or "") for r in rows],
                    justify=["left", "left", "left", "right", "right", "right", "right", "right", "left"]))
    if summ.get("compared"):
        out.print(f"workloads: {summ['compared']} rows compared, {summ['skipped']} skipped; median |error| "
                  f"{summ['median_abs_error']:.1%} (median signed {summ['median_error']:+.1%}, + = the model is too fast), "
                  f"max {summ['max_abs_error']:.1%}")
        for name, s in summ["groups"].items():
            out.print(f"  {name}: median |error| {s['median_abs_error']:.1%} (signed {s['median_error']:+.1%}) over {s['rows']} rows")


def _explain(outcomes: list[Outcome]) -> None:
    out = console()
    for o in outcomes:
        if o.prediction is None:
            continue
        out.print(f"\n[bold]{escape(o.row.id)}[/bold]: " + escape(f"published {_num(o.row.published)}, predicted {_num(o.predicted)} "
                                                             f"{o.row.metric} ({o.error:+.0%}); {o.row.source}"))
        out.print(escape(f"  reproduce: {predict_command(o.row, o.prediction.serving)}"), soft_wrap=True)
        if o.row.engine:
            fixed = ", ".join(f"{k} = {v:g}" for k, v in o.row.engine.items())
            out.print(escape(f"  with the engine settings the source fixed ({fixed}): a hardware file's [efficiency] table "
                             "sets them"), soft_wrap=True)
        render(o.prediction, True)


def _num(v: float | None) -> str:
    if v is None:
        return ""
    return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"

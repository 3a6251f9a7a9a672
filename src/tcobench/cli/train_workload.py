"""``tcobench train --workload``: a workload known by its FLOPs per sample (BERT-large, ResNet-50) trained on
``--samples``: step, samples/s, MFU, and the time, dollars and energy (``tcobench.train_workload``)."""

from __future__ import annotations

from typing import Any

import click

from tcobench import __version__, units
from tcobench.api.workload import WorkloadTrainingResult, train_workload
from tcobench.cli.context import Context
from tcobench.cli.render import console, per_s, print_json, table
from tcobench.records import Provenance, Run

PART_NAMES = {"compute": "forward + backward", "memory": "memory-bound operators", "recompute": "recomputed forward", "pp_bubble": "pipeline fill and drain",
              "dp_comm": "gradient all-reduce (not overlapped)", "optimizer": "optimizer step"}
LLM_ONLY = ("seq_len", "micro_batch", "tp", "dp", "cp", "ep", "vpp", "zero", "zero_group", "layout")
COST_KEYS = ("cost_basis", "amortisation_years", "cost_of_capital", "utilisation", "pue", "electricity", "hosting", "maintenance")


def run_workload(ctx: Context, workload: str, hw_ref: str, *, model_ref: str | None, samples: str | None,
                 accumulation: int | None, eval_samples: str, as_json: bool, save: bool, kw: dict[str, Any]) -> None:
    """Check the flags that fit a workload, call the library, render or print --json, save when asked."""
    if model_ref is not None:
        raise click.UsageError("give --model or --workload, not both")
    if samples is None:
        raise click.UsageError("Missing option '--samples' (how many samples --workload trains on, e.g. 3e6).")
    for k in LLM_ONLY:
        if kw.get(k) is not None:
            raise click.UsageError(f"--{k.replace('_', '-')} describes a transformer layout; --workload takes --chips, --pp, "
                                   "--accumulation, --global-batch, --recompute none|full")
    cost = {k: kw[k] for k in COST_KEYS if kw.get(k) is not None}
    hw = ctx.catalog.hardware_ref(hw_ref, where="--hardware")
    r = train_workload(workload, hw, chips=kw["chips"], samples=samples, global_batch=kw.get("global_batch"),
                       pp=kw.get("pp") or 1, accumulation=accumulation, precision=kw.get("precision"),
                       recompute=kw.get("recompute") or "none", eval_samples=eval_samples, imbalance=kw.get("imbalance") or 1.0,
                       basis=kw["basis"], price_hour=kw.get("price_hour"), price_chip=kw.get("price_chip"),
                       catalog=ctx.catalog, **cost)
    doc = r.to_dict()
    if save:
        inputs = {"workload": workload, "hardware": hw_ref, "samples": samples, "eval_samples": eval_samples,
                  **{k: v for k, v in kw.items() if v is not None}}
        doc["run_id"] = ctx.store.save(Run(command="train", provenance=Provenance.PREDICTED, inputs=inputs, outputs=dict(doc),
                                           tool_version=__version__,
                                           label=f"train {r.profile.id} on {kw['chips']} x {hw.id}"))
    if as_json:
        print_json(doc)
        return
    render(r)
    if save:
        click.echo(f"saved as run {doc['run_id']}", err=True)
    _track_record(ctx, hw.vendor, r.profile.id)


def _money(x: float) -> str:
    return f"${x / 1e6:,.2f}M" if x >= 1e6 else f"${x / 1e3:,.1f}k" if x >= 1e3 else f"${x:,.2f}"


def _span(s: tuple[float, float, float] | None, fmt: Any) -> str:
    return "-" if s is None else f"{fmt(s[1])} ({fmt(s[0])} – {fmt(s[2])})"


def _time(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:,.1f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:,.1f} h"
    return f"{seconds / 60:,.1f} min" if seconds >= 120 else units.human(seconds, "s")


def render(r: WorkloadTrainingResult) -> None:
    out = console()
    t, p = r.training, r.profile
    out.print(f"[bold]{p.id}[/bold] ({p.name}) on {t.chips} x {t.hardware}: dp={t.dp} pp={t.pp}, {t.accumulation} micro-batch(es) "
              f"of {t.micro_batch} {p.unit}s per replica per step, {t.recompute if t.recompute != 'none' else 'no'} recomputation, "
              f"{t.precision}")
    out.print(f"global batch {t.global_batch} {p.unit}s; {units.human(p.forward_flop.value, 'FLOP')} forward per {p.unit} "
              f"x {p.train_multiplier.value:g} to train ({', '.join(sorted(p.sources))})")
    rows = [
        ("step time", units.human(t.step_time_s, "s"), f"{t.parts['pp_bubble'] / t.step_time_s:.1%} pipeline bubble"),
        ("throughput", f"{t.samples_per_s:,.0f} {p.unit}s/s", f"{per_s(t.samples_per_s_per_chip)} per chip"),
        ("MFU", f"{t.mfu:.1%}", f"HFU {t.hfu:.1%}; compute efficiency {t.efficiency:.2f} at {t.precision} "
                                 + ("" if t.validated else "(GEMM factor; UNVALIDATED for convolutions)")),
        ("time to train", _time(r.time_to_train_s), f"{r.samples:.4g} {p.unit}s, {r.steps:,} steps"
                                                  + (f", evaluation {_time(r.eval_s)}" if r.eval_samples else "")),
    ]
    for b, spend in r.usd_to_train.items():
        rows.append((f"$ to train ({b})", _span(spend, _money), r.usd_notes[b]))
    rows.append(("energy", _span(r.energy_kwh, lambda x: f"{x / 1e3:,.1f} MWh" if x >= 1e3 else f"{x:,.1f} kWh"),
                 "IT energy at rated power x utilisation, no PUE"))
    rows.append((f"{p.unit}s per kWh", _span(r.samples_per_kwh, lambda x: f"{x:,.3g}"), ""))
    rows.append(("memory per chip", "not modelled", "the profile has no activation sizes"))
    out.print(table(None, ["metric", "value", "note"], rows))
    parts = [(PART_NAMES[k], units.human(v, "s"), f"{v / t.step_time_s:.1%}") for k, v in t.parts.items() if v > 0]
    out.print(f"one step, on the critical path (gradients over the {t.link} tier):")
    out.print(table(None, ["part", "time", "share"], parts, justify=["left", "right", "right"]))


def _track_record(ctx: Context, vendor: str, workload: str) -> None:
    """How far to trust this: the MLPerf rows of the same vendor and workload in `tcobench validate --training`."""
    from tcobench.perf import validate_workloads

    outs = [o for o in validate_workloads.run(ctx.catalog) if o.error is not None and o.vendor == vendor
            and o.row.workload == workload]
    if not outs:
        console().print(f"track record: no published {workload} training result for {vendor or 'this vendor'} in "
                        "`tcobench validate --training`; unvalidated")
        return
    errs = sorted(o.error for o in outs if o.error is not None)
    spread = f"{errs[0]:+.0%}" if len(errs) == 1 else f"{errs[0]:+.0%} to {errs[-1]:+.0%}"
    console().print(f"track record: on {len(errs)} published {vendor} {workload} result(s) (MLPerf v1.0) the model is "
                    f"{spread} (+ = too fast); docs/training.md, 'Workloads that are not LLMs'")

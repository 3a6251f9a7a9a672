"""``tcobench plan``: fleet sizing for a demand, per hardware, sorted by cost."""

from __future__ import annotations

from typing import Any

import click

from tcobench import checks, units
from tcobench import api
from tcobench.cli.compare import (
    _span, _widened, cost_options, deployment_text, money, on_workers, search_options, serving_only, train_options,
    train_table,
)
from tcobench.cli.context import Context, pass_context
from tcobench.cli.options import Choice, Number, cluster_options
from tcobench.cli.render import console, print_json, print_trusts, table


@click.command()
@search_options
@click.option("--qps", type=Number(0, checks.MAX_COUNT, low_open=True),
              help="Average requests per second (required unless --train).")
@click.option("--peak-factor", type=Number(1, 1000), default=1.0, show_default=True,
              help="Size for qps x this (peak over average).")
@click.option("--basis", type=Choice(["own", "rent"]), default="own", show_default=True)
@cost_options
@train_options
@cluster_options
@click.option("--json", "as_json", is_flag=True)
@pass_context
def plan(ctx: Context, /, model_ref: str, hw_spec: str | None, workload: str | None, input_len: int | None,
         output_len: int | None, precisions: str | None, qps: float | None, peak_factor: float, basis: str, as_json: bool,
         **kw: Any) -> None:
    """Replicas and chips per hardware to serve --qps, utilisation, $/month and $/1M output tokens; with --train, the
    fewest chips per hardware that train the model on --tokens within --deadline."""
    train, tokens, deadline = kw.pop("train"), kw.pop("tokens"), kw.pop("deadline")
    serving_only(train, kw)
    if train:
        if kw.pop("runtime") is not None:
            raise click.UsageError("--runtime is a serving stack; with --train the frameworks are training's "
                                   "(docs/training.md)")
        if qps is not None:
            raise click.UsageError("--qps describes serving; with --train give --tokens and --deadline")
        train_table(ctx, "plan", model_ref, hw_spec, precisions, basis, tokens, deadline, as_json, False,
                    {**kw, "workload": workload})
        return
    if qps is None:
        raise click.UsageError("Missing option '--qps' (or --train for a training workload).")
    res = api.plan(model_ref, hw_spec, qps=qps, workload=workload, input_len=input_len, output_len=output_len,
                   precision=precisions, peak_factor=peak_factor, basis=basis, catalog=ctx.catalog, **kw)  # type: ignore[arg-type]
    rows, evaluated, n_in, n_out = res.rows, res.evaluated, res.input_len, res.output_len
    doc = res.to_dict()
    if as_json:
        print_json(doc)
        return
    title = (f"{res.model}: {qps:g} req/s x {peak_factor:g} peak, {n_in} in / {n_out} out, {basis}"
             + (f", TTFT <= {units.human(kw['slo_ttft'], 's')}" if kw.get("slo_ttft") else "")
             + (f", TPOT <= {units.human(kw['slo_tpot'], 's')}" if kw["slo_tpot"] else "") + f": {evaluated:,} configurations"
             + on_workers(res.workers))
    by_slo = any(r.sized_by == "slo p99" for r in rows)
    if by_slo:
        title += "; replicas sized by the simulated p99 TTFT and TPOT under Poisson arrivals (docs/serving.md)"
    body = []
    for r in rows:
        d = r.deployment
        dep = deployment_text(d)
        body.append([r.hardware, dep, r.replicas or "-", r.chips or "-", f"{r.utilisation:.0%}" if r.utilisation else "-",
                     units.human(r.tpot_s, "s") if r.tpot_s else "-",
                     _span(_widened(r.usd_per_month, res.trust.get(r.hardware)), money),
                     _span(_widened(r.usd_per_1m_output_tokens, res.trust.get(r.hardware)), money), r.excluded_reason or ""])
        if by_slo:
            body[-1][6:6] = [units.human(r.ttft_p99_s, "s") if r.ttft_p99_s else "-",
                             units.human(r.tpot_p99_s, "s") if r.tpot_p99_s else "-"]
    heads = ["hardware", "replica", "replicas", "chips", "util", "TPOT", "$/month", "$/1M out", "note"]
    justify = ["left", "left", "right", "right", "right", "right", "right", "right", "left"]
    if by_slo:
        heads[6:6], justify[6:6] = ["TTFT p99", "TPOT p99"], ["right", "right"]
    console().print(table(title, heads, body, justify=justify))
    print_trusts([res.trust[r.hardware] for r in rows if r.deployment and r.hardware in res.trust])

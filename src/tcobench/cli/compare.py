"""``tcobench compare``: one row per hardware, the cheapest deployment that fits and meets the SLOs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from tcobench import api, units
from tcobench.cli.context import Context, pass_context
from tcobench.cli.options import COUNT, DURATION, Choice, Money, Number, cluster_options
from tcobench.cli.render import console, count, per_s, print_json, print_trusts, table
from tcobench.api.confidence import with_model_error
from tcobench.api.inputs import COST_RANGES
from tcobench.cost import DEFAULT_BASIS
from tcobench.perf.stacks import frameworks
from tcobench.perf.validate import Trust
from tcobench.records import Provenance, Run
from tcobench.search.compare import Deployment
from tcobench.search.goodput import RANKS, SIM_REQUESTS


def cost_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Flags that override the cost basis (each pins its value: no range)."""
    opts = [
        click.option("--cost-basis", default=DEFAULT_BASIS, show_default=True, help="A [cost.<id>] table from the catalog."),
        click.option("--price-hour", type=Money("USD/h"), help="Rent: USD per chip-hour instead of the catalog's cloud rates, "
                                                                 "e.g. 2.49 or '$2.49/h'."),
        click.option("--price-chip", type=Money("USD"), help="Own: purchase price per chip, USD, instead of the catalog's."),
        click.option("--amortisation-years", type=Number(**COST_RANGES["amortisation_years"]), help="Own: economic life."),
        click.option("--cost-of-capital", type=Number(**COST_RANGES["cost_of_capital"]), help="Own: per year, e.g. 0.08."),
        click.option("--utilisation", type=Number(**COST_RANGES["utilisation"]), help="Own: average power / rated power."),
        click.option("--pue", type=Number(**COST_RANGES["pue"]), help="Own: facility power / IT power."),
        click.option("--electricity", help="Own: energy price, e.g. '$0.12/kWh'."),
        click.option("--hosting", help="Own: colocation rent per provisioned power, e.g. '$150/kW/month'."),
        click.option("--maintenance", type=Number(**COST_RANGES["maintenance"]), help="Own: per year, fraction of purchase price."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


RUNTIME_OPTION = click.option(
    "--runtime", help="Serving stack from the catalog (tcobench catalog list runtimes): one id for every chip, or "
                      "HW=ID pairs, e.g. 'mi300x=vllm-0.6-rocm,h100-sxm=trtllm' [default: default].")


def search_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option("--model", "model_ref", required=True, help="Model id, catalog file, or config.json path."),
        click.option("--hardware", "hw_spec", help="Comma-separated hardware ids, or 'all' [default: all]."),
        click.option("--workload", help="Preset: chat, reasoning, summarize, mlperf-llama2 (see catalog)."),
        click.option("--input-len", type=COUNT, help="Prompt tokens (overrides --workload)."),
        click.option("--output-len", type=COUNT, help="Generated tokens (overrides --workload)."),
        click.option("--slo-ttft", type=DURATION, help="Largest TTFT allowed, e.g. 2s."),
        click.option("--slo-tpot", type=DURATION, help="Largest TPOT allowed, e.g. 50ms."),
        click.option("--precision", "precisions", help="Pin precisions, e.g. 'fp8' or 'bf16,fp8' [default: what each chip supports]."),
        click.option("--max-chips", type=COUNT, default=64, show_default=True, help="Largest replica tried."),
        RUNTIME_OPTION,
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def deployment_text(d: Deployment | None) -> str:
    """'8x tp8 pp1 b256 fp8', the serving stack after it when not the default ('... fp8 vllm-0.6-rocm')."""
    if d is None:
        return "-"
    return (f"{d.chips}x tp{d.tp} pp{d.pp}" + (f" ep{d.ep}" if d.ep > 1 else "") + f" b{d.batch} {d.precision}"
            + (f" {d.runtime}" if d.runtime != "default" else ""))


def _span(s: tuple[float, float, float] | None, fmt: Callable[[float], str]) -> str:
    if s is None:
        return "-"
    lo, mid, hi = s
    return fmt(mid) if lo == hi else f"{fmt(mid)} ({fmt(lo)}–{fmt(hi)})"


def _widened(span: tuple[float, float, float] | None, t: Trust | None, *,
             per_token: bool = False) -> tuple[float, float, float] | None:
    """A cost (or, ``per_token``, a tokens-per-kWh) range with the model's error of its group folded in, where the
    group is validated."""
    wide = with_model_error(span, t, per_token=per_token) if span is not None and t is not None else None
    return span if span is None or wide is None else (wide[0], span[1], wide[1])


def _model_error(t: Trust | None, phase: str = "inflight throughput") -> str:
    """The table's word on how far to trust a row: its group's median error on serving-engine throughput."""
    if t is None:
        return "-"
    r, n = t.phase(phase), int(t.phases.get(phase, {}).get("rows", 0))
    return f"{float(r['median_error']):+.0%} (n={n})" if r is not None else f"unvalidated (n={n})"


def train_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--train and its budget: the same command for a training workload."""
    opts = [
        click.option("--train", is_flag=True, help="A training workload: --tokens within --deadline (docs/training.md)."),
        click.option("--tokens", default="1e12", show_default=True, help="With --train: training tokens."),
        click.option("--deadline", type=DURATION, help="With --train: the longest the run may take, e.g. '14 days'."),
        click.option("--framework", type=Choice(list(frameworks())),
                     help="With --train: training stack (docs/training.md) [default: megatron]."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def serving_only(train: bool, kw: dict[str, Any]) -> None:
    """--framework belongs to --train: without it, a UsageError; with it, nothing to do (train_table reads it)."""
    if not train and kw.pop("framework") is not None:
        raise click.UsageError("--framework names a training stack: add --train (a serving stack is --runtime)")


def train_table(ctx: Context, command: str, model_ref: str, hw_spec: str | None, precisions: str | None, basis: str,
                tokens: str, deadline: float | None, as_json: bool, save: bool, kw: dict[str, Any]) -> None:
    """compare --train / plan --train: the training comparison, rendered or as --json, saved when asked."""
    from tcobench.api.training import compare_training
    from tcobench.cli.train import render_compare

    for flag, key in (("--workload", "workload"), ("--slo-ttft", "slo_ttft"), ("--slo-tpot", "slo_tpot"), ("--qps", "qps")):
        if kw.get(key) is not None:
            raise click.UsageError(f"{flag} describes serving; with --train give --tokens and --deadline")
    for key in ("workload", "slo_ttft", "slo_tpot", "input_len", "output_len", "qps", "peak_factor", "pareto"):
        kw.pop(key, None)
    precision = (precisions or "bf16").split(",")[0].strip().lower()
    hw = None if hw_spec in (None, "all") else hw_spec
    max_chips = kw.pop("max_chips")
    kw["framework"] = kw.get("framework") or "megatron"
    res = compare_training(model_ref, hw, tokens=tokens, deadline=deadline, precision=precision, basis=basis,  # type: ignore[arg-type]
                           objective="cost" if command == "compare" else "chips",
                           max_chips=max_chips if max_chips != 64 else 16384, catalog=ctx.catalog, **kw)
    doc = res.to_dict()
    if save:
        doc["run_id"] = ctx.store.save(Run(command=command, provenance=Provenance.PREDICTED,
                                           inputs={k: v for k, v in doc.items() if k != "rows"}, outputs={"rows": doc["rows"]},
                                           tool_version=__import__("tcobench").__version__))
    if as_json:
        print_json(doc)
        return
    render_compare(res)
    if save:
        click.echo(f"saved as run {doc['run_id']}", err=True)


def _at_rate_table(rate: float, rank: str, rows: list[Any], basis: str, slo: str) -> None:
    """Each row's replica served at ``rate`` in the simulator, in the order ``rank`` gives (search/goodput.py)."""
    cols = ["hardware", "goodput tok/s", "SLO met", "TTFT p99", "TPOT p99", "queue"]
    cols += [c for b, c in (("own", "$/1M good (own)"), ("rent", "$/1M good (rent)")) if basis in (b, "both")]
    body = []
    for r in rows:
        a = r.at_rate
        if a is None:
            continue
        cells = [r.hardware, f"{a.goodput_tokens_per_s:,.0f}", f"{a.slo_met:.1%}", units.human(a.ttft_p99_s, "s"),
                 units.human(a.tpot_p99_s, "s") if a.tpot_p99_s is not None else "-",
                 "grows without bound" if a.saturated else "keeps up"]
        if basis in ("own", "both"):
            cells.append(_span(a.usd_per_1m_good_tokens_own, money))
        if basis in ("rent", "both"):
            cells.append(_span(a.usd_per_1m_good_tokens_rent, money))
        body.append(cells)
    title = (f"at {rate:g} requests/s (Poisson, {SIM_REQUESTS:,} simulated) per replica{', ' + slo if slo else ''}; "
             f"ranked by {rank}")
    console().print(table(title, cols, body, justify=["left"] + ["right"] * (len(cols) - 1)))


def on_workers(workers: int | None) -> str:
    """' on 2 Dask workers' for a title, '' in one process."""
    return "" if workers is None else f" on {workers} Dask worker{'s' if workers > 1 else ''}"


def money(v: float) -> str:
    return f"${v:.3g}" if v < 100 else f"${v:,.0f}"


@click.command()
@search_options
@click.option("--basis", type=Choice(["own", "rent", "both"]), default="both", show_default=True)
@cost_options
@click.option("--pareto", is_flag=True, help="Also print, per hardware, the front of tokens/s per chip vs interactivity.")
@click.option("--rate", type=Number(0.0, low_open=True),
              help="Also serve each row's replica at this many requests/s (Poisson) in the serving simulator: goodput under "
                   "the SLOs, p99 latencies and $/1M good output tokens (docs/serving.md).")
@click.option("--rank", type=Choice(list(RANKS)), default="cost", show_default=True,
              help="Order the rows by steady-state $/1M output tokens (cost), by goodput at --rate (goodput), or by $/1M "
                   "output tokens that met the SLOs at --rate (good-cost).")
@train_options
@click.option("--measured", "measured_run", type=COUNT, metavar="RUN",
              help="A saved bench or measure run: each measurement beside the prediction on each --hardware "
                   "(docs/measure.md).")
@click.option("--claims", "claims_file", type=click.Path(exists=True, dir_okay=True),
              help="With --measured: claims (kind 'measured') that cite the run, shown on their rows.")
@cluster_options
@click.option("--json", "as_json", is_flag=True)
@click.option("--save", is_flag=True, help="Save the comparison to the results store.")
@pass_context
def compare(ctx: Context, /, model_ref: str, hw_spec: str | None, workload: str | None, input_len: int | None,
            output_len: int | None, precisions: str | None, basis: str, pareto: bool, rate: float | None, rank: str,
            as_json: bool, save: bool, **kw: Any) -> None:
    """Cheapest deployment per hardware for a model and workload, $/1M output tokens own and/or rent; with --train,
    the cheapest way to train the model on --tokens within --deadline; with --measured RUN, claimed, predicted and
    measured on one row for each measurement of a saved run."""
    cat = ctx.catalog
    train, tokens, deadline = kw.pop("train"), kw.pop("tokens"), kw.pop("deadline")
    serving_only(train, kw)
    measured_run, claims_file = kw.pop("measured_run"), kw.pop("claims_file")
    if measured_run is not None:
        if kw["workers"] is not None or kw["scheduler"] is not None:
            raise click.UsageError("--workers and --scheduler run compare's search on Dask; --measured RUN compares a "
                                   "saved run in this process: leave them out")
        from tcobench.cli.sidebyside import render_side_by_side

        render_side_by_side(ctx, measured_run, model_ref, hw_spec, claims_file, precisions, as_json)
        return
    if claims_file is not None:
        raise click.UsageError("--claims goes with --measured RUN (the claims that cite that run)")
    if train:
        if kw.pop("runtime") is not None:
            raise click.UsageError("--runtime is a serving stack; with --train the frameworks are training's "
                                   "(docs/training.md)")
        if rate is not None or rank != "cost":
            raise click.UsageError("--rate and --rank describe serving; with --train give --tokens and --deadline")
        train_table(ctx, "compare", model_ref, hw_spec, precisions, basis, tokens, deadline, as_json, save, kw)
        return
    res = api.compare(model_ref, hw_spec, workload=workload, input_len=input_len, output_len=output_len, precision=precisions,
                      basis=basis, pareto=pareto, rate=rate, rank=rank, catalog=cat, **kw)  # type: ignore[arg-type]
    rows, evaluated, n_in, n_out, wl = res.rows, res.evaluated, res.input_len, res.output_len, res.workload
    doc = res.to_dict()
    if save:
        inputs = {k: v for k, v in doc.items() if k != "rows"}
        doc["run_id"] = ctx.store.save(Run(command="compare", provenance=Provenance.PREDICTED, inputs=inputs,
                                           outputs={"rows": doc["rows"]}, tool_version=__import__("tcobench").__version__))
    if as_json:
        print_json(doc)
        return
    out = console()
    slo = ", ".join(f"{k} <= {units.human(v, 's')}" for k, v in (("TTFT", kw["slo_ttft"]), ("TPOT", kw["slo_tpot"])) if v)
    title = (f"{res.model}, {wl} ({n_in} in / {n_out} out){', ' + slo if slo else ''}: {evaluated:,} configurations"
             f"{on_workers(res.workers)}")
    cols = ["hardware", "deployment", "TTFT", "TPOT", "tok/s/user", "tok/s/chip"]
    cols += [c for b, c in (("own", "$/1M out (own)"), ("rent", "$/1M out (rent)")) if basis in (b, "both")]
    cols += ["tokens/kWh", "model error", "note"]
    body = []
    for r in rows:
        d = r.deployment
        dep = deployment_text(d)
        cells = [r.hardware, dep, units.human(r.ttft_s, "s") if r.ttft_s else "-", units.human(r.tpot_s, "s") if r.tpot_s else "-",
                 f"{r.interactivity_tokens_per_s:.1f}" if r.tpot_s else "-",
                 per_s(r.output_tokens_per_s_per_chip) if r.output_tokens_per_s_per_chip else "-"]
        t = res.trust.get(r.hardware)
        if basis in ("own", "both"):
            cells.append(_span(_widened(r.usd_per_1m_output_tokens_own, t), money))
        if basis in ("rent", "both"):
            cells.append(_span(_widened(r.usd_per_1m_output_tokens_rent, t), money))
        cells.append(_span(_widened(r.tokens_per_kwh, t, per_token=True), count))
        cells.append(_model_error(res.trust.get(r.hardware)))
        cells.append(r.excluded_reason or "")
        body.append(cells)
    out.print(table(title, cols, body, justify=["left", "left"] + ["right"] * (len(cols) - 3) + ["left"]))
    notes = sorted({f"{r.hardware} {b}: {n}" for r in rows for b, n in r.price_notes.items() if r.deployment and not n.startswith("no ")})
    for n in notes:
        out.print(f"  price basis: {n}")
    out.print("  $/1M and tokens/kWh ranges: their inputs (low-likely-high) widened by the model's error (10th-90th percentile "
              "of its group's published results) where the group is validated; an unvalidated group's range covers the "
              "inputs only")
    print_trusts([res.trust[r.hardware] for r in rows if r.deployment and r.hardware in res.trust])
    if res.rate is not None:
        _at_rate_table(res.rate, res.rank, rows, basis, slo)
    if pareto:
        for r in rows:
            if r.pareto:
                out.print(table(f"{r.hardware}: Pareto front", ["tok/s/user", "tok/s/chip", "tp", "pp", "batch", "precision"],
                                ([f"{p['interactivity_tokens_per_s']:.1f}", per_s(float(p["output_tokens_per_s_per_chip"])),
                                  int(p["tp"]), int(p["pp"]), int(p["batch"]), p["precision"]] for p in r.pareto)))
    if save:
        click.echo(f"saved as run {doc['run_id']}", err=True)

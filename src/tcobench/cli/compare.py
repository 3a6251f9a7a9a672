"""``tcobench compare``: one row per hardware, the cheapest deployment that fits and meets the SLOs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from tcobench import units
from tcobench.catalog import Catalog, Hardware
from tcobench.cli.context import Context, pass_context
from tcobench.cli.options import DURATION, Choice
from tcobench.cli.render import console, print_json, print_track_record, table
from tcobench.cost import DEFAULT_BASIS, OwnParameters
from tcobench.errors import InputError
from tcobench.perf.validate import run as run_validation
from tcobench.perf.validate import track_record
from tcobench.records import Provenance, Run
from tcobench.search import compare as run_compare


def hardware_list(cat: Catalog, spec: str | None, flag: str = "--hardware") -> list[Hardware]:
    """'h100-sxm,b200' or 'all' (or nothing: all) -> hardware records, with did-you-mean errors."""
    if not spec or spec.strip().lower() == "all":
        return [cat.hardware[k] for k in sorted(cat.hardware)]
    return [cat.hardware_ref(name.strip(), where=flag) for name in spec.split(",") if name.strip()]


def workload_lengths(cat: Catalog, workload: str | None, input_len: int | None, output_len: int | None) -> tuple[int, int, str]:
    """Lengths from --workload or --input-len/--output-len (flags override the preset)."""
    if workload:
        w = cat.get_workload(workload, where="--workload")
        return input_len or w.input_len, output_len or w.output_len, w.id
    if input_len is None or output_len is None:
        raise InputError(f"give --workload ({', '.join(sorted(cat.workloads))}) or both --input-len and --output-len")
    return input_len, output_len, f"{input_len}/{output_len}"


def cost_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Flags that override the cost basis (each pins its value: no range)."""
    opts = [
        click.option("--cost-basis", default=DEFAULT_BASIS, show_default=True, help="A [cost.<id>] table from the catalog."),
        click.option("--price-hour", type=float, help="Rent: USD per chip-hour instead of the catalog's cloud rates."),
        click.option("--price-chip", type=float, help="Own: purchase price per chip, USD, instead of the catalog's."),
        click.option("--amortisation-years", type=click.FloatRange(min=0, min_open=True), help="Own: economic life."),
        click.option("--cost-of-capital", type=click.FloatRange(min=0), help="Own: per year, e.g. 0.08."),
        click.option("--utilisation", type=click.FloatRange(0, 1), help="Own: average power / rated power."),
        click.option("--pue", type=click.FloatRange(min=1), help="Own: facility power / IT power."),
        click.option("--electricity", help="Own: energy price, e.g. '$0.12/kWh'."),
        click.option("--hosting", help="Own: colocation rent per provisioned power, e.g. '$150/kW/month'."),
        click.option("--maintenance", type=click.FloatRange(min=0), help="Own: per year, fraction of purchase price."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def own_parameters(cat: Catalog, kw: dict[str, Any]) -> OwnParameters:
    """The cost basis with the user's overrides pinned; pops the override flags from ``kw``."""
    basis = cat.get_cost(kw.pop("cost_basis"), where="--cost-basis")
    years = kw.pop("amortisation_years")
    elec, host = kw.pop("electricity"), kw.pop("hosting")
    return OwnParameters.from_basis(basis).pinned({
        "amortisation_s": None if years is None else years * units.parse("1 year", "s"),
        "cost_of_capital": kw.pop("cost_of_capital"), "utilisation": kw.pop("utilisation"), "pue": kw.pop("pue"),
        "electricity_usd_per_j": None if elec is None else units.parse(elec, "USD/J", where="--electricity"),
        "hosting_usd_per_w_s": None if host is None else units.parse(host, "USD/W/s", where="--hosting"),
        "maintenance": kw.pop("maintenance")}, where="cost flags")


def search_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option("--model", "model_ref", required=True, help="Model id, catalog file, or config.json path."),
        click.option("--hardware", "hw_spec", help="Comma-separated hardware ids, or 'all' [default: all]."),
        click.option("--workload", help="Preset: chat, reasoning, summarize, mlperf-llama2 (see catalog)."),
        click.option("--input-len", type=click.IntRange(min=1), help="Prompt tokens (overrides --workload)."),
        click.option("--output-len", type=click.IntRange(min=1), help="Generated tokens (overrides --workload)."),
        click.option("--slo-ttft", type=DURATION, help="Largest TTFT allowed, e.g. 2s."),
        click.option("--slo-tpot", type=DURATION, help="Largest TPOT allowed, e.g. 50ms."),
        click.option("--precision", "precisions", help="Pin precisions, e.g. 'fp8' or 'bf16,fp8' [default: what each chip supports]."),
        click.option("--max-chips", type=click.IntRange(min=1), default=64, show_default=True, help="Largest replica tried."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _span(s: tuple[float, float, float] | None, fmt: Callable[[float], str]) -> str:
    if s is None:
        return "-"
    lo, mid, hi = s
    return fmt(mid) if lo == hi else f"{fmt(mid)} ({fmt(lo)}–{fmt(hi)})"


def money(v: float) -> str:
    return f"${v:.3g}" if v < 100 else f"${v:,.0f}"


@click.command()
@search_options
@click.option("--basis", type=Choice(["own", "rent", "both"]), default="both", show_default=True)
@cost_options
@click.option("--pareto", is_flag=True, help="Also print, per hardware, the front of tokens/s per chip vs interactivity.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--save", is_flag=True, help="Save the comparison to the results store.")
@pass_context
def compare(ctx: Context, /, model_ref: str, hw_spec: str | None, workload: str | None, input_len: int | None,
            output_len: int | None, precisions: str | None, basis: str, pareto: bool, as_json: bool, save: bool,
            **kw: Any) -> None:
    """Cheapest deployment per hardware for a model and workload, $/1M output tokens own and/or rent."""
    cat = ctx.catalog
    model = cat.model(model_ref, where="--model")
    hardware = hardware_list(cat, hw_spec)
    n_in, n_out, wl = workload_lengths(cat, workload, input_len, output_len)
    params = own_parameters(cat, kw)
    rows, evaluated = run_compare(model, hardware, input_len=n_in, output_len=n_out, catalog=cat, params=params,
                                  basis=basis,  # type: ignore[arg-type]
                                  precisions=precisions.split(",") if precisions else None, pareto=pareto, **kw)
    doc = {"model": model.id, "workload": wl, "input_len": n_in, "output_len": n_out, "basis": basis,
           "slo_ttft_s": kw["slo_ttft"], "slo_tpot_s": kw["slo_tpot"], "evaluated": evaluated,
           "rows": [r.to_dict() for r in rows]}
    if save:
        inputs = {k: v for k, v in doc.items() if k != "rows"}
        doc["run_id"] = ctx.store.save(Run(command="compare", provenance=Provenance.PREDICTED, inputs=inputs,
                                           outputs={"rows": doc["rows"]}, tool_version=__import__("tcobench").__version__))
    if as_json:
        print_json(doc)
        return
    out = console()
    slo = ", ".join(f"{k} <= {units.human(v, 's')}" for k, v in (("TTFT", kw["slo_ttft"]), ("TPOT", kw["slo_tpot"])) if v)
    title = f"{model.id}, {wl} ({n_in} in / {n_out} out){', ' + slo if slo else ''}: {evaluated:,} configurations"
    cols = ["hardware", "deployment", "TTFT", "TPOT", "tok/s/user", "tok/s/chip"]
    cols += [c for b, c in (("own", "$/1M out (own)"), ("rent", "$/1M out (rent)")) if basis in (b, "both")]
    cols += ["tokens/kWh", "note"]
    body = []
    for r in rows:
        d = r.deployment
        dep = f"{d.chips}x tp{d.tp} pp{d.pp}" + (f" ep{d.ep}" if d.ep > 1 else "") + f" b{d.batch} {d.precision}" if d else "-"
        cells = [r.hardware, dep, units.human(r.ttft_s, "s") if r.ttft_s else "-", units.human(r.tpot_s, "s") if r.tpot_s else "-",
                 f"{r.interactivity_tokens_per_s:.1f}" if r.tpot_s else "-",
                 f"{r.output_tokens_per_s_per_chip:,.0f}" if r.output_tokens_per_s_per_chip else "-"]
        if basis in ("own", "both"):
            cells.append(_span(r.usd_per_1m_output_tokens_own, money))
        if basis in ("rent", "both"):
            cells.append(_span(r.usd_per_1m_output_tokens_rent, money))
        cells.append(_span(r.tokens_per_kwh, lambda v: f"{v / 1e6:.3g}M"))
        cells.append(r.excluded_reason or "")
        body.append(cells)
    out.print(table(title, cols, body, justify=["left", "left"] + ["right"] * (len(cols) - 3) + ["left"]))
    notes = sorted({f"{r.hardware} {b}: {n}" for r in rows for b, n in r.price_notes.items() if r.deployment and not n.startswith("no ")})
    for n in notes:
        out.print(f"  price basis: {n}")
    kinds = {h.id: h.kind for h in hardware}
    outcomes = run_validation(cat)
    for kind, precision in sorted({(kinds[r.hardware], r.deployment.precision) for r in rows if r.deployment}):
        print_track_record(f"{precision} matmuls on a {kind}", track_record(cat, precision, kind, outcomes), phases=("throughput",))
    if pareto:
        for r in rows:
            if r.pareto:
                out.print(table(f"{r.hardware}: Pareto front", ["tok/s/user", "tok/s/chip", "tp", "pp", "batch", "precision"],
                                ([f"{p['interactivity_tokens_per_s']:.1f}", f"{p['output_tokens_per_s_per_chip']:,.0f}",
                                  int(p["tp"]), int(p["pp"]), int(p["batch"]), p["precision"]] for p in r.pareto)))
    if save:
        click.echo(f"saved as run {doc['run_id']}", err=True)

"""``tcobench bench``: measure an OpenAI-compatible endpoint at one or more load levels, price it.

Thin: parse the flags, run ``tcobench.loadgen.bench.run_bench``, render a table or JSON, save to the store.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import tcobench
from tcobench.cli.context import Context, pass_context
from tcobench.cli.options import Choice, positive_list
from tcobench.cli.render import console, print_json, table
from tcobench.errors import InputError
from tcobench.loadgen.api import Api
from tcobench.loadgen.arrivals import Arrival
from tcobench.loadgen.client import base_url
from tcobench.loadgen.metrics import LevelMetrics, Slo, Stats
from tcobench.api.bench import Annotator, price_annotator
from tcobench.cost import Prices
from tcobench.loadgen.prompts import LengthDist, PromptSource, RandomPrompts, load_jsonl, load_sharegpt
from tcobench.loadgen.result import RequestResult
from tcobench.loadgen.runner import Load, Plan, Progress as RequestHook, levels
from tcobench.loadgen.bench import BenchSettings, Measured, run_bench
from tcobench.records import Provenance, Run
from tcobench.units import human, parse

# the keys of one level in --json, as issue 6 lists them
LEVEL_KEYS = ("concurrency", "rate", "requests_ok", "requests_failed", "errors", "ttft_s", "tpot_s", "icl_s", "e2e_s",
              "client_lag_s", "output_tokens", "output_tokens_per_s", "requests_per_s", "goodput_requests_per_s",
              "token_count_source", "usd_per_1m_output_tokens")


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """The command's options as click parsed them (one field per option, named as its Python name)."""

    url: str
    model: str
    api: str
    concurrency: str | None  # N[,N...]
    rate: str | None  # R[,R...]
    arrival: str
    num_requests: int | None
    duration: str | None  # TIME
    warmup: str  # N or 'auto'
    input_len: str  # DIST
    output_len: int
    prompts_file: str | None
    sharegpt: str | None
    ignore_eos: bool
    timeout: str  # TIME
    slo_ttft: str | None  # TIME
    slo_tpot: str | None
    slo_e2e: str | None
    price_hour: str | None  # $/h or a bare number
    price_in: str | None
    price_out: str | None
    hardware: str | None
    chips: int
    basis: Literal["rent", "own"]
    model_spec: str | None
    tp: int | None
    api_key_env: str
    seed: int
    label: str
    save: bool
    as_json: bool
    quiet: bool


@click.command(context_settings={"show_default": True})
@click.option("--url", required=True, help="Server base URL, e.g. http://127.0.0.1:8000 (a trailing /v1 is fine).")
@click.option("--model", required=True, help="Model name the server serves.")
@click.option("--api", type=Choice(["chat", "completions"]), default="chat", help="Which streaming API to call.")
@click.option("--concurrency", metavar="N[,N...]", help="Closed-loop levels: requests in flight, e.g. 1,8,64.")
@click.option("--rate", metavar="R[,R...]", help="Open-loop levels: requests/s, e.g. 1,5,20.")
@click.option("--arrival", default="poisson", help="Open-loop arrivals: poisson, constant or gamma:CV.")
@click.option("--num-requests", type=int, help="Measured requests per level (default 100 when --duration is absent).")
@click.option("--duration", metavar="TIME", help="Time per level, e.g. '60 s' (ends the level if sooner).")
@click.option("--warmup", default="auto", metavar="N|auto",
              help="Warm-up requests per level, left out of the metrics; auto = the concurrency, or 1 s of arrivals.")
@click.option("--input-len", default="128", metavar="DIST", help="Random prompts: N, LO..HI or normal:MEAN:SD words.")
@click.option("--output-len", type=int, default=128, help="max_tokens per request (0: let the server/data set decide).")
@click.option("--prompts", "prompts_file", type=click.Path(dir_okay=False), help="JSONL file of prompts.")
@click.option("--sharegpt", type=click.Path(dir_okay=False), help="ShareGPT-format JSON file of conversations.")
@click.option("--ignore-eos/--no-ignore-eos", default=True, help="Ask the server to generate exactly --output-len tokens.")
@click.option("--timeout", default="300 s", metavar="TIME", help="Per-request limit (a stalled stream fails with 'timeout').")
@click.option("--slo-ttft", metavar="TIME", help="Goodput objective on TTFT, e.g. 200ms.")
@click.option("--slo-tpot", metavar="TIME", help="Goodput objective on TPOT, e.g. 50ms.")
@click.option("--slo-e2e", metavar="TIME", help="Goodput objective on end-to-end latency, e.g. 10s.")
@click.option("--price-hour", metavar="$/H", help="Self-hosted: $/hour of the serving hardware, e.g. '$2.49/h'.")
@click.option("--price-in", metavar="$", help="API: $ per 1M input tokens.")
@click.option("--price-out", metavar="$", help="API: $ per 1M output tokens.")
@click.option("--hardware", "hardware", metavar="ID", help="Price from the catalog: the serving hardware (id or file).")
@click.option("--chips", type=click.IntRange(min=1), default=1, show_default=True, help="With --hardware: chips serving the endpoint.")
@click.option("--basis", type=Choice(["rent", "own"]), default="rent", show_default=True, help="With --hardware: rent or own.")
@click.option("--model-spec", metavar="ID|config.json", help="With --hardware: the served model's architecture, for a prediction beside the measurement.")
@click.option("--tp", type=click.IntRange(min=1), help="With --model-spec: tensor parallelism of the prediction [default: --chips].")
@click.option("--api-key-env", default="OPENAI_API_KEY", metavar="VAR", help="Environment variable holding the API key.")
@click.option("--seed", type=int, default=0, help="Seed for prompts and arrivals.")
@click.option("--label", default="", help="A label saved with the run.")
@click.option("--save/--no-save", default=True, help="Save the results to the store.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {\"levels\": [...], \"settings\": {...}}.")
@click.option("--quiet", is_flag=True, help="No live progress on stderr.")
@pass_context
def bench(ctx: Context, /, **params: Any) -> None:
    """Benchmark an OpenAI-compatible streaming endpoint: TTFT, TPOT, ICL, E2E, throughput, goodput, $/1M tokens."""
    opts = BenchOptions(**params)
    settings = _settings(opts)
    prompts = _prompts(opts)
    pricing = _pricing(opts)
    annotate = level_extras(pricing)
    if opts.hardware:
        if pricing.basis is not None:
            raise InputError("give --hardware (catalog price) or --price-hour/--price-in/--price-out, not both")
        from tcobench.api.bench import hardware_annotator

        cat = ctx.catalog
        hw = cat.hardware_ref(opts.hardware, where="--hardware")
        spec = cat.model(opts.model_spec, where="--model-spec") if opts.model_spec else None
        annotate = hardware_annotator(cat, hw, opts.chips, opts.basis, spec, opts.tp)
    elif opts.model_spec:
        raise InputError("--model-spec needs --hardware (the prediction is for that hardware)")
    api_key = os.environ.get(settings.api_key_env) or None
    measured, interrupted = _run(settings, prompts, api_key, annotate, quiet=opts.quiet)
    run_id = None
    if opts.save:
        hardware = ({"hardware": opts.hardware, "chips": opts.chips, "basis": opts.basis, "model_spec": opts.model_spec,
                     "tp": opts.tp} if opts.hardware else None)
        inputs = {**settings.as_dict(), "prompts": prompts.describe(), "pricing": pricing_settings(pricing), "hardware": hardware}
        outputs = {"levels": [_detail(m) for m in measured], "interrupted": interrupted}
        run_id = ctx.store.save(Run(command="bench", provenance=Provenance.MEASURED, inputs=inputs, outputs=outputs,
                                    tool_version=tcobench.__version__, label=opts.label))
    if opts.as_json:
        print_json({"levels": [_level(m) for m in measured], "details": [_detail(m) for m in measured],
                    "settings": {**settings.as_dict(), "prompts": prompts.describe(), "pricing": pricing_settings(pricing)},
                    "interrupted": interrupted, "run_id": run_id})
    else:
        _render(measured, interrupted, run_id, ctx.store.where if run_id is not None else None)
    if interrupted:  # 128 + SIGINT, as a shell reports it, after the results were printed and saved
        sys.exit(130)


def level_extras(pricing: Prices) -> Annotator:
    """Extra per-level fields: the price (``--hardware/--chips/--basis`` replace this with the catalog's price
    and the prediction beside the measurement, ``api.bench.hardware_annotator``)."""
    return price_annotator(pricing)


def pricing_settings(p: Prices) -> dict[str, Any]:
    return p.as_dict()


# -- parsing ---------------------------------------------------------------------------------------
def _settings(o: BenchOptions) -> BenchSettings:
    conc = _list(o.concurrency, int, "--concurrency")
    rates = _list(o.rate, float, "--rate")
    if not conc and not rates:
        conc = [1]
    duration = _time(o.duration, "--duration")
    num = o.num_requests if o.num_requests is not None or duration is not None else 100
    auto = o.warmup.strip().lower() == "auto"
    try:
        warmup = 0 if auto else int(o.warmup)
    except ValueError:
        raise InputError(f"--warmup {o.warmup!r}: expected a whole number of requests or 'auto'") from None
    if o.output_len < 0:
        raise InputError(f"--output-len must be >= 0, got {o.output_len}")
    slo = Slo(_time(o.slo_ttft, "--slo-ttft"), _time(o.slo_tpot, "--slo-tpot"), _time(o.slo_e2e, "--slo-e2e"))
    timeout = _time(o.timeout, "--timeout")
    return BenchSettings(
        url=base_url(o.url), model=o.model, api=Api(o.api),
        loads=tuple(levels(conc, rates, Arrival.parse(o.arrival))),
        plan=Plan(num_requests=num, duration_s=duration, warmup=warmup, output_len=o.output_len or None),
        warmup_auto=auto, slo=slo, timeout_s=timeout or 300.0, ignore_eos=o.ignore_eos, seed=o.seed,
        api_key_env=o.api_key_env)


def _prompts(o: BenchOptions) -> PromptSource:
    if o.prompts_file and o.sharegpt:
        raise InputError("give --prompts (JSONL) or --sharegpt, not both")
    if o.prompts_file:
        return load_jsonl(o.prompts_file)
    if o.sharegpt:
        return load_sharegpt(o.sharegpt)
    return RandomPrompts(LengthDist.parse(o.input_len), seed=o.seed)


def _pricing(o: BenchOptions) -> Prices:
    return Prices(_money(o.price_hour, "USD/h", "--price-hour"), _money(o.price_in, "USD", "--price-in"),
                   _money(o.price_out, "USD", "--price-out"))


def _list(text: str | None, kind: Callable[[str], Any], flag: str) -> list[Any]:
    return positive_list(text, kind, flag) if text else []


def _time(text: str | None, flag: str) -> float | None:
    if text is None:
        return None
    value = parse(text, "s", where=flag)
    if value <= 0:
        raise InputError(f"{flag} {text!r} must be > 0")
    return value


def _money(text: str | None, unit: str, flag: str) -> float | None:
    """A bare number is read in the flag's own unit ($/h, or $ per 1M tokens)."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return parse(text, unit, where=flag)


# -- running with live progress and Ctrl-C ----------------------------------------------------------
def _run(settings: BenchSettings, prompts: PromptSource, api_key: str | None, annotate: Annotator,
         *, quiet: bool) -> tuple[list[Measured], bool]:
    err = console(stderr=True)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[status]}"),
                   TimeElapsedColumn(), console=err, disable=quiet, transient=False)
    stop = asyncio.Event()

    def on_level(load: Load, total: int | None) -> RequestHook:
        task = bar.add_task(load.label, total=total, status="")
        counts = {"ok": 0, "failed": 0, "cancelled": 0}

        def hook(r: RequestResult) -> None:
            counts["ok" if r.ok else "cancelled" if r.error == "cancelled" else "failed"] += 1
            bar.update(task, advance=1, status=" ".join(f"{k} {v}" for k, v in counts.items() if v or k != "cancelled"))

        return hook

    async def main() -> list[Measured]:
        loop = asyncio.get_running_loop()
        try:  # first Ctrl-C: stop cleanly and keep what was measured; second: the default (abort)
            def first_interrupt() -> None:
                stop.set()
                loop.remove_signal_handler(signal.SIGINT)

            loop.add_signal_handler(signal.SIGINT, first_interrupt)
        except (ValueError, RuntimeError, NotImplementedError):  # not the main thread, or no signals here
            pass
        try:
            return await run_bench(settings, prompts, api_key=api_key, annotate=annotate, stop=stop, on_level=on_level)
        finally:
            try:
                loop.remove_signal_handler(signal.SIGINT)
            except (ValueError, RuntimeError, NotImplementedError):
                pass

    with bar:
        measured = asyncio.run(main())
    if stop.is_set():
        err.print("Interrupted: kept the requests measured so far.")
    return measured, stop.is_set()


# -- output ----------------------------------------------------------------------------------------
def _stats(s: Stats | None) -> dict[str, float] | None:
    return None if s is None else s.as_dict()


def _level(m: Measured) -> dict[str, Any]:
    lv = m.level
    doc = {"concurrency": lv.concurrency, "rate": lv.rate, "requests_ok": lv.requests_ok,
           "requests_failed": lv.requests_failed, "errors": lv.errors, "ttft_s": _stats(lv.ttft_s),
           "tpot_s": _stats(lv.tpot_s), "icl_s": _stats(lv.icl_s), "e2e_s": _stats(lv.e2e_s),
           "client_lag_s": _stats(lv.client_lag_s), "output_tokens": lv.output_tokens,
           "output_tokens_per_s": lv.output_tokens_per_s, "requests_per_s": lv.requests_per_s,
           "goodput_requests_per_s": lv.goodput_requests_per_s, "token_count_source": lv.token_count_source,
           "usd_per_1m_output_tokens": m.extras.get("usd_per_1m_output_tokens")}
    return {k: doc[k] for k in LEVEL_KEYS}


def _detail(m: Measured) -> dict[str, Any]:
    return {**m.level.as_dict(), **m.extras}


def _ms(s: Stats | None, q: str) -> str:
    return "-" if s is None else f"{getattr(s, q) * 1e3:.1f}"


def _num(v: float | None, fmt: str = "{:.1f}") -> str:
    return "-" if v is None else fmt.format(v)


def _render(measured: list[Measured], interrupted: bool, run_id: int | None, where: str | None) -> None:
    out = console()
    cols = ["load", "ok", "failed", "TTFT p50 ms", "TTFT p99 ms", "TPOT p50 ms", "ICL p99 ms", "E2E p50 ms",
            "out tok/s", "req/s", "goodput req/s", "$/1M out", "lag p99 ms"]
    rows = []
    for m in measured:
        lv: LevelMetrics = m.level
        load = f"c={lv.concurrency}" if lv.concurrency is not None else f"{lv.rate:g}/s {lv.arrival}"
        price = m.extras.get("usd_per_1m_output_tokens")
        rows.append([load, lv.requests_ok, lv.requests_failed, _ms(lv.ttft_s, "p50"), _ms(lv.ttft_s, "p99"),
                     _ms(lv.tpot_s, "p50"), _ms(lv.icl_s, "p99"), _ms(lv.e2e_s, "p50"), _num(lv.output_tokens_per_s),
                     _num(lv.requests_per_s, "{:.2f}"), _num(lv.goodput_requests_per_s, "{:.2f}"),
                     "-" if price is None else human(price, "USD"), _ms(lv.client_lag_s, "p99")])
    out.print(table("tcobench bench" + (" (interrupted)" if interrupted else ""), cols, rows, justify=["left"] + ["right"] * 12))
    for m in measured:
        if m.level.errors:
            label = f"c={m.level.concurrency}" if m.level.concurrency is not None else f"{m.level.rate:g}/s"
            out.print(f"errors at {label}: " + ", ".join(f"{k} {v}" for k, v in m.level.errors.items()))
    sources = sorted({m.level.token_count_source for m in measured if m.level.token_count_source})
    if sources:
        out.print(f"token counts from: {', '.join(sources)}")
    if run_id is not None:
        out.print(f"saved as run {run_id} in {where}")

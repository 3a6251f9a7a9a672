"""``tcobench bench``: measure an OpenAI-compatible endpoint at one or more load levels, price it.

Thin: read the flags, call ``tcobench.api.endpoint`` (the Python ``tcobench.bench``, which reads and checks the
settings and runs the levels) with a live progress bar, render a table or JSON, save to the store.
"""

from __future__ import annotations

import datetime as dt
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import tcobench
from tcobench.api import bench as measure_endpoint
from tcobench.api.results import LEVEL_KEYS
from tcobench.cli.context import Context, pass_context
from tcobench.cli.options import Choice, cluster_options
from tcobench.cli.render import console, json_text, print_json, table
from tcobench.errors import StoreError
from tcobench.loadgen.bench import Measured
from tcobench.loadgen.metrics import LevelMetrics, Stats
from tcobench.loadgen.result import RequestResult
from tcobench.loadgen.runner import Load, Progress as RequestHook
from tcobench.loadgen.spread import FLUSH_S
from tcobench.records import Provenance, Run
from tcobench.store import Store
from tcobench.units import human

__all__ = ["LEVEL_KEYS", "BenchOptions", "bench"]  # LEVEL_KEYS: the keys of one level in --json

TOO_MANY_FAILURES = 3  # the exit code when more requests failed at a level than --max-failures allows


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """The command's options as click parsed them (one field per option, named as its Python name)."""

    url: str
    model: str
    api: Literal["chat", "completions"]
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
    max_failures: str  # a share (0.5) or a percent (50%)
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
    precision: str
    api_key_env: str
    seed: int
    label: str
    save: bool
    as_json: bool
    quiet: bool
    workers: int | None
    scheduler: str | None


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
@click.option("--max-failures", default="50%", metavar="SHARE",
              help="Exit with code 3 (after printing and saving) when more than this share of the finished requests "
                   "at any level failed: 0.5 or 50%; 100% never.")
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
@click.option("--precision", default="bf16", metavar="FORMAT", help="With --model-spec: the format of the prediction (fp32 for a "
                                                                   "server running float32).")
@click.option("--api-key-env", default="OPENAI_API_KEY", metavar="VAR", help="Environment variable holding the API key.")
@click.option("--seed", type=int, default=0, help="Seed for prompts and arrivals.")
@click.option("--label", default="", help="A label saved with the run.")
@click.option("--save/--no-save", default=True, help="Save the results to the store.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {\"levels\": [...], \"settings\": {...}}.")
@click.option("--quiet", is_flag=True, help="No live progress on stderr.")
@cluster_options
@pass_context
def bench(ctx: Context, /, **params: Any) -> None:
    """Benchmark an OpenAI-compatible streaming endpoint: TTFT, TPOT, ICL, E2E, throughput, goodput, $/1M tokens.

    Exit codes: 0 done; 1 the results store could not be opened (nothing is sent) or the run could not be saved
    (the results are printed and written to a JSON file); 2 a bad flag; 3 more requests failed than --max-failures
    allows (printed and saved); 129, 130, 143 stopped by SIGHUP, Ctrl-C (SIGINT), SIGTERM: what was measured is
    printed and saved. See docs/bench.md, "Exit codes and interruptions".

    With --workers N or --scheduler ADDRESS every level is spread over that many client processes (Dask workers,
    pip install 'tcobench[distributed]'), started together and merged into one result (docs/distributed.md)."""
    o = BenchOptions(**params)
    err = console(stderr=True)
    store = _open_store(ctx) if o.save else None  # before any request: a store that fails, fails now
    bar = LiveProgress(err, quiet=o.quiet)
    try:
        result = measure_endpoint(
            o.url, o.model, api=o.api, concurrency=o.concurrency, rate=o.rate, arrival=o.arrival,
            num_requests=o.num_requests, duration=o.duration, warmup=o.warmup, input_len=o.input_len,
            output_len=o.output_len, prompts=o.prompts_file, sharegpt=o.sharegpt, ignore_eos=o.ignore_eos,
            timeout=o.timeout, max_failures=o.max_failures, slo_ttft=o.slo_ttft, slo_tpot=o.slo_tpot, slo_e2e=o.slo_e2e, price_hour=o.price_hour,
            price_in=o.price_in, price_out=o.price_out, hardware=o.hardware or None, chips=o.chips, basis=o.basis,
            model_spec=o.model_spec or None, tp=o.tp, precision=o.precision, api_key_env=o.api_key_env, seed=o.seed,
            catalog=ctx.catalog if o.hardware else None, progress=bar.on_level, workers=o.workers,
            scheduler=o.scheduler)
    finally:
        bar.stop()
    if result.interrupted:
        err.print(f"Interrupted by {result.interrupted_by or 'SIGINT'}: kept the requests measured so far.")
    doc = result.to_dict()
    run_id, failed_save = None, None
    if store is not None:
        inputs = {**doc["settings"], "hardware": result.hardware.as_dict() if result.hardware else None}
        outputs = {"levels": doc["details"], "interrupted": result.interrupted,
                   "interrupted_by": result.interrupted_by}
        try:
            run_id = store.save(Run(command="bench", provenance=Provenance.MEASURED, inputs=inputs, outputs=outputs,
                                    tool_version=tcobench.__version__, label=o.label))
        except StoreError as save_error:  # the measurements are printed and kept in a file all the same
            failed_save = save_error
    if o.as_json:
        print_json({**doc, "run_id": run_id})
    else:
        _render(result.measured, result.interrupted, run_id, store.where if run_id is not None and store else None)
    if failed_save is not None:
        from tcobench.cli.main import error_message

        kept = _keep_unsaved({**doc, "run_id": None})
        err.print(f"StoreError: {error_message(failed_save)}; the results above were not saved"
                  + (f"; they are in {kept}" if kept else ""), markup=False, highlight=False, soft_wrap=True)
    for level in result.failing_levels:
        finished = level.requests_ok + level.requests_failed
        what = (f"{level.requests_failed} of {finished} finished requests failed" if finished else
                f"no request finished ({level.requests_cancelled} cancelled at the deadline)")
        err.print(f"Too many failures at {_load(level)}: {what}, above --max-failures {result.max_failures:.0%}",
                  markup=False, highlight=False, soft_wrap=True)
    if result.interrupted:  # 128 + the signal, as a shell reports it, after the results were printed and saved
        sys.exit(128 + signal.Signals[result.interrupted_by or "SIGINT"].value)
    if failed_save is not None:
        sys.exit(failed_save.exit_code)
    if result.too_many_failures:
        sys.exit(TOO_MANY_FAILURES)


def _open_store(ctx: Context) -> Store:
    """The results store, schema and all, or a StoreError saying that nothing was sent."""
    try:
        return ctx.store
    except StoreError as e:
        raise StoreError(f"{e.template}; nothing was sent (--no-save runs without saving)", params=e.params) from e


def _keep_unsaved(doc: dict[str, Any]) -> Path | None:
    """Write the ``--json`` document of a run the store refused to a new file in the working folder (else the
    temporary folder); its path, or None if neither can be written."""
    name = f"tcobench-bench-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}.json"
    for folder in (Path.cwd(), Path(tempfile.gettempdir())):
        try:
            with open(folder / name, "x") as fh:
                fh.write(json_text(doc))
            return folder / name
        except OSError:
            continue
    return None


class LiveProgress:
    """One bar per level on stderr, counting ok / failed / cancelled requests. It starts with the first level,
    so that a bad flag prints nothing but its error."""

    def __init__(self, err: Console, *, quiet: bool) -> None:
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=err, disable=quiet,
                            transient=False)
        self.started = False

    def on_level(self, load: Load, total: int | None) -> RequestHook:
        if not self.started:
            self.bar.start()
            self.started = True
        task = self.bar.add_task(load.label, total=total, status="")
        counts = {"ok": 0, "failed": 0, "cancelled": 0}

        def hook(r: RequestResult) -> None:
            counts["ok" if r.ok else "cancelled" if r.error == "cancelled" else "failed"] += 1
            self.bar.update(task, advance=1, status=" ".join(f"{k} {v}" for k, v in counts.items() if v or k != "cancelled"))

        return hook

    def stop(self) -> None:
        if self.started:
            self.bar.stop()


# -- output ----------------------------------------------------------------------------------------
def _ms(s: Stats | None, q: str) -> str:
    return "-" if s is None else f"{getattr(s, q) * 1e3:.1f}"


def _num(v: float | None, fmt: str = "{:.1f}") -> str:
    return "-" if v is None else fmt.format(v)


def _load(lv: LevelMetrics) -> str:
    return f"c={lv.concurrency}" if lv.concurrency is not None else f"{lv.rate:g}/s {lv.arrival}"


def _simulated_table(measured: list[Measured], predicted: list[Any]) -> None:
    """Each level's measured percentiles beside the serving simulation of its load, where bench ran one
    (``--hardware --model-spec``: ``predicted.serving``)."""
    sims = [(m.level, (p or {}).get("serving") or {}) for m, p in zip(measured, predicted, strict=True)]
    if not any("ttft_s" in sim for _, sim in sims):
        return
    cols = ["load", "TTFT p50 ms sim", "measured", "TTFT p99 ms sim", "measured", "TPOT p50 ms sim", "measured",
            "out tok/s sim", "measured", "sim queue"]
    rows = []
    for lv, sim in sims:
        if "ttft_s" not in sim:
            rows.append([_load(lv), sim.get("error", "-"), *["-"] * (len(cols) - 2)])
            continue
        rows.append([_load(lv), f"{sim['ttft_s']['p50'] * 1e3:.1f}", _ms(lv.ttft_s, "p50"), f"{sim['ttft_s']['p99'] * 1e3:.1f}",
                     _ms(lv.ttft_s, "p99"), _num(sim["tpot_s"].get("p50") and sim["tpot_s"]["p50"] * 1e3),
                     _ms(lv.tpot_s, "p50"), _num(sim["output_tokens_per_s"]), _num(lv.output_tokens_per_s),
                     "grows" if sim["saturated"] else "keeps up"])
    console().print(table("simulated at each level's load (serving simulator, docs/serving.md) beside measured", cols, rows,
                          justify=["left"] + ["right"] * (len(cols) - 1)))


def _render(measured: list[Measured], interrupted: bool, run_id: int | None, where: str | None) -> None:
    out = console()
    cols = ["load", "ok", "failed", "TTFT p50 ms", "TTFT p99 ms", "TPOT p50 ms", "ICL p99 ms", "E2E p50 ms",
            "out tok/s", "req/s", "goodput req/s", "$/1M out", "lag p99 ms"]
    rows = []
    for m in measured:
        lv: LevelMetrics = m.level
        load = _load(lv)
        price = m.extras.get("usd_per_1m_output_tokens")
        rows.append([load, lv.requests_ok, lv.requests_failed, _ms(lv.ttft_s, "p50"), _ms(lv.ttft_s, "p99"),
                     _ms(lv.tpot_s, "p50"), _ms(lv.icl_s, "p99"), _ms(lv.e2e_s, "p50"), _num(lv.output_tokens_per_s),
                     _num(lv.requests_per_s, "{:.2f}"), _num(lv.goodput_requests_per_s, "{:.2f}"),
                     "-" if price is None else human(price, "USD"), _ms(lv.client_lag_s, "p99")])
    predicted = [m.extras.get("predicted") for m in measured]
    if any(p and "ttft_s" in p for p in predicted):  # claimed by nobody, predicted by perf, measured here: one row
        cols[6:6] = ["pred TTFT ms", "pred TPOT ms"]
        for row, p in zip(rows, predicted, strict=True):
            row[6:6] = ([f"{p['ttft_s'] * 1e3:.1f}", f"{p['tpot_s'] * 1e3:.1f}"] if p is not None and "ttft_s" in p
                        else ["-", "-"])
    if any(m.level.clients > 1 for m in measured):  # spread over client processes: how many, and any lost
        cols.append("clients")
        for row, m in zip(rows, measured, strict=True):
            row.append(f"{m.level.clients}" + (f" ({len(m.level.lost_clients)} lost)" if m.level.lost_clients else ""))
    bound = [m.level for m in measured if m.level.client_bound]
    if bound:  # a column only when the client limited a level: where it did, the latencies are not the server's
        cols.append("client")
        for row, m in zip(rows, measured, strict=True):
            row.append("BOUND" if m.level.client_bound else "ok")
    out.print(table("tcobench bench" + (" (interrupted)" if interrupted else ""), cols, rows,
                    justify=["left"] + ["right"] * (len(cols) - 1)))
    for lv in bound:
        out.print(f"client-bound at {_load(lv)}: {lv.client_bound_reason}", markup=False, highlight=False,
                  soft_wrap=True)
    _simulated_table(measured, predicted)
    for m in measured:
        for c in m.level.lost_clients:
            out.print(f"lost at {_load(m.level)}: worker {c.worker} died; at least {c.requests_lost} requests it had sent were "
                      f"never reported (in flight, or finished within its last {FLUSH_S * 1e3:.0f} ms) and are left out; "
                      "its other requests are kept", markup=False, highlight=False, soft_wrap=True)
    shown = next((p for p in predicted if p and "ttft_s" in p), None)
    if shown is not None:
        out.print(f"predicted: {shown['model']} on {shown.get('hardware', '?')} in {shown.get('precision', 'bf16')} at each "
                  "level's concurrency and mean request lengths (tcobench predict)")
    for p, m in zip(predicted, measured, strict=True):
        if p and "error" in p:
            out.print(f"no prediction at {_load(m.level)}: {p['error']}")
    for m in measured:
        if m.level.errors:
            label = f"c={m.level.concurrency}" if m.level.concurrency is not None else f"{m.level.rate:g}/s"
            out.print(f"errors at {label}: " + ", ".join(f"{k} {v}" for k, v in m.level.errors.items()))
    sources = sorted({m.level.token_count_source for m in measured if m.level.token_count_source})
    if sources:
        out.print(f"token counts from: {', '.join(sources)}")
    if run_id is not None:
        out.print(f"saved as run {run_id} in {where}")

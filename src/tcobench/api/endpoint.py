"""``tcobench.bench``: measure an OpenAI-compatible endpoint at one or more load levels and price it; the
``bench`` command is this call, rendered and saved.

The settings are read here from what a user gives (keyword arguments named like the command's flags; the CLI
passes its flags' text through unchanged), so a bad value names the parameter (``{concurrency}``), which the
CLI prints as the flag. ``loadgen.bench.run_bench`` does the measuring.

Measured meets predicted: ``bench(hardware=H, chips=N, basis="rent"|"own", model_spec=M)`` prices a level at
the cost model's likely USD per chip-second x chips x 3600 (low/high kept alongside); the prediction uses the
measured mean input and output tokens per request and, as the batch, the concurrency of a closed loop or, for an
open loop, the mean number of requests in flight by Little's law (requests/s x mean E2E). This lives above both
``loadgen`` (the measured side) and ``perf`` / ``cost`` (the predicted side), which never import each other.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Callable, Coroutine, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from tcobench.api.inputs import (
    HardwareRef, Ref, catalog_or_default, hardware_of, one_of, positive_numbers, positive_seconds, share, usd, whole,
)
from tcobench.api.results import DEFAULT_MAX_FAILURES, BenchHardware, BenchResult
from tcobench.catalog import Catalog, Hardware, Model
from tcobench.cost import DEFAULT_BASIS, OwnParameters, Prices, price_hardware, price_tokens, usd_per_1m_tokens
from tcobench.credentials import is_env_name, redact_url
from tcobench.errors import InputError, MissingInputError, TcobenchError
from tcobench.loadgen.api import Api
from tcobench.loadgen.arrivals import Arrival
from tcobench.loadgen.bench import BenchSettings, LevelStart, Measured, run_bench
from tcobench.loadgen.client import base_url
from tcobench.loadgen.metrics import LevelMetrics, Slo
from tcobench.loadgen.prompts import LengthDist, PromptSource, RandomPrompts, load_jsonl, load_sharegpt
from tcobench.loadgen.runner import Load, Plan, levels
from tcobench.perf import predict
from tcobench.perf.precision import check as check_precision
from tcobench.perf.traffic import Traffic
from tcobench.search.executor import DaskExecutor, check_target, connect, scheduler_from_env

DEFAULT_KEY_ENV = "OPENAI_API_KEY"  # the variable the API key is read from unless api_key_env names another
Annotator = Callable[[LevelMetrics], dict[str, Any]]
"""Extra fields for a measured level's row: its price, and the prediction for the same load."""


def bench(url: str, model: str, *, api: Literal["chat", "completions"] = "chat",
          concurrency: int | Sequence[int] | str | None = None, rate: float | Sequence[float] | str | None = None,
          arrival: str = "poisson", num_requests: int | None = None, duration: float | str | None = None,
          warmup: int | str = "auto", input_len: int | str = 128, output_len: int = 128,
          prompts: str | Path | None = None, sharegpt: str | Path | None = None, ignore_eos: bool = True,
          timeout: float | str = 300.0, max_failures: float | str = DEFAULT_MAX_FAILURES, slo_ttft: float | str | None = None, slo_tpot: float | str | None = None,
          slo_e2e: float | str | None = None, price_hour: float | str | None = None,
          price_in: float | str | None = None, price_out: float | str | None = None,
          hardware: HardwareRef | None = None, chips: int = 1, basis: Literal["rent", "own"] = "rent",
          model_spec: Ref | None = None, tp: int | None = None, precision: str = "bf16", api_key_env: str = DEFAULT_KEY_ENV,
          seed: int = 0,
          catalog: Catalog | None = None, progress: LevelStart | None = None, workers: int | None = None,
          scheduler: str | None = None) -> BenchResult:
    """``tcobench bench``: time streamed requests to the OpenAI-compatible server at ``url`` serving ``model``
    at each load level in turn, closed loop (``concurrency``: requests in flight, e.g. ``[1, 8, 64]`` or
    ``"1,8,64"``) then open loop (``rate``: requests/s, arrivals ``poisson``, ``constant`` or ``gamma:CV``);
    one level at concurrency 1 when neither is given. Each level sends ``warmup`` requests (``"auto"``: the
    concurrency, or one second of arrivals), left out of the metrics, then ``num_requests`` (default 100) or
    for ``duration``, whichever ends first.

    Durations (``duration``, ``timeout``, ``slo_*``) are seconds or text with a unit ("500ms"); ``price_hour``
    is USD per hour of the serving hardware, ``price_in`` / ``price_out`` USD per 1M tokens, each a number or
    text ("$2.49/h"). Or ``hardware`` (an id or a catalog file) prices it from the catalog for ``chips`` chips,
    rented or owned, with the prediction for ``model_spec`` at the measured load beside each level (at
    ``precision``; a chip with no price, such as a profile from ``tcobench probe``, gets the prediction alone).
    ``input_len``: random prompts of N, LO..HI or normal:MEAN:SD words; or ``prompts`` (a JSONL file) or
    ``sharegpt`` (a ShareGPT JSON file). The API key is read from the environment variable ``api_key_env`` (a
    name: a value that is not one, or a variable other than the default that is not set, is refused without being
    echoed) and sent as a bearer token; credentials in ``url`` (``user:password@``, ``?api_key=...``) are sent
    too (user:password as basic authentication when there is no key) but never kept: ``settings.url`` and
    everything saved or shown has them replaced by ``***``.

    ``max_failures`` (a share, 0.5, or a percent, "50%") judges the run: ``BenchResult.too_many_failures`` is
    true when at some level more than that share of the finished requests failed (a level where every request
    was cancelled at its deadline counts as all failed); the command then exits with code 3.

    ``progress(load, total)`` is called as each level starts, with its ``Load`` (``load.label`` names it) and
    the requests it will send (None when only ``duration`` bounds it); it may return a function that is called
    with each finished request's ``RequestResult``.

    ``workers``: spread every level over a local Dask cluster of that many client processes; ``scheduler``: over
    the workers of a running Dask cluster ('tcp://host:8786'; default ``TCOBENCH_SCHEDULER``). Either needs ``pip
    install 'tcobench[distributed]'``. The parts start together and add up to the level (every N-th arrival of the
    one schedule, or the concurrency split); the metrics are computed once from the merged records. A worker that
    dies loses only the requests it had not reported (``LevelMetrics.lost_clients``, ``requests_lost``). Each worker
    reads the API key from its own ``api_key_env`` variable: the key is never sent to the cluster.

    Ctrl-C (SIGINT), SIGTERM and SIGHUP stop the run as the command does: no new request is sent, those in
    flight are cancelled, and the result holds what was measured, with ``interrupted=True`` and the signal's
    name in ``interrupted_by``; a second Ctrl-C raises ``KeyboardInterrupt``, a second SIGTERM or SIGHUP does
    what it did before the run (by default, ends the process). Called from a thread that already runs an event loop (a notebook), the run goes on a
    thread of its own, and a ``KeyboardInterrupt`` while it runs (the notebook's interrupt) stops it the same way.
    """
    warm = _warmup(warmup)
    cluster = scheduler_from_env(scheduler) if workers is None else scheduler
    check_target(workers, cluster)
    target = base_url(url)  # credentials and all: for sending only; the settings keep it redacted
    settings = BenchSettings(
        url=redact_url(target), model=model, api=Api(one_of(api, [str(a) for a in Api], "api")),
        loads=_loads(concurrency, rate, arrival), plan=_plan(num_requests, duration, warm, output_len),
        warmup_auto=warm is None,
        slo=Slo(positive_seconds(slo_ttft, "slo_ttft"), positive_seconds(slo_tpot, "slo_tpot"),
                positive_seconds(slo_e2e, "slo_e2e")),
        timeout_s=positive_seconds(timeout, "timeout") or 300.0, ignore_eos=ignore_eos, seed=seed,
        api_key_env=_key_variable(api_key_env))
    failures_allowed = share(max_failures, "max_failures")
    source = _prompts(prompts, sharegpt, input_len, seed)
    prices = Prices(usd(price_hour, "USD/h", "price_hour"), usd(price_in, "USD", "price_in"),
                    usd(price_out, "USD", "price_out"))
    annotate, priced = price_annotator(prices), None
    if hardware is not None:
        if prices.basis is not None:
            raise InputError("give {hardware} (catalog price) or {price_hour}/{price_in}/{price_out}, not both",
                             params=("hardware", "price_hour", "price_in", "price_out"))
        priced, annotate = _catalog_pricing(catalog_or_default(catalog), hardware, chips, basis, model_spec, tp, precision)
    elif model_spec is not None:
        raise InputError("{model_spec} needs {hardware} (the prediction is for that hardware)",
                         params=("model_spec", "hardware"))
    spreader = connect(workers, cluster, quiet=True) if workers is not None or cluster is not None else None
    try:
        measured, stopped_by = _measure(settings, target, source, annotate, progress,
                                        spreader if isinstance(spreader, DaskExecutor) else None)
    finally:
        if spreader is not None:
            spreader.close()
    return BenchResult(settings, source.describe(), prices, priced, measured, stopped_by is not None, stopped_by,
                       failures_allowed)


# -- reading the settings --------------------------------------------------------------------------
MAX_CONCURRENCY = 65_536  # requests in flight from one client process: past this its own core is the bottleneck
MAX_WARMUP = 1_000_000  # warm-up requests per level


def _loads(concurrency: int | Sequence[int] | str | None, rate: float | Sequence[float] | str | None,
           arrival: str) -> tuple[Load, ...]:
    conc = positive_numbers(concurrency, int, "concurrency")
    rates = positive_numbers(rate, float, "rate")
    if any(c > MAX_CONCURRENCY for c in conc):
        raise InputError(f"{{concurrency}} {max(conc):,}: at most {MAX_CONCURRENCY:,} requests in flight from one client "
                         "process (its own core saturates long before); spread more over several processes",
                         params=("concurrency",))
    return tuple(levels(conc if conc or rates else [1], rates, Arrival.parse(arrival)))


def _key_variable(name: str) -> str:
    """The name of the environment variable that holds the API key. Neither check echoes what was given: a value
    that is not a variable's name may be the key itself, typed where its variable's name belongs."""
    if not is_env_name(name):
        raise InputError("{api_key_env} takes the name of the environment variable that holds the API key (letters, "
                         "digits and _, not starting with a digit); what was given is not a name and is not shown, in "
                         "case it is the key itself: put the key in a variable and give the variable's name",
                         params=("api_key_env",))
    if name != DEFAULT_KEY_ENV and name not in os.environ:
        raise InputError("{api_key_env} names an environment variable that is not set (the name is not shown, in case "
                         "it is the key itself); set it, or give the name of the variable that holds the API key",
                         params=("api_key_env",))
    return name


def _warmup(warmup: int | str) -> int | None:
    """Warm-up requests per level; None for 'auto'."""
    if isinstance(warmup, str):
        if warmup.strip().lower() == "auto":
            return None
        try:
            return whole(int(warmup.strip()), "warmup", 0, MAX_WARMUP) if warmup.strip().isascii() else _bad_warmup(warmup)
        except ValueError:
            pass
    elif isinstance(warmup, int) and not isinstance(warmup, bool):
        return whole(warmup, "warmup", 0, MAX_WARMUP)
    return _bad_warmup(warmup)


def _bad_warmup(warmup: object) -> int:
    raise InputError(f"{{warmup}} {warmup!r}: expected a whole number of requests (0 to {MAX_WARMUP:,}) or 'auto'",
                     params=("warmup",))


def _plan(num_requests: int | None, duration: float | str | None, warmup: int | None, output_len: int) -> Plan:
    seconds = positive_seconds(duration, "duration")
    if num_requests is not None:
        whole(num_requests, "num_requests", 1)
    elif seconds is None:
        num_requests = 100
    whole(output_len, "output_len", 0)
    return Plan(num_requests=num_requests, duration_s=seconds, warmup=warmup or 0, output_len=output_len or None)


def _prompts(prompts: str | Path | None, sharegpt: str | Path | None, input_len: int | str, seed: int) -> PromptSource:
    if prompts and sharegpt:
        raise InputError("give {prompts} (JSONL) or {sharegpt}, not both", params=("prompts", "sharegpt"))
    if prompts:
        return load_jsonl(prompts)
    if sharegpt:
        return load_sharegpt(sharegpt)
    return RandomPrompts(LengthDist.parse(str(input_len)), seed=seed)


def _catalog_pricing(cat: Catalog, hardware: HardwareRef, chips: int, basis: str, model_spec: Ref | None,
                     tp: int | None, precision: str = "bf16") -> tuple[BenchHardware, Annotator]:
    """The hardware as given (an id or a file is saved as written) and the annotator pricing a level from the
    catalog, with the prediction for ``model_spec`` beside it."""
    hw = hardware_of(cat, hardware)
    if isinstance(model_spec, str):
        spec: Model | None = cat.model(model_spec, where="{model_spec}")
        spec_as_given: str | None = model_spec
    else:
        spec, spec_as_given = model_spec, None if model_spec is None else model_spec.id
    chosen = BenchHardware(hardware if isinstance(hardware, str) else hw.id, whole(chips, "chips", 1),
                           "own" if one_of(basis, ["rent", "own"], "basis") == "own" else "rent", spec_as_given,
                           None if tp is None else whole(tp, "tp", 1), check_precision(precision, "precision"))
    return chosen, hardware_annotator(cat, hw, chosen.chips, chosen.basis, spec, chosen.tp, chosen.precision)


# -- running, with Ctrl-C, SIGTERM and SIGHUP -------------------------------------------------------
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
"""The signals that stop a run cleanly (in the main thread): what was measured is kept."""


def _measure(settings: BenchSettings, target: str, prompts: PromptSource, annotate: Annotator,
             progress: LevelStart | None, spreader: DaskExecutor | None = None) -> tuple[list[Measured], str | None]:
    """Every level, and the name of the signal that stopped the run early, if one did (what was measured until
    then is kept). ``target``: the endpoint as given, credentials included, for sending only."""
    api_key = os.environ.get(settings.api_key_env) or None  # read here, passed on, never kept
    stop = asyncio.Event()
    stopped_by: list[str] = []
    loops: list[asyncio.AbstractEventLoop] = []

    async def main() -> list[Measured]:
        loops.append(asyncio.get_running_loop())
        with _first_signal_stops(stop, stopped_by):
            return await run_bench(settings, prompts, api_key=api_key, url=target, annotate=annotate, stop=stop,
                                   on_level=progress, spreader=spreader)

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the usual case: no event loop runs in this thread
        measured = asyncio.run(main())
    else:
        measured = _on_own_thread(main(), stop, loops, stopped_by)
    return measured, (stopped_by[0] if stopped_by else None)


@contextmanager
def _first_signal_stops(stop: asyncio.Event, stopped_by: list[str]) -> Iterator[None]:
    """In the main thread, the first SIGINT, SIGTERM or SIGHUP sets ``stop`` (the run ends cleanly) and is noted
    in ``stopped_by``; the handlers that were there before are then put back, so that a second signal does what
    it did before the run (a second Ctrl-C raises KeyboardInterrupt, a second SIGTERM ends the process). A signal
    the process ignores (SIGHUP under nohup) stays ignored."""
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    installed: list[int] = []

    def put_back() -> None:
        while installed:
            sig = installed.pop()
            loop.remove_signal_handler(sig)
            if previous[sig] is not None:
                signal.signal(sig, previous[sig])

    def first_signal(sig: int) -> None:
        if not stop.is_set():
            stopped_by.append(signal.Signals(sig).name)
            stop.set()
        put_back()

    for sig in STOP_SIGNALS:
        if previous[sig] is signal.SIG_IGN:
            continue
        try:
            loop.add_signal_handler(sig, first_signal, sig)
        except (ValueError, RuntimeError, NotImplementedError):  # not the main thread, or no signals here
            break
        installed.append(sig)
    try:
        yield
    finally:
        put_back()


def _on_own_thread(job: Coroutine[Any, Any, list[Measured]], stop: asyncio.Event,
                   loops: list[asyncio.AbstractEventLoop], stopped_by: list[str]) -> list[Measured]:
    """Run ``job`` on a new thread's event loop while this one waits; the first KeyboardInterrupt raised here
    sets ``stop`` (as the first Ctrl-C does), a second one is raised."""
    done: Future[list[Measured]] = Future()

    def work() -> None:
        try:
            done.set_result(asyncio.run(job))
        except BaseException as err:  # noqa: BLE001 - handed to the waiting thread, which raises it
            done.set_exception(err)

    threading.Thread(target=work, name="tcobench-bench", daemon=True).start()
    try:
        return done.result()
    except KeyboardInterrupt:
        stopped_by.append(signal.SIGINT.name)
        if loops:
            try:
                loops[0].call_soon_threadsafe(stop.set)
            except RuntimeError:  # the loop has just closed: the run is over
                pass
        else:  # the loop has not started: nothing waits on stop yet, and the run checks it before each level
            stop.set()
        return done.result()


def price_annotator(prices: Prices) -> Annotator:
    """A level priced by the user's own $/hour or per-token prices."""
    def annotate(level: LevelMetrics) -> dict[str, Any]:
        return price_tokens(level.output_tokens_per_s, prices).as_dict()

    return annotate


def hourly_price(catalog: Catalog, hw: Hardware, chips: int, basis: Literal["own", "rent"]) -> tuple[float, float, float, str]:
    """(low, likely, high) USD per hour for ``chips`` chips of ``hw`` and what the price rests on."""
    params = OwnParameters.from_basis(catalog.get_cost(DEFAULT_BASIS))
    span, note = price_hardware(hw, catalog, params, basis).span(basis)
    if span is None:
        raise MissingInputError(f"{{hardware}} {hw.id} {{basis}} {basis}: {note}", params=("hardware", "basis"))
    scale = chips * 3600.0
    return float(span.low) * scale, float(span.likely) * scale, float(span.high) * scale, note


def hardware_annotator(catalog: Catalog, hw: Hardware, chips: int, basis: Literal["own", "rent"], model: Model | None,
                       tp: int | None, precision: str = "bf16") -> Annotator:
    """A level priced from the catalog for ``chips`` chips of ``hw``, with a prediction for ``model`` if given. A chip
    with no price (a probed profile) is refused without ``model``; with it, the level gets the prediction alone."""
    try:
        low, likely, high, note = hourly_price(catalog, hw, chips, basis)
    except MissingInputError:
        if model is None:
            raise
        return prediction_annotator(catalog, hw, chips, model, tp, precision)
    prices = Prices(usd_per_hour=likely)

    def annotate(level: LevelMetrics) -> dict[str, Any]:
        out = price_tokens(level.output_tokens_per_s, prices).as_dict()
        tps = level.output_tokens_per_s
        out.update({"hardware": hw.id, "chips": chips, "price_basis": basis, "price_note": note,
                    "usd_per_hour_low": low, "usd_per_hour_high": high,
                    "usd_per_1m_output_tokens_low": usd_per_1m_tokens(low, tps),
                    "usd_per_1m_output_tokens_high": usd_per_1m_tokens(high, tps)})
        if model is not None:
            out["predicted"] = predicted_for(catalog, model, hw, chips, tp, level, precision)
        return out

    return annotate


def prediction_annotator(catalog: Catalog, hw: Hardware, chips: int, model: Model, tp: int | None,
                         precision: str) -> Annotator:
    """A level with the prediction beside it and no price: the catalog has none for ``hw``."""
    def annotate(level: LevelMetrics) -> dict[str, Any]:
        return {"hardware": hw.id, "chips": chips, "price_note": f"no price: the catalog has none for {hw.id}",
                "predicted": predicted_for(catalog, model, hw, chips, tp, level, precision)}

    return annotate


def predicted_for(catalog: Catalog, model: Model, hw: Hardware, chips: int, tp: int | None,
                  level: LevelMetrics, precision: str = "bf16") -> dict[str, Any]:
    """The model's prediction at a measured level's load (module docstring), or why there is none."""
    ok = level.requests_ok
    if not ok:
        return {"error": "no successful request to take the load from"}
    input_len = max(1, round((level.input_tokens or 0) / ok))
    output_len = max(1, round(level.output_tokens / ok))
    if level.concurrency is not None:
        batch = level.concurrency
    elif level.requests_per_s and level.e2e_s is not None:
        batch = max(1, round(level.requests_per_s * level.e2e_s.mean))
    else:
        batch = 1
    common: dict[str, Any] = {"chips": chips, "tp": tp or chips, "input_len": input_len, "output_len": output_len,
                              "precision": precision, "catalog": catalog,
                              "max_context": max(model.max_context, input_len + output_len)}
    try:
        p = predict(model, hw, batch=batch, **common)
    except TcobenchError as err:
        return {"error": f"{type(err).__name__}: {err.render({})}"}
    return {"model": model.id, "batch": batch, "input_len": input_len, "output_len": output_len, "precision": precision,
            "hardware": hw.id, "ttft_s": p.ttft_s,
            "tpot_s": p.tpot_s, "output_tokens_per_s": p.output_tokens_per_s, "fits": p.fits, "reason": p.reason,
            "serving": simulated_for(model, hw, level, common)}


def simulated_for(model: Model, hw: Hardware, level: LevelMetrics, common: dict[str, Any]) -> dict[str, Any]:
    """The serving simulation (``perf.serving``) of the level's load: its arrival process at its rate, or its
    concurrency as a closed loop, for as many requests as the level measured, at its mean lengths, with the
    simulator's default scheduler (vLLM's defaults, ``predict``). Percentiles in seconds, as the level's."""
    n = max(1, level.requests_ok)
    try:
        if level.rate is not None:
            traffic = Traffic.open(level.arrival or "poisson", level.rate, n, common["input_len"], common["output_len"])
        elif level.concurrency is not None:
            traffic = Traffic.closed(level.concurrency, n, common["input_len"], common["output_len"])
        else:
            return {"error": "the level has neither a rate nor a concurrency"}
        s = predict(model, hw, batch=1, traffic=traffic, **common).serving
    except TcobenchError as err:
        return {"error": f"{type(err).__name__}: {err.render({})}"}
    assert s is not None  # predict simulates whenever traffic is given
    return {"traffic": s.traffic, "requests": s.requests, "ttft_s": s.ttft_s, "tpot_s": s.tpot_s, "e2e_s": s.e2e_s,
            "output_tokens_per_s": s.output_tokens_per_s, "saturated": s.saturated,
            "scheduler": {"max_batched_tokens": s.max_tokens, "max_seqs": s.max_seqs, "kv_cache_tokens": s.kv_tokens}}

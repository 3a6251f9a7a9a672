"""One function per command. Keyword arguments are named like the command's flags (``--input-len`` is
``input_len``, ``--precision`` is ``precision``); a model or hardware may be an id, a file path or a record;
durations may be seconds or text with a unit ("50ms"). Each returns a typed result whose ``to_dict()`` is the
document ``--json`` prints. docs/api.md has examples (the tests run them).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tcobench import checks
from tcobench.api.inputs import (
    HardwareRef,
    Ref,
    catalog_or_default,
    hardware_list,
    hardware_of,
    model_of,
    names,
    number,
    one_of,
    own_parameters,
    positive_numbers,
    positive_seconds,
    runtimes_of,
    traffic_of,
    usd,
    whole,
    workload_lengths,
)
from tcobench.api.results import AuditResult, CompareResult, PlanResult, SweepSummary, ValidationResult
from tcobench.api.confidence import validation_outcomes
from tcobench.api.silicon import varied_hardware, with_designs
from tcobench.catalog import Catalog
from tcobench.claims import audit_claims, builtin_dir, invalid_result, load_claims
from tcobench.cost import price_hardware
from tcobench.perf import Prediction
from tcobench.perf import predict as _predict
from tcobench.perf.predict import DEFAULT_MAX_SEQS
from tcobench.perf.serving import Slo
from tcobench.perf.validate import group_errors, grouping, predict_command, summary, trust
from tcobench.perf.validate import run as _validate
from tcobench.perf import validate_training, validate_workloads
from tcobench.search import candidates
from tcobench.search import compare as _compare
from tcobench.search import plan as _plan
from tcobench.errors import InputError
from tcobench.records import Run

if TYPE_CHECKING:
    from tcobench.store import Store
from tcobench.search.sweep import (
    AXES, CONFIRM_POINTS, DEFAULT_CHUNK, Estimate, Objective, estimate, iter_rows, open_parts, open_sink, parse_axis,
)
from tcobench.search.executor import cluster_address, cluster, connect
from tcobench.search.goodput import RANKS, rank_key, rank_rows, rows_at_rate, sweep_rows_at_rate
from tcobench.search.sweep import sweep as _sweep

Basis = Literal["own", "rent", "both"]


def predict(model: Ref, hardware: HardwareRef, *, chips: int | None = None, tp: int = 1, pp: int = 1, ep: int = 1,
            batch: int | Literal["auto"] = 1, input_len: int = 1024, output_len: int = 256, precision: str = "bf16",
            weights: str | None = None, kv: str | None = None, activations: str | None = None,
            slo_ttft: float | str | None = None, slo_tpot: float | str | None = None, runtime: str | None = None,
            max_context: int | None = None, tp_layout: str = "1d", cuda_graph_batches: Sequence[int] | None = None,
            moe_ep: int | None = None, redundant_experts: int = 0, spec_tokens: int = 0, acceptance: float | None = None, draft: Ref | None = None,
            explain: bool = False, rate: float | None = None, concurrency: int | None = None, requests: int | None = None,
            arrivals: str | None = None, seed: int = 0, slo_e2e: float | str | None = None, max_seqs: int = DEFAULT_MAX_SEQS,
            max_batched_tokens: int | None = None, preempt: bool = False, input_dist: str | None = None,
            output_dist: str | None = None, prefix_share: float | None = None,
            catalog: Catalog | None = None) -> Prediction:
    """``tcobench predict``: one deployment's TTFT, TPOT, throughput, MFU/MBU and memory (seconds, tokens/s,
    bytes). ``batch="auto"`` picks the batch with the most tokens/s that fits and meets the SLOs;
    ``explain=True`` keeps the per-operator breakdown (``Prediction.ops``, ``to_rows()``). Speculative decoding:
    ``spec_tokens`` drafts per step accepted with probability ``acceptance``, drafted by ``draft`` (a model id, file
    or record) or by multi-token-prediction layers (``draft="mtp"``, the default).

    Under load (docs/serving.md): ``rate`` requests/s arriving by ``arrivals`` (``"poisson"``, ``"constant"``,
    ``"gamma:CV"``), ``concurrency`` users in a closed loop, or a trace file in ``arrivals``; ``requests`` of them
    (default 1000, ``seed`` for the draws) are simulated step by step with vLLM's scheduler (``max_seqs``
    sequences, ``max_batched_tokens`` tokens per step per replica), and ``Prediction.serving`` holds TTFT, TPOT,
    ITL and E2E percentiles, throughput, and goodput under ``slo_ttft`` / ``slo_tpot`` / ``slo_e2e``. ``preempt``:
    admit on the prompt and preempt (recompute) when the KV cache is full, as vLLM does, instead of admitting only
    requests whose whole context fits. ``input_dist`` / ``output_dist``: the simulated requests' lengths drawn from
    ``"N"``, ``"LO..HI"`` or ``"normal:MEAN:SD"`` tokens; ``prefix_share``: the share of the mean prompt that every
    prompt shares as its prefix, computed once by prefix caching."""
    cat = catalog_or_default(catalog)
    for name, value, least in (("chips", chips, 1), ("tp", tp, 1), ("pp", pp, 1), ("ep", ep, 1), ("input_len", input_len, 1),
                               ("output_len", output_len, 1), ("max_context", max_context, 1), ("moe_ep", moe_ep, 1),
                               ("redundant_experts", redundant_experts, 0),
                               ("spec_tokens", spec_tokens, -checks.MAX_COUNT)):  # (perf says why < 0 is wrong)
        if value is not None:
            whole(value, name, least)
    if batch != "auto":
        whole(batch, "batch", 1)
    if cuda_graph_batches is not None:
        cuda_graph_batches = positive_numbers(cuda_graph_batches, int, "cuda_graph_batches")
    number(acceptance, "acceptance", low=0.0, high=1.0)
    traffic = traffic_of(rate, concurrency, requests, arrivals, input_len, output_len, seed, input_dist=input_dist,
                         output_dist=output_dist, prefix_share=prefix_share)
    whole(max_seqs, "max_seqs", 1)
    if max_batched_tokens is not None:
        whole(max_batched_tokens, "max_batched_tokens", 1, 1 << 20)
    return _predict(model_of(cat, model), hardware_of(cat, hardware), chips=chips, tp=tp, pp=pp, ep=ep, batch=batch,
                    input_len=input_len, output_len=output_len, precision=precision, weights=weights, kv=kv,
                    activations=activations, slo_ttft=positive_seconds(slo_ttft, "slo_ttft"),
                    slo_tpot=positive_seconds(slo_tpot, "slo_tpot"),
                    catalog=cat, runtime=runtime, explain=explain, max_context=max_context, tp_layout=tp_layout,
                    graph_batches=cuda_graph_batches, moe_ep=moe_ep, redundant_experts=redundant_experts, spec_tokens=spec_tokens,
                    acceptance=acceptance, draft=None if draft is None else "mtp" if draft == "mtp" else model_of(cat, draft, "draft"),
                    traffic=traffic, slo_e2e=positive_seconds(slo_e2e, "slo_e2e"), max_seqs=max_seqs,
                    max_batched_tokens=max_batched_tokens, preempt=bool(preempt))


def compare(model: Ref, hardware: str | Sequence[HardwareRef] | None = None, *, workload: str | None = None,
            input_len: int | None = None, output_len: int | None = None, slo_ttft: float | str | None = None,
            slo_tpot: float | str | None = None, precision: str | Sequence[str] | None = None, max_chips: int = 64,
            basis: Basis = "both", price_hour: float | None = None, price_chip: float | None = None, pareto: bool = False,
            rate: float | str | None = None, rank: str = "cost", catalog: Catalog | None = None,
            workers: int | None = None, scheduler: str | None = None, runtime: str | Mapping[str, str] | None = None,
            **cost: Any) -> CompareResult:
    """``tcobench compare``: per hardware (default: every catalog chip), the cheapest deployment that fits and meets
    the SLOs, with $/1M tokens own and/or rent as (low, likely, high). ``cost``: overrides of the cost basis
    (``cost_basis``, ``amortisation_years``, ``cost_of_capital``, ``utilisation``, ``pue``, ``electricity``,
    ``hosting``, ``maintenance``), as the command's flags. ``rate`` (requests/s, Poisson, to one replica): each
    row's replica is also simulated at that load (``row.at_rate``: goodput under the SLOs, p99s, $/1M good output
    tokens; search/goodput.py), and ``rank`` orders the rows: "cost" (steady-state $/1M output tokens), "goodput"
    (most good tokens/s first) or "good-cost" ($/1M good tokens, cheapest first; these two need ``rate``).
    ``runtime``: the serving stack each chip runs (api.inputs.runtimes_of: one catalog runtime id for all, or
    'HW=ID' pairs; default: the catalog's ``default`` stack): its kernels' traits and its default cap on running
    sequences apply, and each row's deployment names it.

    ``workers``: run on a local Dask cluster of that many processes; ``scheduler``: on a running Dask cluster
    ('tcp://host:8786'; default ``TCOBENCH_SCHEDULER``): each hardware's search, and each row's simulation at
    ``rate``, is a task. Either needs ``pip install 'tcobench[distributed]'``; the rows are the single process's."""
    rank = one_of(rank, list(RANKS), "rank")
    address = cluster_address(workers, scheduler)
    offered = None if rate is None else checks.positive(rate, "{rate}")
    if offered is None and rank != "cost":
        raise InputError(f"{{rank}} {rank!r} ranks by the load a replica serves: give {{rate}} (requests/s) too",
                         params=("rank", "rate"))
    cat = catalog_or_default(catalog)
    m = model_of(cat, model)
    n_in, n_out, wl = workload_lengths(cat, workload, input_len, output_len)
    ttft, tpot = positive_seconds(slo_ttft, "slo_ttft"), positive_seconds(slo_tpot, "slo_tpot")
    hw = hardware_list(cat, hardware)
    params, precisions, chips = own_parameters(cat, **cost), names(precision, "precision"), whole(max_chips, "max_chips", 1)
    hour, chip_price = usd(price_hour, "USD/h", "price_hour"), usd(price_chip, "USD", "price_chip")
    with cluster(workers, address) as executor:
        rows, evaluated = _compare(m, hw, input_len=n_in, output_len=n_out, catalog=cat, params=params, basis=basis,
                                   precisions=precisions, slo_ttft=ttft, slo_tpot=tpot, max_chips=chips, price_hour=hour,
                                   price_chip=chip_price, pareto=pareto, executor=executor,
                                   runtimes=runtimes_of(cat, runtime, hw))
        if offered is not None:
            rows = rows_at_rate(rows, m, hw, cat, rate=offered, slo=Slo(ttft, tpot), input_len=n_in, output_len=n_out,
                                executor=executor)
            rows.sort(key=lambda r: rank_key(r, rank, basis))
        used = None if executor is None else executor.workers
    outcomes = validation_outcomes(cat)
    trusts = {h.id: trust(outcomes, h.vendor, m.moe is not None, h.kind) for h in hw}
    return CompareResult(m.id, wl, n_in, n_out, basis, ttft, tpot, evaluated, rows, trusts, offered, rank, used)


def plan(model: Ref, hardware: str | Sequence[HardwareRef] | None = None, *, qps: float, workload: str | None = None,
         input_len: int | None = None, output_len: int | None = None, slo_ttft: float | str | None = None,
         slo_tpot: float | str | None = None, precision: str | Sequence[str] | None = None, max_chips: int = 64,
         peak_factor: float = 1.0, basis: Literal["own", "rent"] = "own", price_hour: float | None = None,
         price_chip: float | None = None, catalog: Catalog | None = None, workers: int | None = None,
         scheduler: str | None = None, runtime: str | Mapping[str, str] | None = None, **cost: Any) -> PlanResult:
    """``tcobench plan``: replicas and chips per hardware to serve ``qps`` requests/s (times ``peak_factor``), with
    utilisation, $/month and $/1M output tokens as (low, likely, high).

    ``workers`` / ``scheduler``: on a Dask cluster, as ``compare`` (each hardware's search and each row's sizing,
    with an SLO its serving simulations, is a task); the rows are the single process's. ``runtime``: the serving
    stack per chip, as ``compare``."""
    address = cluster_address(workers, scheduler)
    cat = catalog_or_default(catalog)
    m = model_of(cat, model)
    n_in, n_out, wl = workload_lengths(cat, workload, input_len, output_len)
    hw = hardware_list(cat, hardware)
    qps = checks.number(qps, "{qps}", low=0.0, high=checks.MAX_COUNT, low_open=True)
    peak_factor = checks.number(peak_factor, "{peak_factor}", low=1.0, high=1000.0)
    params, precisions = own_parameters(cat, **cost), names(precision, "precision")
    ttft, tpot, chips = positive_seconds(slo_ttft, "slo_ttft"), positive_seconds(slo_tpot, "slo_tpot"), whole(max_chips, "max_chips", 1)
    hour, chip_price = usd(price_hour, "USD/h", "price_hour"), usd(price_chip, "USD", "price_chip")
    runtimes = runtimes_of(cat, runtime, hw)
    with cluster(workers, address) as executor:
        rows, evaluated = _plan(m, hw, runtimes=runtimes, qps=qps, input_len=n_in, output_len=n_out, catalog=cat, params=params, basis=basis,
                                peak_factor=peak_factor, precisions=precisions, slo_ttft=ttft, slo_tpot=tpot,
                                max_chips=chips, price_hour=hour, price_chip=chip_price, executor=executor)
        used = None if executor is None else executor.workers
    outcomes = validation_outcomes(cat)
    return PlanResult(m.id, wl, n_in, n_out, qps, peak_factor, basis, evaluated, rows,
                      {h.id: trust(outcomes, h.vendor, m.moe is not None, h.kind) for h in hw}, used)


def sweep(model: Ref, hardware: str | Sequence[HardwareRef] | None = None, *, tp: str = "1,2,4,8", pp: str = "1",
          ep: str = "1", batch: str = "1:256:x2", input_len: str = "1024", output_len: str = "256",
          precision: str | Sequence[str] = "bf16,fp8", basis: Literal["own", "rent"] = "own", objective: Objective = "cost",
          top: int = 10, pareto: bool = False, slo_ttft: float | str | None = None, slo_tpot: float | str | None = None,
          output: str | Path | None = None, chunk: int = DEFAULT_CHUNK, price_hour: float | None = None,
          price_chip: float | None = None, yes: bool = False, on_estimate: Callable[[Estimate], None] | None = None,
          progress: Callable[[int, int], None] | None = None, catalog: Catalog | None = None,
          workers: int | None = None, scheduler: str | None = None, rate: float | str | None = None, rank: str = "cost",
          vary: str | Sequence[str] | None = None, runtime: str | Mapping[str, str] | None = None,
          **cost: Any) -> SweepSummary:
    """``tcobench sweep``: every combination of the axes (each '1,2,4', '1:4096' or '128:32768:x2'), evaluated in
    memory-bounded chunks of ``chunk`` points; the ``top`` points by ``objective`` and, with ``pareto``, the front
    of tokens/s per chip vs interactivity. ``output``: write every point to .csv or .parquet.

    Before the work starts, a first chunk is timed: ``on_estimate(estimate)`` gets the grid's size and the time it
    should take (``Estimate.text()``). A grid of more than CONFIRM_POINTS (100 million) points runs only with
    ``yes=True``; otherwise InputError says how long it would take. ``progress(n, total)`` is called after each
    chunk with the points it held and the grid's size.
    ``runtime``: the serving stack per chip, as ``compare`` (each row names it; batches above its cap are not ok).

    ``workers``: run on a local Dask cluster of that many processes; ``scheduler``: on a running Dask cluster
    ('tcp://host:8786'; default ``TCOBENCH_SCHEDULER``). Either needs ``pip install 'tcobench[distributed]'``; the
    result is the single-process one, row for row, and ``output`` (.parquet) becomes a folder of parts.

    ``rate`` (requests/s, Poisson, to one replica): each of the ``top`` rows is also served at that load in the
    serving simulator (its ``at_rate``: goodput under the SLOs, p99s, $/1M good output tokens), and ``rank``
    ("goodput" or "good-cost") re-orders those rows by it; the rows are the top by ``objective`` first.

    ``vary`` ('sram=100 MB,200 MB', or several such): each design in ``hardware`` becomes one hardware row per
    combination of the values, derived and priced by ``silicon`` (silicon/variants.py); variants that cannot be
    built are listed in ``skipped`` with the reason."""
    rank = one_of(rank, list(RANKS), "rank")
    offered = None if rate is None else checks.positive(rate, "{rate}")
    if offered is None and rank != "cost":
        raise InputError(f"{{rank}} {rank!r} ranks by the load a replica serves: give {{rate}} (requests/s) too",
                         params=("rank", "rate"))
    cat = catalog_or_default(catalog)
    target = cluster_address(workers, scheduler)
    m = model_of(cat, model)
    axes = {a: parse_axis(str(v), a) for a, v in zip(AXES, (tp, pp, ep, batch, input_len, output_len), strict=True)}
    whole(top, "top", 1, 10_000)
    ttft, tpot = positive_seconds(slo_ttft, "slo_ttft"), positive_seconds(slo_tpot, "slo_tpot")
    params = own_parameters(cat, **cost)
    hour, chip_price = usd(price_hour, "USD/h", "price_hour"), usd(price_chip, "USD", "price_chip")
    hws = hardware_list(cat, hardware)
    skipped: list[tuple[str, str]] = []
    if vary:
        refs = names(hardware, "hardware") if isinstance(hardware, str) else [str(h) for h in hardware or []]
        hws, skipped = varied_hardware(cat, hws, refs or [], vary)
    cands = candidates(hws, names(precision, "precision"), runtimes_of(cat, runtime, hws))
    est = estimate(m, cands, axes, catalog=cat, chunk=chunk)
    if on_estimate is not None:
        on_estimate(est)
    if est.points > CONFIRM_POINTS and not yes:
        raise InputError(f"the sweep has {est.text()}; more than {CONFIRM_POINTS:,} points run only when asked: pass "
                         "{yes} to run it, or narrow the axes ({tp} {pp} {ep} {batch} {input_len} {output_len}) or "
                         "{hardware} and {precision}",
                         params=("yes", "tp", "pp", "ep", "batch", "input_len", "output_len", "hardware", "precision"))
    prices = {}
    for c in cands:
        span, _ = price_hardware(c.hardware, cat, params, basis, price_hour=hour, price_chip=chip_price).span(basis)
        prices[c.hardware.id] = float(span.likely) if span is not None else float("nan")
    distributed = workers is not None or target is not None
    parts = open_parts(Path(output)) if output and distributed else None
    sink = open_sink(Path(output)) if output and not distributed else None
    executor = connect(workers, target) if distributed else None
    start = time.perf_counter()
    try:
        res = _sweep(m, cands, axes, catalog=cat, usd_per_chip_s=[prices[c.hardware.id] for c in cands],
                     slo_ttft=ttft, slo_tpot=tpot, objective=objective, top_k=top, chunk=chunk, sink=sink,
                     progress=None if progress is None else lambda n: progress(n, est.points),
                     executor=executor, parts=parts)
        wall = time.perf_counter() - start
        top_rows = list(iter_rows(res.top))
        if offered is not None:  # each top row's simulation a task on the cluster too
            top_rows = rank_rows(sweep_rows_at_rate(top_rows, m, [c.hardware for c in cands], cat, rate=offered,
                                                    slo=Slo(ttft, tpot), executor=executor), rank)
    finally:
        if sink is not None:
            sink.close()
        if executor is not None:
            executor.close()
    outcomes = validation_outcomes(cat)
    return SweepSummary(m.id, res.evaluated, res.feasible, wall, objective, basis, str(output) if output else None,
                        top_rows, list(iter_rows(res.front)) if pareto else None,
                        {c.hardware.id: trust(outcomes, c.hardware.vendor, m.moe is not None, c.hardware.kind) for c in cands},
                        workers=executor.workers if executor is not None else None, rate=offered, rank=rank,
                        skipped=skipped)


def validate(*, by: str = "phase", row: str | Sequence[str] = (), explain: bool = False,
             catalog: Catalog | None = None) -> ValidationResult:
    """``tcobench validate``: predicted vs published for the shipped reference rows, the error summarised per
    group ``by`` (phase, precision, hardware, runtime, source, batching, or several joined by commas). ``row``:
    only these row ids or shell patterns."""
    cat = catalog_or_default(catalog)
    grouping(by)  # a bad grouping fails before the work
    outcomes = _validate(cat, rows=names(row, "row", "row ids or patterns") or () if row != () else (), explain=explain)
    rows: list[dict[str, Any]] = [
        {"id": o.row.id, "ref": o.row.ref, "phase": o.row.phase, "metric": o.row.metric, "published": o.row.published or None,
         "predicted": o.predicted, "error": o.error, "batch": o.prediction.batch if o.prediction else None,
         "problem": o.problem, "source": o.row.source, "command": None if o.row.skip else
         predict_command(o.row, o.prediction.serving if o.prediction else None),
         "engine": dict(o.row.engine)} for o in outcomes]
    if explain:
        for r, o in zip(rows, outcomes, strict=True):
            r["ops"] = [op.__dict__ for op in o.prediction.ops] if o.prediction else []
    summ = summary(outcomes)
    if by not in summ["groups"]:
        summ["groups"][by] = group_errors(outcomes, by)
    trained = [] if row != () else validate_training.run(cat)  # the training rows, unless inference rows were picked
    training = [{"id": o.row.id, "ref": o.row.ref, "group": o.row.group, "vendor": o.vendor, "metric": o.row.metric,
                 "published": o.row.published or None, "predicted": o.predicted, "error": o.error, "problem": o.problem,
                 "source": o.row.source, "note": o.row.note, "command": None if o.row.skip else validate_training.command(o.row)}
                for o in trained]
    worked = [] if row != () else validate_workloads.run(cat)  # MLPerf BERT / ResNet-50: FLOPs-per-sample workloads
    workloads = [{"id": o.row.id, "ref": o.row.ref, "group": o.row.group, "vendor": o.vendor, "workload": o.row.workload,
                  "hardware": o.row.hardware, "chips": o.row.chips, "metric": "time_to_train_min",
                  "published": o.row.published_min, "predicted": o.predicted_min, "error": o.error, "problem": o.problem,
                  "mfu": o.training.mfu if o.training else None, "source": o.row.source, "note": o.row.note,
                  "command": validate_workloads.command(o.row)} for o in worked]
    return ValidationResult(outcomes, rows, summ, by, training, validate_training.summary(trained) if trained else {},
                            workloads, validate_workloads.summary(worked) if worked else {})


def audit(files: str | Path | Sequence[str | Path] = (), *, catalog: Catalog | None = None,
          db: str | None = None) -> AuditResult:
    """``tcobench audit``: claimed vs derived with a verdict, for the built-in claims or the claims in ``files``
    (TOML with [claim.<id>] tables; claims there may cite the built-in ones). A malformed claim comes back as a
    result with ``error`` set, beside the others. A claim of kind ``measured`` cites a saved ``bench`` or
    ``measure`` run by id, read from the results store ``db`` (a path or URL; default as ``tcobench runs``)."""
    cat = with_designs(catalog_or_default(catalog))
    paths = [str(files)] if isinstance(files, (str, Path)) else [str(f) for f in files]
    builtin = load_claims([builtin_dir()], cat)
    chosen = load_claims(paths, cat) if paths else builtin
    library = [c for c in builtin.claims if c.id not in {x.id for x in chosen.claims}] if paths else []
    results = audit_claims(chosen.claims, cat, library=library, runs=saved_runs(lambda: _store(db)))
    return AuditResult(results + [invalid_result(bad) for bad in chosen.invalid])


def _store(db: str | None) -> Store:
    from tcobench.store import Store  # SQLAlchemy, imported when a claim cites a run

    return Store.open(db)


def saved_runs(open_store: Callable[[], Store]) -> Callable[[int], Run]:
    """Saved runs by id, for claims that cite one. The store is opened at the first citation, so an audit that cites
    none touches no store; an id that is not there is an InputError naming the measured runs nearest to it."""
    opened: list[Store] = []

    def get(run_id: int) -> Run:
        if not opened:
            opened.append(open_store())
        store = opened[0]
        try:
            return store.get(run_id)
        except InputError:
            measured = [r for r in store.list(limit=MEASURED_RUNS_SCANNED) if r.command in ("bench", "measure")]
            near = sorted(measured, key=lambda r: (abs((r.id or 0) - run_id), r.id or 0))[:3]
            hint = ("; did you mean " + " or ".join(f"{r.id} ({r.command}{': ' + r.label if r.label else ''})"
                                                    for r in near) + "?") if near else "; it holds no bench or measure run"
            raise InputError(f"no run with id {run_id} in {store.where}{hint}") from None

    return get


MEASURED_RUNS_SCANNED = 1000  # the latest runs looked through for a close match

"""``probe``, ``measure`` and ``calibrate``: the local device measured, and perf's factors fitted to it.

    probe(device="cpu", output=FILE) -> ProbeResult          a hardware profile of this device (catalog TOML)
    measure(model, device="cpu", hardware=FILE) -> MeasureResult    prefill and decode timed over a grid
    calibrate(runs, hardware=FILE, holdout=5) -> CalibrateResult    factors fitted, a calibrated profile

PyTorch is the optional extra ``tcobench[measure]``; ``calibrate`` needs only saved runs and ``perf``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tcobench import checks
from tcobench.api.inputs import HardwareRef, Ref, catalog_or_default, hardware_of, model_of, positive_numbers, whole
from tcobench.catalog import Catalog, Hardware, Model
from tcobench.errors import InputError, MissingInputError, quote
from tcobench.local.decoder import FORMATS, check_supported
from tcobench.local.device import device as _device
from tcobench.local.fit import NAMES, Problem, errors, fit, folds, get, summary
from tcobench.local.grid import (
    DEFAULT_BATCHES, DEFAULT_CONTEXTS, DEFAULT_PREFILLS, Record, Shape, check_fits, measure_grid, shapes,
)
from tcobench.local.probe import Plan, Probe, run_probe, summary_rows
from tcobench.local.profile import Factors, calibrated_toml, factors, profile_toml
from tcobench.local.profile import hardware_id as default_id
from tcobench.perf.efficiency import resolve
from tcobench.records import Provenance, Run

Say = Callable[[str], None]


# -- probe -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProbeResult:
    """A probe: what it measured, the hardware profile it implies (``toml``) and where it was written."""

    probe: Probe
    hardware_id: str
    toml: str
    factors: Factors
    path: str | None
    base: str | None  # the catalog chip whose datasheet figures the factors are fractions of

    def rows(self) -> list[tuple[str, str, str]]:
        return list(summary_rows(self.probe))

    def to_dict(self) -> dict[str, Any]:
        return {"hardware_id": self.hardware_id, "path": self.path, "base": self.base, "factors": self.factors.to_dict(),
                **self.probe.to_dict()}


def probe(*, device: str = "cpu", output: str | Path | None = None, hardware_id: str | None = None,
          base: HardwareRef | None = None, quick: bool = False, threads: int | None = None, catalog: Catalog | None = None,
          progress: Say | None = None) -> ProbeResult:
    """``tcobench probe``: measure this device (GEMMs by shape, weight streaming, copy bandwidth, launch cost)
    and write a hardware profile usable as ``--hardware FILE`` (``output``; not written when None). ``base``: a
    catalog chip whose datasheet peaks the factors are measured against (default: the best rates measured).
    ``threads``: a CPU's compute threads (``local.device.device``); probe and measure with the same number."""
    cat = catalog_or_default(catalog) if base is not None else None
    base_hw = hardware_of(cat, base) if cat is not None and base is not None else None
    hw_id = _id(hardware_id) if hardware_id else None
    out = checks.open_output(output, "{output}") if output is not None else None  # a bad path fails before measuring
    try:
        dev = _device(device, threads=None if threads is None else whole(threads, "threads", 1, 4096))
        p = run_probe(dev, Plan.default(dev.kind, quick=quick), progress)
        hw_id = hw_id or default_id(p)
        text = profile_toml(p, hw_id, base_hw)
        if out is not None:
            out.write(text)
    finally:
        if out is not None:
            out.close()
    return ProbeResult(p, hw_id, text, factors(p, base_hw), None if output is None else str(output),
                       base_hw.id if base_hw else None)


def _id(text: str, param: str = "hardware_id") -> str:
    import re

    if not re.fullmatch(r"[a-z0-9][a-z0-9.\-]{0,79}", text):
        raise InputError(f"{{{param}}} {quote(text)}: expected a catalog id, lower-case letters, digits, '.' and '-' "
                         "(e.g. my-cpu)", params=(param,))
    return text


# -- measure -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MeasureResult:
    """Prefill and decode of ``model`` timed on a device; with ``hardware``, perf's prediction beside each."""

    model: Model
    device: dict[str, Any]
    precision: str
    records: list[Record]
    interrupted: bool
    bytes_needed: float
    wall_s: float
    hardware: str | None = None  # the profile given, as given (a path is made absolute)
    predicted: list[float | None] = field(default_factory=list)  # seconds, per record, with hardware

    def to_dict(self) -> dict[str, Any]:
        recs = [{**r.to_dict(), **({"predicted_s": p} if self.predicted else {})}
                for r, p in zip(self.records, self.predicted or [None] * len(self.records), strict=True)]
        return {"model": self.model.id, "model_spec": model_spec(self.model), "device": self.device,
                "precision": self.precision, "hardware": self.hardware, "records": recs,
                "interrupted": self.interrupted, "bytes_needed": self.bytes_needed, "wall_s": self.wall_s}

    def to_run(self, tool_version: str, inputs: dict[str, Any], label: str = "") -> Run:
        """The Run ``tcobench measure`` saves (provenance measured); ``label`` default: model on device."""
        return Run(command="measure", provenance=Provenance.MEASURED, inputs=inputs, outputs=self.to_dict(),
                   tool_version=tool_version, label=label or f"{self.model.id} on {self.device.get('description', '?')}")


def model_spec(model: Model) -> dict[str, Any]:
    """The architecture as a plain document, enough to rebuild the Model (``Model.model_validate``)."""
    return model.model_dump(mode="json", exclude={"origin", "published_params", "published_active_params"})


def plan_grid(batch: str | Sequence[int] | None, context: str | Sequence[int] | None,
              prefill: str | Sequence[int] | None) -> list[Shape]:
    b = positive_numbers(batch, int, "batch") or list(DEFAULT_BATCHES)
    c = positive_numbers(context, int, "context") or list(DEFAULT_CONTEXTS)
    p = positive_numbers(prefill, int, "prefill") if prefill != "" else []
    if prefill is None:
        p = list(DEFAULT_PREFILLS)
    return shapes(sorted(set(b)), sorted(set(c)), sorted(set(p)))


def measure(model: Ref, *, device: str = "cpu", batch: str | Sequence[int] | None = None,
            context: str | Sequence[int] | None = None, prefill: str | Sequence[int] | None = None,
            precision: str | None = None, hardware: HardwareRef | None = None, budget: float = 0.3, rounds: int = 2,
            threads: int | None = None, catalog: Catalog | None = None, say: Say | None = None,
            progress: Callable[[int, int, Shape, Record | None], None] | None = None, endpoint: str | None = None,
            served_model: str | None = None, output_len: int = 32, requests: int = 8,
            api: Literal["chat", "completions"] = "completions") -> MeasureResult:
    """``tcobench measure``: a Llama-shaped decoder of ``model``'s architecture with random weights, timed on
    ``device``: a prefill of each ``prefill`` length (batch 1) and a decode step at each ``batch`` x ``context``
    (tokens already cached). Seconds per shape are the fastest of the repetitions (``measure/timing.py``).
    ``precision``: fp32 (default on a CPU), bf16 (default on CUDA) or fp16. ``hardware`` (a probed profile):
    perf's prediction is put beside each record. InputError (exit 2) when the model is not a dense decoder or
    does not fit the device's free memory; ``say`` gets a note when it takes more than half of it. ``threads``: a
    CPU's compute threads, as the profile was probed with.

    ``endpoint`` (a URL): measure the model served there through ``bench`` instead (``api/served.py``:
    ``served_model``, ``output_len``, ``requests`` and ``api`` apply; ``precision`` is the server's format, default
    bf16; ``device``, ``hardware``, ``budget``, ``rounds`` and ``threads`` do not)."""
    if endpoint is not None:
        from tcobench.api.served import measure_served

        return measure_served(endpoint, model, served_model=served_model, batch=batch, context=context,
                              prefill=prefill, output_len=output_len, requests=requests, precision=precision or "bf16",
                              api=api, catalog=catalog)
    cat = catalog_or_default(catalog)
    m = model_of(cat, model)
    check_supported(m)
    grid = plan_grid(batch, context, prefill)
    hw = hardware_of(cat, hardware) if hardware is not None else None
    rounds = whole(rounds, "rounds", 1, 100)
    budget = checks.number(budget, "{budget}", low=0.001, high=60.0)
    dev = _device(device, threads=None if threads is None else whole(threads, "threads", 1, 4096))
    fmt = (precision or ("fp32" if dev.kind == "cpu" else "bf16")).lower()
    if fmt not in FORMATS:
        raise InputError(f"{{precision}} {quote(precision)}: measure runs {', '.join(FORMATS)}", params=("precision",))
    need = check_fits(m, fmt, grid, dev)
    if say and need > dev.free_bytes / 2:
        say(f"note: the largest shape needs about {need / 1e9:,.2f} GB, more than half of the "
            f"{dev.free_bytes / 1e9:,.2f} GB free on {dev.name}")
    start = time.perf_counter()
    records, interrupted = measure_grid(m, dev, grid, fmt=fmt, budget_s=budget, rounds=rounds, progress=progress)
    wall = time.perf_counter() - start
    where = None
    predicted: list[float | None] = []
    if hw is not None:
        where = str(Path(hardware).resolve()) if isinstance(hardware, str) and Path(hardware).is_file() else hw.id
        predicted = [float(t) for t in _problem(cat, m, hw, fmt).times(_start(cat, hw, fmt)[None, :], records)[0]] \
            if records else []
    return MeasureResult(m, dev.to_dict(), fmt, records, interrupted, need, wall, where, predicted)


# -- calibrate ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FactorChange:
    name: str
    before: float
    after: float
    sensitive: bool  # whether any record depends on it; one that none does stays where it was

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "before": self.before, "after": self.after, "ratio": self.after / self.before,
                "sensitive": self.sensitive}


@dataclass(frozen=True)
class CalibrateResult:
    """Factors fitted to measured records: before and after, the fit on the records used and on held-out ones."""

    model: str
    hardware: str  # the base profile's id
    hardware_id: str  # the calibrated profile's id
    path: str | None
    precision: str
    runs: list[int]
    records: list[Record]
    factors: list[FactorChange]
    predicted_before: list[float]
    predicted_after: list[float]
    predicted_held_out: list[float | None]  # each record predicted by the fit that did not see it (k-fold)
    holdout: int
    toml: str
    iterations: int

    def fit_summary(self) -> dict[str, Any]:
        before = errors(np.array(self.predicted_before), self.records)
        after = errors(np.array(self.predicted_after), self.records)
        held = [(p, r) for p, r in zip(self.predicted_held_out, self.records, strict=True) if p is not None]
        out = {"before": summary(before), "after": summary(after)}
        if held:
            out["held_out"] = {**summary(errors(np.array([p for p, _ in held]), [r for _, r in held])), "folds": self.holdout}
        return out

    def to_dict(self) -> dict[str, Any]:
        rows = [{**r.to_dict(), "predicted_before_s": b, "predicted_after_s": a, "predicted_held_out_s": h}
                for r, b, a, h in zip(self.records, self.predicted_before, self.predicted_after, self.predicted_held_out,
                                      strict=True)]
        return {"model": self.model, "hardware": self.hardware, "hardware_id": self.hardware_id, "path": self.path,
                "precision": self.precision, "runs": self.runs, "factors": [f.to_dict() for f in self.factors],
                "fit": self.fit_summary(), "iterations": self.iterations, "records": rows}


def calibrate(runs: Sequence[int | Run], *, hardware: HardwareRef | None = None, holdout: int = 5,
              output: str | Path | None = None, hardware_id: str | None = None, db: str | None = None,
              catalog: Catalog | None = None) -> CalibrateResult:
    """``tcobench calibrate``: fit perf's factors at the runs' format (compute, weight streaming, other memory
    reads, per-operator overhead) to the records of ``runs`` (``tcobench measure`` run ids or Runs), predicting
    with ``hardware`` (default: the profile the runs were measured with). ``holdout``: k of a k-fold check, each
    record predicted by a fit that did not see it (0 or 1: none). Writes the calibrated profile to ``output``."""
    cat = catalog_or_default(catalog)
    if not runs:
        raise InputError("{run} names no run; expected the id of a `tcobench measure` run", params=("run",))
    holdout = whole(holdout, "holdout", 0, 1000)
    loaded = _load_runs(runs, db)
    spec = loaded[0].outputs.get("model_spec")
    fmt = str(loaded[0].outputs.get("precision"))
    for r in loaded[1:]:
        if r.outputs.get("model_spec") != spec or r.outputs.get("precision") != fmt:
            raise InputError(f"{{run}} {r.id}: measured {r.outputs.get('model')!r} in {r.outputs.get('precision')}, run "
                             f"{loaded[0].id} {loaded[0].outputs.get('model')!r} in {fmt}; expected runs of one model in "
                             "one format", params=("run",))
    try:
        model = Model.model_validate(spec)
    except ValueError as err:
        raise InputError(f"{{run}} {loaded[0].id}: its model_spec does not read as a model ({err})", params=("run",)) from err
    ref = hardware if hardware is not None else loaded[0].inputs.get("hardware") or loaded[0].outputs.get("hardware")
    if ref is None:
        raise MissingInputError(f"run {loaded[0].id} was measured without a profile: give {{hardware}} (the file "
                                "`tcobench probe` wrote)", params=("hardware",))
    hw = hardware_of(cat, ref)
    records = [Record(**{k: rec[k] for k in ("phase", "batch", "input_len", "seconds", "median_s", "high_s", "reps")})
               for r in loaded for rec in r.outputs["records"]]
    if len(records) < 2:
        raise InputError(f"{{run}} {', '.join(str(r.id) for r in loaded)}: {len(records)} measured record(s); expected at "
                         "least 2 to fit", params=("run",))
    if holdout > len(records):
        raise InputError(f"{{holdout}} {holdout}: more folds than the {len(records)} records", params=("holdout",))
    new_id = _id(hardware_id) if hardware_id else f"{hw.id}-calibrated"
    out = checks.open_output(output, "{output}") if output is not None else None
    try:
        problem = _problem(cat, model, hw, fmt)
        x0 = get(problem.base, fmt)
        before = problem.times(x0[None, :], records)[0]
        result = fit(problem, records, x0)
        after = problem.times(result.factors[None, :], records)[0]
        held: list[float | None] = [None] * len(records)
        if holdout >= 2:
            for fold in folds(records, holdout):
                train = [records[i] for i in range(len(records)) if i not in set(fold)]
                f = fit(problem, train, x0)
                pred = problem.times(f.factors[None, :], [records[i] for i in fold])[0]
                for i, p in zip(fold, pred, strict=True):
                    held[i] = float(p)
        changes = [FactorChange(n, float(b), float(a), s)
                   for n, b, a, s in zip(NAMES, x0, result.factors, result.sensitive, strict=True)]
        fitted = summary(errors(after, records))
        ids = [r.id for r in loaded if r.id is not None]
        prov = (f"{len(records)} records of {model.id} in {fmt} (runs {', '.join(map(str, ids))}) measured on "
                f"{loaded[0].outputs.get('device', {}).get('description', '?')} at {loaded[0].outputs.get('device', {}).get('host', '?')}, "
                f"{loaded[0].created:%Y-%m-%d}; median |predicted / measured - 1| {fitted['median_abs_error']:.1%} after the fit")
        text = calibrated_toml(hw, new_id, fmt, dict(zip(NAMES, map(float, result.factors), strict=True)),
                               dict(zip(NAMES, map(float, x0), strict=True)), prov)
        if out is not None:
            out.write(text)
    finally:
        if out is not None:
            out.close()
    return CalibrateResult(model.id, hw.id, new_id, None if output is None else str(output), fmt, ids, records, changes,
                           [float(x) for x in before], [float(x) for x in after], held, holdout, text, result.iterations)


def _load_runs(runs: Sequence[int | Run], db: str | None) -> list[Run]:
    from tcobench.store import Store

    store = Store.open(db) if any(not isinstance(r, Run) for r in runs) else None
    loaded: list[Run] = []
    for r in runs:
        if isinstance(r, Run):
            run = r
        else:
            if isinstance(r, bool) or not isinstance(r, int):
                raise InputError(f"{{run}} {quote(r)}: expected a run id (a whole number)", params=("run",))
            assert store is not None
            try:
                run = store.get(r)
            except InputError as err:
                raise InputError(f"{{run}} {r}: {err}", params=("run",)) from err
        if run.command != "measure" or not run.outputs.get("records"):
            what = f"a {run.command!r} run" if run.command != "measure" else "a measure run with no records (interrupted before the first shape)"
            raise InputError(f"{{run}} {run.id}: holds no measurements ({what}); expected the id of a `tcobench measure` "
                             "run", params=("run",))
        loaded.append(run)
    return loaded


def _problem(cat: Catalog, model: Model, hw: Hardware, fmt: str) -> Problem:
    return Problem(model, hw, fmt, cat.get_runtime("default"), resolve(hw, cat.efficiency))


def _start(cat: Catalog, hw: Hardware, fmt: str) -> np.ndarray[Any, Any]:
    return get(resolve(hw, cat.efficiency), fmt)

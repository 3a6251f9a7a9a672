"""``sweep``: a large grid, evaluated in memory-bounded chunks, reduced to top-k, a Pareto front, or a file.

The grid is candidates (hardware x precision) x tp x pp x ep x batch x input_len x output_len. For each
candidate, the flat index range of the other axes is cut into chunks of ``chunk`` points; a chunk's
coordinates come from ``np.unravel_index`` and one ``perf.evaluate`` call prices all of them. Only the
reductions (top-k, Pareto front) and, if asked, the rows written to a file, outlive a chunk.

The chunked engine (``run_grid``, ``time_grid``, the sinks, ``Reduction``) takes any ``Grid``: the inference grid
here (``_Grid``) and the training grid of ``sweep --train`` (``search.train_sweep.TrainGrid``).

Memory is bounded: an axis holds at most ``MAX_AXIS`` values (its size is computed from the range before any
array is built), a chunk at most ``MAX_CHUNK`` points, and a grid at most ``MAX_POINTS``. ``estimate`` times a
first chunk before the work starts, so a caller can say how long it will take and ask before a long run.
"""

from __future__ import annotations

import csv
import math
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from tcobench import checks
from tcobench.catalog import Catalog, Model
from tcobench.errors import InputError, quote
from tcobench.perf import compute_precision
from tcobench.perf import precision as prec
from tcobench.perf.chip import Chip
from tcobench.perf.deployment import Batch, Engine, Formats, Layout, Limits
from tcobench.perf.efficiency import resolve
from tcobench.perf.inference import PLAIN_ENGINE, evaluate
from tcobench.perf.predict import engine_cap, stack_chip, stack_engine
from tcobench.perf.transformer import shape
from tcobench.search.executor import Executor
from tcobench.search.grid import Candidate

Objective = Literal["cost", "throughput", "latency"]
AXES = ("tp", "pp", "ep", "batch", "input_len", "output_len")
COLUMNS = ("hardware", "precision", "runtime", *AXES, "chips", "ttft_s", "tpot_s", "output_tokens_per_s_per_chip",
           "usd_per_1m_output_tokens", "ok")
_RANGE = re.compile(r"^([0-9]+):([0-9]+)(?::(x?)([0-9]+(?:\.[0-9]+)?))?$", re.ASCII)
_WHOLE = re.compile(r"^[0-9]+$", re.ASCII)

# Bounds on the work and the memory of one sweep. An axis holds at most MAX_AXIS values (8 MB as float64) and each
# value is a count up to checks.MAX_COUNT. A chunk's arrays take about 1 kB per point (measured: 1 GB peak at
# 2**20 points, 140 MB at 2**16, llama-2-7b on one chip), so MAX_CHUNK = 2**22 points is about 4 GB; the default,
# 2**16, was also twice as fast per point as 2**20 on a 2-core machine (19.2 M points: 9.4 s against 16.6 s).
# A grid past CONFIRM_POINTS runs only when the caller says yes (``yes=True``, --yes); past MAX_POINTS (years of
# work at the measured rates) never, and the flat index stays far from int64's limit.
MAX_AXIS = 1_000_000
DEFAULT_CHUNK = 1 << 16
MAX_CHUNK = 1 << 22
CONFIRM_POINTS = 100_000_000
MAX_POINTS = 10**15
PROBE_POINTS = 1 << 16  # at most this many points are timed for the estimate
# On an executor (Dask), the grid is cut into tasks of whole chunks: about TASKS_PER_WORKER per worker, each at most
# TASK_POINTS points (about half a second at the rates measured on one core).
TASKS_PER_WORKER = 8
TASK_POINTS = 1 << 20


def parse_axis(text: str, param: str) -> np.ndarray:
    """'1,2,4' | '1:4096' (step 1) | '128:32768:x2' (geometric) | '1:64:8' (step 8) -> sorted unique whole numbers,
    each from 1 to checks.MAX_COUNT. The values a range holds are counted before any array is built: an axis of more
    than MAX_AXIS values is an InputError naming ``param``, never an allocation."""
    where = "{" + param + "}"
    values: list[np.ndarray] = []
    size = 0
    for part in str(text).split(","):
        part = part.strip()
        m = _RANGE.match(part)
        if m:
            lo, hi = _whole(m[1], where), _whole(m[2], where)
            geo, step = m[3] == "x", float(m[4]) if m[4] else 1.0
            if hi < lo or (step <= 1 if geo else (step < 1 or step != int(step))):
                raise InputError(f"{where} {quote(part)}: expected LOW:HIGH[:STEP|:xFACTOR] with 1 <= LOW <= HIGH, a "
                                 "whole step >= 1 or a factor > 1, e.g. '128:32768:x2'", params=(param,))
            n = int(math.floor(math.log(hi / lo) / math.log(step) + 1e-9)) + 1 if geo else (hi - lo) // int(step) + 1
            size += n
            if size > MAX_AXIS:
                raise InputError(f"{where} {quote(str(text))} holds {size:,} values or more; an axis may hold at most "
                                 f"{MAX_AXIS:,} (a wider step or a factor covers the range: '{lo}:{hi}:x2')",
                                 params=(param,))
            values.append(np.round(lo * step ** np.arange(n)) if geo else np.arange(lo, hi + 1, int(step), dtype=float))
        elif _WHOLE.match(part):
            values.append(np.array([_whole(part, where)], dtype=float))
            size += 1
        else:
            raise InputError(f"{where} {quote(part)}: expected positive integers, 'LOW:HIGH', 'LOW:HIGH:STEP' or "
                             "'LOW:HIGH:xFACTOR'", params=(param,))
        if size > MAX_AXIS:
            raise InputError(f"{where}: an axis may hold at most {MAX_AXIS:,} values", params=(param,))
    return np.unique(np.concatenate(values))


def _whole(digits: str, where: str) -> int:
    """ASCII digits as a count from 1 to checks.MAX_COUNT (a 5,000-digit number is refused, not converted)."""
    return checks.count(int(digits) if len(digits) <= 18 else 10**19, where)


def grid_size(cands: Sequence[Candidate], axes: dict[str, np.ndarray]) -> int:
    """How many points the sweep evaluates: candidates x the product of the axes (a Python int: never overflows)."""
    return len(cands) * math.prod(len(axes[a]) for a in AXES)


@dataclass(frozen=True)
class Estimate:
    """How big a sweep is and how long it should take, from timing its first ``probe`` points."""

    points: int
    rate: float  # points per second, measured
    probe: int  # points timed

    @property
    def seconds(self) -> float:
        return self.points / self.rate if self.rate > 0 else math.inf

    def text(self) -> str:
        """'12,000,000 points, about 6.1 s at 1,960,000 points/s (timed on a sample of 65,536)'."""
        return (f"{self.points:,} points, about {duration(self.seconds)} at {self.rate:,.0f} points/s "
                f"(timed on a sample of {self.probe:,})")


def duration(seconds: float) -> str:
    """A wall time for people: '0.4 s', '42 s', '3 min 20 s', '2 h 05 min', '3.2 days', '41 years'."""
    if not math.isfinite(seconds):
        return "forever"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    if seconds < 365.25 * 86400:
        return f"{seconds / 86400:.1f} days"
    return f"{seconds / (365.25 * 86400):,.0f} years"


@dataclass
class Reduction:
    """Running top-k by an objective and the Pareto front of tokens/s per chip vs interactivity.

    Fed in grid order (``add`` for a chunk's rows, ``merge`` for another reduction of the grid's next stretch), it
    holds the same rows in the same order however the grid was cut: ties go to the earlier point."""

    k: int
    objective: str
    top: dict[str, np.ndarray] = field(default_factory=dict)  # rows of the best k so far
    front: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, rows: dict[str, np.ndarray]) -> None:
        ok = rows["ok"]
        good = {k: v[ok] for k, v in rows.items()}
        if not good["ok"].size:
            return
        both = concat(self.top, good)
        self.top = _best(both, self.score(both), self.k)
        self.front = self.pareto(concat(self.front, self.pareto(good)))

    def merge(self, top: dict[str, np.ndarray], front: dict[str, np.ndarray]) -> None:
        """Fold in the reduction of the next stretch of the grid (every point after those seen so far)."""
        if top and top["ok"].size:
            both = concat(self.top, top)
            self.top = _best(both, self.score(both), self.k)
        if front and front["ok"].size:
            self.front = self.pareto(concat(self.front, front))

    def score(self, rows: dict[str, np.ndarray]) -> np.ndarray:
        """Each row's rank by the objective, smaller is better (a subclass ranks another kind of row)."""
        return _score(rows, self.objective)

    def pareto(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The rows no other row beats on both of the front's axes, in a fixed order (ties: the earlier row)."""
        return _pareto(rows)


def _score(rows: dict[str, np.ndarray], objective: str) -> np.ndarray:
    """Smaller is better."""
    if objective == "cost":
        return rows["usd_per_1m_output_tokens"]
    if objective == "throughput":
        return -rows["output_tokens_per_s_per_chip"]
    return rows["tpot_s"]


def _best(rows: dict[str, np.ndarray], score: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """The k rows of smallest score (NaN last), ties broken by position in ``rows``: the callers keep equal scores in
    grid order (the best so far, which came first, then a chunk in grid order), so the top-k is the k first points
    of the grid in (score, grid position) order, whatever the chunks, and a merge of partial top-ks equals it."""
    score = np.where(np.isnan(score), np.inf, score)
    if score.size > k:
        kth = np.partition(score, k - 1)[k - 1]
        less = np.flatnonzero(score < kth)
        idx = np.concatenate([less, np.flatnonzero(score == kth)[: k - less.size]])
    else:
        idx = np.arange(score.size)
    idx = idx[np.lexsort((idx, score[idx]))]
    return {c: v[idx] for c, v in rows.items()}


def _pareto(rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    if not rows or not rows["ok"].size:
        return rows
    inter = 1.0 / rows["tpot_s"]
    tps = rows["output_tokens_per_s_per_chip"]
    order = np.lexsort((-tps, -inter))
    running = np.maximum.accumulate(tps[order])
    keep = order[np.concatenate(([True], tps[order][1:] > running[:-1]))]
    return {c: v[keep] for c, v in rows.items()}


def concat(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {c: np.concatenate([a[c], b[c]]) for c in b} if a else b


@dataclass(frozen=True)
class SweepResult:
    evaluated: int
    feasible: int
    top: dict[str, np.ndarray]
    front: dict[str, np.ndarray]


class Grid(Protocol):
    """What the chunked engine (``run_grid``) needs of a grid: its size per candidate, its columns, the rows at some
    flat indices of one candidate (a ``plane``: that candidate's fixed inputs), and how its rows are reduced. The
    inference grid is ``_Grid`` below, the training grid ``search.train_sweep.TrainGrid``."""

    per_cand: int
    columns: tuple[str, ...]

    def rows(self, plane: Any, flat: np.ndarray) -> dict[str, np.ndarray]: ...

    def reduction(self, k: int, objective: str) -> Reduction: ...


class _Grid:
    """What every chunk of a sweep shares: the model's shape, the axes, their sizes and the limits (small and
    picklable: a Dask sweep sends it to each worker once)."""

    def __init__(self, model: Model, axes: dict[str, np.ndarray], slo_ttft: float | None,
                 slo_tpot: float | None) -> None:
        self.shape, self.axes = shape(model), axes
        self.dims = tuple(len(axes[a]) for a in AXES)
        self.per_cand = math.prod(self.dims)
        self.columns: tuple[str, ...] = COLUMNS
        self.limits = Limits(model.max_context, np.inf if slo_ttft is None else slo_ttft,
                             np.inf if slo_tpot is None else slo_tpot)

    @staticmethod
    def chip(cand: Candidate, catalog: Catalog) -> tuple[Chip, Formats]:
        chip = stack_chip(cand.hardware, compute_precision(cand.precision, cand.precision),
                          resolve(cand.hardware, catalog.efficiency), cand.runtime, strict=False)
        nbytes = prec.BYTES[cand.precision]
        return chip, Formats(nbytes, nbytes, prec.activation_bytes(cand.precision), dispatch=prec.dispatch_bytes(cand.precision))

    @staticmethod
    def reduction(k: int, objective: str) -> Reduction:
        return Reduction(k, objective)

    def rows(self, plane: _Plane, flat: np.ndarray) -> dict[str, np.ndarray]:
        """The rows of one candidate at flat grid indices ``flat``: coordinates, figures and whether each is ok."""
        coords = dict(zip(AXES, (self.axes[a][i] for a, i in zip(AXES, np.unravel_index(flat, self.dims), strict=True)),
                          strict=True))
        chips = coords["tp"] * coords["pp"] * coords["ep"]
        r = evaluate(self.shape, plane.chip, Batch(coords["batch"], coords["input_len"], coords["output_len"]),
                     Layout(coords["tp"], coords["pp"], coords["ep"], chips), plane.formats, limits=self.limits,
                     engine=plane.engine)
        per_chip = r.output_tokens_per_s_per_chip
        ok = r.ok if plane.max_seqs is None else r.ok & (coords["batch"] <= plane.max_seqs)  # the stack's cap
        with np.errstate(divide="ignore", invalid="ignore"):
            cost = plane.usd_per_chip_s / per_chip * 1e6
        n = flat.size
        rows = {"hardware": np.full(n, plane.hardware, dtype=object), "precision": np.full(n, plane.precision, dtype=object),
                "runtime": np.full(n, plane.runtime, dtype=object),
                **coords, "chips": chips, "ttft_s": r.ttft_s, "tpot_s": r.tpot_s,
                "output_tokens_per_s_per_chip": per_chip, "usd_per_1m_output_tokens": cost, "ok": ok}
        return {k: np.broadcast_to(v, (n,)) for k, v in rows.items()}


@dataclass(frozen=True)
class _Plane:
    """One candidate's fixed inputs: its ids, its chip and formats, and its price (USD per chip-second; NaN: none)."""

    hardware: str
    precision: str
    chip: Chip
    formats: Formats
    usd_per_chip_s: float
    runtime: str = "default"  # the serving stack's catalog id
    engine: Engine = PLAIN_ENGINE
    max_seqs: int | None = None  # the stack's default cap on running sequences (batches above it are not ok)

    @classmethod
    def of(cls, cand: Candidate, chip: Chip, formats: Formats, usd_per_chip_s: float) -> _Plane:
        return cls(cand.hardware.id, cand.precision, chip, formats, usd_per_chip_s, cand.runtime_id,
                   stack_engine(cand.runtime), engine_cap(cand.runtime))


@dataclass(frozen=True)
class _Stretch:
    """A task of a sweep on an executor: the flat indices [start, stop) of one candidate, evaluated in the same
    chunks as one loop would (``start`` is a multiple of ``chunk``), written to ``part`` (a Parquet file) if set."""

    plane: Any  # the grid's plane type (_Plane for inference)
    start: int
    stop: int
    chunk: int
    k: int
    objective: str
    part: str | None


@dataclass(frozen=True)
class _Partial:
    """What a task sends back: its counts, top-k and Pareto front (never its rows)."""

    evaluated: int
    feasible: int
    top: dict[str, np.ndarray]
    front: dict[str, np.ndarray]


def _chunks(grid: Grid, plane: Any, start: int, stop: int, chunk: int) -> Iterator[dict[str, np.ndarray]]:
    for at in range(start, stop, chunk):
        yield grid.rows(plane, np.arange(at, min(at + chunk, stop)))


def _run_stretch(grid: Grid, task: _Stretch) -> _Partial:
    """One task, on a worker: at most ``chunk`` points in memory at once, whatever the stretch's length."""
    red = grid.reduction(task.k, task.objective)
    sink = ParquetSink(Path(task.part), grid.columns) if task.part is not None else None
    evaluated = feasible = 0
    try:
        for rows in _chunks(grid, task.plane, task.start, task.stop, task.chunk):
            red.add(rows)
            if sink is not None:
                sink(rows)
            evaluated += rows["ok"].size
            feasible += int(np.count_nonzero(rows["ok"]))
    finally:
        if sink is not None:
            sink.close()
    return _Partial(evaluated, feasible, red.top, red.front)


def stretch_chunks(total_chunks: int, workers: int, chunk: int) -> int:
    """Chunks per task: about TASKS_PER_WORKER tasks per worker (so a slow one is not waited for long), at most
    TASK_POINTS points each (so progress moves and a lost worker costs little)."""
    per = -(-total_chunks // max(1, TASKS_PER_WORKER * workers))
    return max(1, min(per, TASK_POINTS // chunk))


def check_size(cands: Sequence[Candidate], axes: dict[str, np.ndarray], chunk: int) -> int:
    """The grid's size, after checking ``chunk`` (1 to MAX_CHUNK) and that the grid is at most MAX_POINTS."""
    checks.count(chunk, "{chunk}", at_most=MAX_CHUNK)
    total = grid_size(cands, axes)
    if total > MAX_POINTS:
        raise InputError(f"the grid has {total:,} points, more than the {MAX_POINTS:,} a sweep may evaluate; narrow "
                         "the axes ({tp}, {pp}, {ep}, {batch}, {input_len}, {output_len}) or the hardware and precisions",
                         params=("tp", "pp", "ep", "batch", "input_len", "output_len"))
    return total


def estimate(model: Model, cands: Sequence[Candidate], axes: dict[str, np.ndarray], *, catalog: Catalog,
             chunk: int = DEFAULT_CHUNK) -> Estimate:
    """The grid's size and the time it should take, from timing min(chunk, PROBE_POINTS) points of the first
    candidate, spread evenly over its grid (one chunk as the sweep will run it, so per-call costs count at the chunk
    size used), the second time they are evaluated."""
    total = check_size(cands, axes, chunk)
    if not cands or total == 0:
        return Estimate(total, math.inf, 0)
    grid = _Grid(model, axes, None, None)
    chip, formats = grid.chip(cands[0], catalog)
    return time_grid(grid, _Plane.of(cands[0], chip, formats, 1.0), total, chunk)


def time_grid(grid: Grid, plane: Any, total: int, chunk: int) -> Estimate:
    """``total`` points' size and time, from timing min(chunk, PROBE_POINTS) points of ``plane`` spread evenly over
    its grid."""
    probe = min(chunk, PROBE_POINTS, grid.per_cand)
    # points spread evenly over the grid: the model's cost per point differs from one corner of it to another
    flat = np.linspace(0, grid.per_cand - 1, probe).round().astype(np.int64)
    # Once untimed, its rows kept while the second runs, as the sweep keeps a chunk until the next is made: freed
    # at once, the arrays' pages go back to the system and every call pays to map them again (1.4 M points/s
    # against 2.2 M on the machine measured).
    warm = grid.rows(plane, flat)
    start = time.perf_counter()
    grid.rows(plane, flat)
    wall = time.perf_counter() - start
    del warm
    return Estimate(total, probe / max(wall, 1e-9), probe)


def sweep(model: Model, cands: Sequence[Candidate], axes: dict[str, np.ndarray], *, catalog: Catalog,
          usd_per_chip_s: Sequence[float], slo_ttft: float | None = None, slo_tpot: float | None = None,
          objective: Objective = "cost", top_k: int = 10, chunk: int = DEFAULT_CHUNK,
          sink: Callable[[dict[str, np.ndarray]], None] | None = None,
          progress: Callable[[int], None] | None = None, executor: Executor | None = None,
          parts: Path | None = None) -> SweepResult:
    """Evaluate every grid point; ``usd_per_chip_s[i]`` prices candidate i (NaN: no price, cost is NaN).

    ``sink`` receives every chunk's rows (for a CSV/Parquet file); ``progress`` the number of points done.
    At most ``chunk`` points are in memory at once (1 to MAX_CHUNK).

    With ``executor`` (search.executor: in-process or Dask), the grid is cut into tasks of whole chunks that run
    where the executor puts them; each sends back only its counts, top-k and front, merged in grid order, so the
    result is the one loop's, row for row. There ``sink`` cannot be used: ``parts``, a folder, receives one Parquet
    file per task (``part-000000.parquet``, ... in grid order), written by the worker that ran it.
    """
    if top_k < 1:
        raise InputError(f"{{top}} {top_k}: expected a positive integer", params=("top",))
    check_size(cands, axes, chunk)
    grid = _Grid(model, axes, slo_ttft, slo_tpot)
    planes = [_Plane.of(c, *grid.chip(c, catalog), usd_per_chip_s[i]) for i, c in enumerate(cands)]
    return run_grid(grid, planes, objective=objective, top_k=top_k, chunk=chunk, sink=sink, progress=progress,
                    executor=executor, parts=parts)


def run_grid(grid: Grid, planes: Sequence[Any], *, objective: str, top_k: int, chunk: int = DEFAULT_CHUNK,
             sink: Callable[[dict[str, np.ndarray]], None] | None = None, progress: Callable[[int], None] | None = None,
             executor: Executor | None = None, parts: Path | None = None) -> SweepResult:
    """Every point of ``grid`` for each plane, in chunks, reduced to the top-k and the front (``sweep`` has the
    contract: the same result on an executor as in one loop, row for row)."""
    red = grid.reduction(top_k, objective)
    evaluated = feasible = 0
    if executor is not None:
        if sink is not None:
            raise ValueError("sweep: on an executor, every point goes to parts, not to a sink")
        per = stretch_chunks(len(planes) * -(-grid.per_cand // chunk), executor.workers, chunk) * chunk
        tasks = (_Stretch(p, at, min(at + per, grid.per_cand), chunk, top_k, objective,
                          None if parts is None else str(parts / f"part-{i:06d}.parquet"))
                 for i, (p, at) in enumerate((p, at) for p in planes for at in range(0, grid.per_cand, per)))
        for part in executor.map(_run_stretch, tasks, grid):
            red.merge(part.top, part.front)
            evaluated += part.evaluated
            feasible += part.feasible
            if progress is not None:
                progress(part.evaluated)
        return SweepResult(evaluated, feasible, red.top, red.front)
    for plane in planes:
        for rows in _chunks(grid, plane, 0, grid.per_cand, chunk):
            red.add(rows)
            if sink is not None:
                sink(rows)
            n = rows["ok"].size
            evaluated += n
            feasible += int(np.count_nonzero(rows["ok"]))
            if progress is not None:
                progress(n)
    return SweepResult(evaluated, feasible, red.top, red.front)


class CsvSink:
    """Writes every row, chunk by chunk, to a CSV file."""

    def __init__(self, path: Path, columns: Sequence[str] = COLUMNS) -> None:
        self._fh = checks.open_output(path, "{output}")
        self._w = csv.writer(self._fh)
        self._columns = tuple(columns)
        self._w.writerow(self._columns)

    def __call__(self, rows: dict[str, np.ndarray]) -> None:
        self._w.writerows(zip(*(rows[c].tolist() for c in self._columns), strict=False))

    def close(self) -> None:
        self._fh.close()


class ParquetSink:
    """Writes every row to a Parquet file (needs pyarrow, imported only here)."""

    def __init__(self, path: Path, columns: Sequence[str] = COLUMNS) -> None:
        self._columns = tuple(columns)
        try:
            import pyarrow as pa  # type: ignore[import-untyped, import-not-found, unused-ignore]
            import pyarrow.parquet as pq  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ModuleNotFoundError as err:
            raise InputError(f"{{output}} {path}: writing Parquet needs pyarrow, which is not installed "
                             "(pip install pyarrow); write a .csv instead", params=("output",)) from err
        checks.open_output(path, "{output}").close()  # its folder made and the file writable, or an InputError now
        self._pa, self._path, self._pq = pa, path, pq
        self._writer: Any = None

    def __call__(self, rows: dict[str, np.ndarray]) -> None:
        table = self._pa.table({c: rows[c].astype(str) if rows[c].dtype == object else rows[c] for c in self._columns})
        if self._writer is None:
            self._writer = self._pq.ParquetWriter(str(self._path), table.schema)
        self._writer.write_table(table)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def open_sink(path: Path, columns: Sequence[str] = COLUMNS) -> CsvSink | ParquetSink:
    if path.suffix == ".parquet":
        return ParquetSink(path, columns)
    if path.suffix == ".csv":
        return CsvSink(path, columns)
    raise InputError(f"{{output}} {str(path)!r}: expected a .csv or .parquet file name", params=("output",))


def open_parts(path: Path) -> Path:
    """The folder a sweep on an executor writes its Parquet parts to: ``path`` (a .parquet name) made a folder, and
    emptied of the parts of an earlier sweep (only files named ``part-*.parquet`` are removed). Workers on other
    machines write there too, so it must be on storage they share."""
    if path.suffix != ".parquet":
        raise InputError(f"{{output}} {str(path)!r}: a sweep on Dask workers writes every point as Parquet parts "
                         "(one file per task, in a folder); expected a name ending in .parquet", params=("output",))
    try:
        import pyarrow  # type: ignore[import-untyped, import-not-found, unused-ignore]  # noqa: F401
    except ModuleNotFoundError as err:
        raise InputError(f"{{output}} {path}: writing Parquet needs pyarrow, which is not installed "
                         "(pip install 'tcobench[distributed]')", params=("output",)) from err
    if path.exists() and not path.is_dir():
        raise InputError(f"{{output}} {str(path)!r} is a file; a sweep on Dask workers writes a folder of Parquet "
                         "parts: remove it or name another", params=("output",))
    try:
        path.mkdir(parents=True, exist_ok=True)
        for old in path.glob("part-*.parquet"):
            old.unlink()
    except OSError as err:
        raise InputError(f"{{output}} {str(path)!r}: cannot make the folder for the parts ({err.strerror})",
                         params=("output",)) from err
    return path


def iter_rows(rows: dict[str, np.ndarray], columns: Sequence[str] = COLUMNS) -> Iterator[dict[str, Any]]:
    n = len(next(iter(rows.values()))) if rows else 0
    for i in range(n):
        yield {c: (rows[c][i].item() if hasattr(rows[c][i], "item") else rows[c][i]) for c in columns}

"""``sweep``: a large grid, evaluated in memory-bounded chunks, reduced to top-k, a Pareto front, or a file.

The grid is candidates (hardware x precision) x tp x pp x ep x batch x input_len x output_len. For each
candidate, the flat index range of the other axes is cut into chunks of ``chunk`` points; a chunk's
coordinates come from ``np.unravel_index`` and one ``perf.evaluate`` call prices all of them. Only the
reductions (top-k, Pareto front) and, if asked, the rows written to a file, outlive a chunk.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tcobench.catalog import Catalog, Model
from tcobench.errors import InputError
from tcobench.perf import compute_precision
from tcobench.perf import precision as prec
from tcobench.perf.chip import Chip
from tcobench.perf.deployment import Batch, Formats, Layout, Limits
from tcobench.perf.efficiency import resolve
from tcobench.perf.inference import evaluate
from tcobench.perf.transformer import shape
from tcobench.search.grid import Candidate

Objective = Literal["cost", "throughput", "latency"]
AXES = ("tp", "pp", "ep", "batch", "input_len", "output_len")
COLUMNS = ("hardware", "precision", *AXES, "chips", "ttft_s", "tpot_s", "output_tokens_per_s_per_chip",
           "usd_per_1m_output_tokens", "ok")
_RANGE = re.compile(r"^(\d+):(\d+)(?::(x?)(\d+(?:\.\d+)?))?$")


def parse_axis(text: str, param: str) -> np.ndarray:
    """'1,2,4' | '1:4096' (step 1) | '128:32768:x2' (geometric) | '1:64:8' (step 8) -> sorted unique ints."""
    values: list[float] = []
    for part in text.split(","):
        part = part.strip()
        m = _RANGE.match(part)
        if m:
            lo, hi, geo, step = int(m[1]), int(m[2]), m[3] == "x", float(m[4]) if m[4] else 1.0
            if lo < 1 or hi < lo or step <= (1 if geo else 0):
                raise InputError(f"{{{param}}} {part!r}: expected LOW:HIGH[:STEP|:xFACTOR] with 1 <= LOW <= HIGH, "
                                 f"a step > 0 or a factor > 1, e.g. '128:32768:x2'", params=(param,))
            if geo:
                n = int(math.floor(math.log(hi / lo, step) + 1e-9)) + 1
                values.extend(np.round(lo * step ** np.arange(n)))
            else:
                values.extend(np.arange(lo, hi + 1, step))
        elif part.isdigit() and int(part) >= 1:
            values.append(int(part))
        else:
            raise InputError(f"{{{param}}} {part!r}: expected positive integers, 'LOW:HIGH', 'LOW:HIGH:STEP' or "
                             "'LOW:HIGH:xFACTOR'", params=(param,))
    return np.unique(np.asarray(values, dtype=float))


@dataclass
class Reduction:
    """Running top-k by an objective and the Pareto front of tokens/s per chip vs interactivity."""

    k: int
    objective: Objective
    top: dict[str, np.ndarray] = field(default_factory=dict)  # rows of the best k so far
    front: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, rows: dict[str, np.ndarray]) -> None:
        ok = rows["ok"]
        good = {k: v[ok] for k, v in rows.items()}
        if not good["ok"].size:
            return
        self.top = _best(_concat(self.top, good), _score(good if not self.top else _concat(self.top, good), self.objective), self.k)
        self.front = _pareto(_concat(self.front, _pareto(good)))


def _score(rows: dict[str, np.ndarray], objective: Objective) -> np.ndarray:
    """Smaller is better."""
    if objective == "cost":
        return rows["usd_per_1m_output_tokens"]
    if objective == "throughput":
        return -rows["output_tokens_per_s_per_chip"]
    return rows["tpot_s"]


def _best(rows: dict[str, np.ndarray], score: np.ndarray, k: int) -> dict[str, np.ndarray]:
    score = np.where(np.isnan(score), np.inf, score)
    idx = np.argpartition(score, k - 1)[:k] if score.size > k else np.arange(score.size)
    idx = idx[np.argsort(score[idx], kind="stable")]
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


def _concat(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {c: np.concatenate([a[c], b[c]]) for c in b} if a else b


@dataclass(frozen=True)
class SweepResult:
    evaluated: int
    feasible: int
    top: dict[str, np.ndarray]
    front: dict[str, np.ndarray]


def sweep(model: Model, cands: Sequence[Candidate], axes: dict[str, np.ndarray], *, catalog: Catalog,
          usd_per_chip_s: Sequence[float], slo_ttft: float | None = None, slo_tpot: float | None = None,
          objective: Objective = "cost", top_k: int = 10, chunk: int = 1 << 20,
          sink: Callable[[dict[str, np.ndarray]], None] | None = None,
          progress: Callable[[int], None] | None = None) -> SweepResult:
    """Evaluate every grid point; ``usd_per_chip_s[i]`` prices candidate i (NaN: no price, cost is NaN).

    ``sink`` receives every chunk's rows (for a CSV/Parquet file); ``progress`` the number of points done.
    """
    if top_k < 1:
        raise InputError(f"{{top}} {top_k}: expected a positive integer", params=("top",))
    s = shape(model)
    dims = tuple(len(axes[a]) for a in AXES)
    per_cand = int(np.prod(dims))
    red = Reduction(top_k, objective)
    limits = Limits(model.max_context, np.inf if slo_ttft is None else slo_ttft, np.inf if slo_tpot is None else slo_tpot)
    evaluated = feasible = 0
    for ci, cand in enumerate(cands):
        chip = Chip.of(cand.hardware, compute_precision(cand.precision, cand.precision),
                       resolve(cand.hardware, catalog.efficiency), strict=False)
        nbytes, abytes = prec.BYTES[cand.precision], prec.activation_bytes(cand.precision)
        for start in range(0, per_cand, chunk):
            flat = np.arange(start, min(start + chunk, per_cand))
            coords = dict(zip(AXES, (axes[a][i] for a, i in zip(AXES, np.unravel_index(flat, dims), strict=False)), strict=False))
            chips = coords["tp"] * coords["pp"] * coords["ep"]
            r = evaluate(s, chip, Batch(coords["batch"], coords["input_len"], coords["output_len"]),
                         Layout(coords["tp"], coords["pp"], coords["ep"], chips), Formats(nbytes, nbytes, abytes), limits=limits)
            per_chip = r.output_tokens_per_s_per_chip
            with np.errstate(divide="ignore", invalid="ignore"):
                cost = usd_per_chip_s[ci] / per_chip * 1e6
            n = flat.size
            rows = {"hardware": np.full(n, cand.hardware.id, dtype=object), "precision": np.full(n, cand.precision, dtype=object),
                    **coords, "chips": chips, "ttft_s": r.ttft_s, "tpot_s": r.tpot_s,
                    "output_tokens_per_s_per_chip": per_chip, "usd_per_1m_output_tokens": cost, "ok": r.ok}
            rows = {k: np.broadcast_to(v, (n,)) for k, v in rows.items()}
            red.add(rows)
            if sink is not None:
                sink(rows)
            evaluated += n
            feasible += int(np.count_nonzero(r.ok))
            if progress is not None:
                progress(n)
    return SweepResult(evaluated, feasible, red.top, red.front)


class CsvSink:
    """Writes every row, chunk by chunk, to a CSV file."""

    def __init__(self, path: Path) -> None:
        self._fh = path.open("w", newline="")
        self._w = csv.writer(self._fh)
        self._w.writerow(COLUMNS)

    def __call__(self, rows: dict[str, np.ndarray]) -> None:
        self._w.writerows(zip(*(rows[c].tolist() for c in COLUMNS), strict=False))

    def close(self) -> None:
        self._fh.close()


class ParquetSink:
    """Writes every row to a Parquet file (needs pyarrow, imported only here)."""

    def __init__(self, path: Path) -> None:
        try:
            import pyarrow as pa  # type: ignore[import-not-found]
            import pyarrow.parquet as pq  # type: ignore[import-not-found]
        except ModuleNotFoundError as err:
            raise InputError(f"{{output}} {path}: writing Parquet needs pyarrow, which is not installed "
                             "(pip install pyarrow); write a .csv instead", params=("output",)) from err
        self._pa, self._path, self._pq = pa, path, pq
        self._writer: Any = None

    def __call__(self, rows: dict[str, np.ndarray]) -> None:
        table = self._pa.table({c: rows[c].astype(str) if rows[c].dtype == object else rows[c] for c in COLUMNS})
        if self._writer is None:
            self._writer = self._pq.ParquetWriter(str(self._path), table.schema)
        self._writer.write_table(table)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def open_sink(path: Path) -> CsvSink | ParquetSink:
    if path.suffix == ".parquet":
        return ParquetSink(path)
    if path.suffix == ".csv":
        return CsvSink(path)
    raise InputError(f"{{output}} {str(path)!r}: expected a .csv or .parquet file name", params=("output",))


def iter_rows(rows: dict[str, np.ndarray]) -> Iterator[dict[str, Any]]:
    n = len(next(iter(rows.values()))) if rows else 0
    for i in range(n):
        yield {c: (rows[c][i].item() if hasattr(rows[c][i], "item") else rows[c][i]) for c in COLUMNS}

"""Terminal output: rich tables at a fixed width for golden files, JSON for --json."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from tcobench.perf.validate import Trust


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """The reader went away (``| head``): stop quietly with 128 + SIGPIPE, as shell tools do (rich exits 1)."""
        self.quiet = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(141)


def console(stderr: bool = False) -> Console:
    width = int(os.environ.get("TCOBENCH_WIDTH", "0")) or None
    stream = sys.stderr if stderr else sys.stdout
    if width is None and not stream.isatty():
        width = 150  # pipes and files: wide enough that tables do not fold
    return _Console(stderr=stderr, width=width, soft_wrap=False, highlight=False)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "item"):  # NumPy scalars
        return _jsonable(obj.item())
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj


def json_text(obj: Any) -> str:
    """``obj`` as the JSON text ``--json`` prints (non-finite floats as null, NumPy values as plain ones)."""
    return json.dumps(_jsonable(obj), indent=2, default=str) + "\n"


def print_json(obj: Any) -> None:
    sys.stdout.write(json_text(obj))


def per_s(v: float) -> str:
    """A throughput for a table: whole numbers with thousands separators from 10 up, three significant figures below
    (a designed chip's 0.43 tok/s per chip printed as "0" read as nothing at all)."""
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.3g}"


def count(v: float) -> str:
    """A large count for a table, in millions from 1M up, thousands from 1k, else as it is: 3 significant figures."""
    return f"{v / 1e6:.3g}M" if abs(v) >= 1e6 else f"{v / 1e3:.3g}k" if abs(v) >= 1e3 else f"{v:.3g}"


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, justify: Sequence[str] = ()) -> Table:
    t = Table(title=title, title_justify="left", header_style="bold", show_lines=False, pad_edge=False, box=None)
    for i, col in enumerate(columns):
        t.add_column(col, justify=justify[i] if i < len(justify) else "left", overflow="fold", no_wrap=i == 0)  # type: ignore[arg-type]
    for row in rows:
        t.add_row(*["" if v is None else str(v) for v in row])
    return t


PHASE_WORDS = {"inflight throughput": "throughput in serving engines (in-flight batching)",
               "static throughput": "throughput of static batches", "unknown throughput": "throughput",
               "prefill": "TTFT", "decode": "decode"}


def print_trust(t: Trust, phases: tuple[str, ...] | None = None) -> None:
    """One line on how far to trust predictions like this one: the model's signed error on the published results
    of the deployment's group (vendor x dense/MoE), per phase; a group without ``t.min_rows`` rows in a phase is
    called unvalidated there (tcobench validate --by vendor,moe)."""
    def spread(r: dict[str, float | int]) -> str:
        n = int(r["rows"])
        if n < t.min_rows:
            return f"unvalidated ({'one row' if n == 1 else f'{n} rows'}: {r['median_error']:+.0%})"
        return (f"{r['median_error']:+.0%} (median of {n}, 10th-90th percentile {r['p10_error']:+.0%}..{r['p90_error']:+.0%}, "
                f"range {r['min_error']:+.0%}..{r['max_error']:+.0%})")

    parts = [f"{PHASE_WORDS.get(ph, ph)} {spread(r)}"
             for ph, r in sorted(t.phases.items(), key=lambda kv: list(PHASE_WORDS).index(kv[0]) if kv[0] in PHASE_WORDS else 99)
             if phases is None or ph.endswith(phases)]
    where = f"{t.group} models"
    if not parts:
        what = "result" if phases is None else " or ".join(phases) + " result"
        console().print(f"how far to trust this: unvalidated: no published {what} for {where} in the validation set "
                        "(tcobench validate --by vendor,moe)")
        return
    console().print(f"how far to trust this, from published results for {where} (predicted vs measured): "
                    + "; ".join(parts) + " (tcobench validate --by vendor,moe)")


def print_trusts(trusts: Iterable[Trust]) -> None:
    """``print_trust`` on throughput once per group, in group order (for tables of several hardware)."""
    by_group = {t.group: t for t in trusts}
    for group in sorted(by_group):
        print_trust(by_group[group], phases=("throughput",))

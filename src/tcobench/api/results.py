"""Typed results of the Python API: ``to_dict()`` (the document ``--json`` prints), and for tables ``to_rows()``
(a list of flat dicts) and ``to_pandas()`` (a DataFrame; pandas is optional and imported only here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from tcobench.api.confidence import with_model_error
from tcobench.claims import ClaimResult
from tcobench.cost import Prices
from tcobench.loadgen.bench import BenchSettings, Measured
from tcobench.loadgen.metrics import LevelMetrics, Stats
from tcobench.perf.validate import Outcome, Trust
from tcobench.records import Tabular
from tcobench.search import CompareRow, PlanRow


def with_trust(doc: dict[str, Any], t: Trust | None, spans: dict[str, tuple[float, float, float] | None],
               per_token: dict[str, tuple[float, float, float] | None] | None = None) -> dict[str, Any]:
    """A row's document with its group's track record (``trust``) and each range in ``spans`` (costs) and
    ``per_token`` (tokens per kWh) widened by it (``<key>_with_model_error``: [low, high], None where the group is
    unvalidated)."""
    if t is not None:
        doc["trust"] = t.to_dict()
        for ranges, inverse in ((spans, False), (per_token or {}, True)):
            for key, span in ranges.items():
                widened = with_model_error(span, t, per_token=inverse)
                doc[key + "_with_model_error"] = None if widened is None else list(widened)
    return doc


@dataclass(frozen=True)
class CompareResult(Tabular):
    """One row per hardware, cheapest deployment first; ``evaluated`` configurations in all."""

    model: str
    workload: str
    input_len: int
    output_len: int
    basis: str
    slo_ttft_s: float | None
    slo_tpot_s: float | None
    evaluated: int
    rows: list[CompareRow] = field(repr=False)
    trust: dict[str, Trust] = field(default_factory=dict, repr=False)  # hardware id -> its group's track record
    rate: float | None = None  # requests/s offered to each row's replica (compare --rate): rows carry at_rate
    rank: str = "cost"  # what orders the rows: cost, goodput or good-cost (search/goodput.py)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "workload": self.workload, "input_len": self.input_len, "output_len": self.output_len,
                "basis": self.basis, "slo_ttft_s": self.slo_ttft_s, "slo_tpot_s": self.slo_tpot_s,
                "evaluated": self.evaluated, "rate": self.rate, "rank": self.rank, "rows": self.to_rows()}

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per hardware: the row, its group's track record (``trust``) and each $/1M output-token range
        widened by that record (``..._with_model_error``: [low, high], None where the group is unvalidated)."""
        return [with_trust(r.to_dict(), self.trust.get(r.hardware), {
            "usd_per_1m_output_tokens_own": r.usd_per_1m_output_tokens_own,
            "usd_per_1m_output_tokens_rent": r.usd_per_1m_output_tokens_rent}, {"tokens_per_kwh": r.tokens_per_kwh})
            for r in self.rows]


@dataclass(frozen=True)
class PlanResult(Tabular):
    """Fleet rows per hardware, cheapest per month first."""

    model: str
    workload: str
    input_len: int
    output_len: int
    qps: float
    peak_factor: float
    basis: str
    evaluated: int
    rows: list[PlanRow] = field(repr=False)
    trust: dict[str, Trust] = field(default_factory=dict, repr=False)  # hardware id -> its group's track record

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "workload": self.workload, "input_len": self.input_len, "output_len": self.output_len,
                "qps": self.qps, "peak_factor": self.peak_factor, "basis": self.basis, "evaluated": self.evaluated,
                "rows": self.to_rows()}

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per hardware, with its group's track record and the $/month range widened by it (as
        ``CompareResult.to_rows``)."""
        return [with_trust(r.to_dict(), self.trust.get(r.hardware), {"usd_per_month": r.usd_per_month}) for r in self.rows]


@dataclass(frozen=True)
class SweepSummary(Tabular):
    """The best ``top`` points by ``objective`` (and the Pareto front when asked) of ``evaluated`` configurations."""

    model: str
    evaluated: int
    feasible: int
    wall_s: float
    objective: str
    basis: str
    output: str | None
    top: list[dict[str, Any]] = field(repr=False)
    pareto: list[dict[str, Any]] | None = field(default=None, repr=False)
    trust: dict[str, Trust] = field(default_factory=dict, repr=False)  # hardware id -> its group's track record
    workers: int | None = None  # Dask worker threads that evaluated the grid; None: this process alone
    rate: float | None = None  # requests/s each top row's replica was served at (sweep --rate): rows carry at_rate
    rank: str = "cost"  # cost (the objective's order), goodput or good-cost (search/goodput.py)

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"model": self.model, "evaluated": self.evaluated, "feasible": self.feasible,
                               "wall_s": self.wall_s, "workers": self.workers,
                               "configurations_per_s": self.evaluated / self.wall_s if self.wall_s > 0 else None,
                               "objective": self.objective, "basis": self.basis, "output": self.output,
                               "rate": self.rate, "rank": self.rank, "top": self.top}
        if self.pareto is not None:
            doc["pareto"] = self.pareto
        doc["trust"] = {hw: t.to_dict() for hw, t in self.trust.items()}
        return doc

    def to_rows(self) -> list[dict[str, Any]]:
        return list(self.top)


@dataclass(frozen=True)
class ValidationResult(Tabular):
    """Predicted vs published for each validation row, and the error summary (grouped ``by``)."""

    outcomes: list[Outcome] = field(repr=False)
    rows: list[dict[str, Any]] = field(repr=False)
    summary: dict[str, Any]
    by: str
    training: list[dict[str, Any]] = field(default_factory=list, repr=False)  # the training rows, reported apart
    training_summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "summary": self.summary,
                "training": {"rows": self.training, "summary": self.training_summary}}

    def to_rows(self) -> list[dict[str, Any]]:
        return list(self.rows)


@dataclass(frozen=True)
class AuditResult(Tabular):
    """One verdict per claim, with its derivation (``ClaimResult.trace``)."""

    claims: list[ClaimResult] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"claims": self.to_rows()}

    def to_rows(self) -> list[dict[str, Any]]:
        return [c.to_dict() for c in self.claims]

    def verdicts(self) -> dict[str, int]:
        """How many claims got each verdict."""
        out: dict[str, int] = {}
        for c in self.claims:
            out[str(c.verdict)] = out.get(str(c.verdict), 0) + 1
        return out


DEFAULT_MAX_FAILURES = 0.5
"""``bench``'s default ``max_failures``: a level at which more than half of the finished requests failed fails
the run (exit code 3). Half, not any: a sweep into overload may see some 429/503s and still measure."""

# the keys of one level in ``bench --json`` (``BenchResult.to_dict()["levels"]``), in the order they are shown
LEVEL_KEYS = ("concurrency", "rate", "requests_ok", "requests_failed", "errors", "ttft_s", "tpot_s", "icl_s", "e2e_s",
              "client_lag_s", "output_tokens", "output_tokens_per_s", "requests_per_s", "goodput_requests_per_s",
              "token_count_source", "usd_per_1m_output_tokens", "client_bound", "client_bound_reason", "clients",
              "requests_lost", "lost_clients")
LATENCY_KEYS = ("ttft_s", "tpot_s", "icl_s", "e2e_s", "client_lag_s")  # summaries: mean, p50, p90, p95, p99
SUMMARY_KEYS = ("mean", "p50", "p90", "p95", "p99")


@dataclass(frozen=True, slots=True)
class BenchHardware:
    """The serving hardware a bench run is priced for from the catalog, as given (an id or a file)."""

    hardware: str
    chips: int
    basis: Literal["rent", "own"]
    model_spec: str | None  # the served model's architecture, for the prediction beside the measurement
    tp: int | None
    precision: str = "bf16"  # of the prediction

    def as_dict(self) -> dict[str, Any]:
        return {"hardware": self.hardware, "chips": self.chips, "basis": self.basis, "model_spec": self.model_spec,
                "tp": self.tp, "precision": self.precision}


@dataclass(frozen=True)
class BenchResult(Tabular):
    """Every load level measured, in order (``measured``: each level's ``LevelMetrics`` and its price and
    prediction), with the settings of the run. ``interrupted``: a signal stopped it (``interrupted_by`` names
    it: SIGINT, SIGTERM or SIGHUP); the levels hold what was measured until then."""

    settings: BenchSettings
    prompts: dict[str, object]  # what was sent: PromptSource.describe()
    prices: Prices
    hardware: BenchHardware | None  # priced from the catalog, or None (``prices``)
    measured: list[Measured] = field(repr=False)
    interrupted: bool = False
    interrupted_by: str | None = None
    max_failures: float = DEFAULT_MAX_FAILURES

    @property
    def failing_levels(self) -> list[LevelMetrics]:
        """The levels at which more than ``max_failures`` of the finished requests failed (``failed_share``)."""
        return [m.level for m in self.measured
                if (s := failed_share(m.level)) is not None and s > self.max_failures]

    @property
    def too_many_failures(self) -> bool:
        return bool(self.failing_levels)

    def to_dict(self) -> dict[str, Any]:
        """The document ``tcobench bench --json`` prints, without the store's ``run_id``."""
        return {"levels": [_bench_level(m) for m in self.measured], "details": [_bench_detail(m) for m in self.measured],
                "settings": {**self.settings.as_dict(), "prompts": self.prompts, "pricing": self.prices.as_dict(),
                             "max_failures": self.max_failures},
                "interrupted": self.interrupted, "interrupted_by": self.interrupted_by,
                "too_many_failures": self.too_many_failures}

    def to_rows(self) -> list[dict[str, Any]]:
        """One row per level: the ``levels`` of ``to_dict()`` with each latency summary flattened into
        ``<metric>_mean`` ... ``<metric>_p99`` (None where not measured) and the error counts into
        ``errors_<kind>``."""
        rows = []
        for level in self.to_dict()["levels"]:
            row: dict[str, Any] = {}
            for key, value in level.items():
                if key in LATENCY_KEYS:
                    row.update({f"{key}_{q}": None if value is None else value[q] for q in SUMMARY_KEYS})
                elif key == "errors":
                    row.update({f"errors_{kind}": n for kind, n in value.items()})
                else:
                    row[key] = value
            rows.append(row)
        return rows


def failed_share(level: LevelMetrics) -> float | None:
    """The share of a level's finished requests that failed (warm-ups and cancelled requests left out). A level
    where nothing finished counts as all failed (1.0) when its deadline cancelled what was in flight, and is not
    judged (None) when a signal stopped it."""
    finished = level.requests_ok + level.requests_failed
    if finished:
        return level.requests_failed / finished
    return None if level.interrupted or not level.requests_cancelled else 1.0


def _stats(s: Stats | None) -> dict[str, float] | None:
    return None if s is None else s.as_dict()


def _bench_level(m: Measured) -> dict[str, Any]:
    lv = m.level
    doc = {"concurrency": lv.concurrency, "rate": lv.rate, "requests_ok": lv.requests_ok,
           "requests_failed": lv.requests_failed, "errors": lv.errors, "ttft_s": _stats(lv.ttft_s),
           "tpot_s": _stats(lv.tpot_s), "icl_s": _stats(lv.icl_s), "e2e_s": _stats(lv.e2e_s),
           "client_lag_s": _stats(lv.client_lag_s), "output_tokens": lv.output_tokens,
           "output_tokens_per_s": lv.output_tokens_per_s, "requests_per_s": lv.requests_per_s,
           "goodput_requests_per_s": lv.goodput_requests_per_s, "token_count_source": lv.token_count_source,
           "usd_per_1m_output_tokens": m.extras.get("usd_per_1m_output_tokens"), "client_bound": lv.client_bound,
           "client_bound_reason": lv.client_bound_reason, "clients": lv.clients, "requests_lost": lv.requests_lost,
           "lost_clients": [{"worker": c.worker, "requests_lost": c.requests_lost, "reason": c.reason}
                            for c in lv.lost_clients]}
    return {k: doc[k] for k in LEVEL_KEYS}


def _bench_detail(m: Measured) -> dict[str, Any]:
    doc: dict[str, Any] = _lists({**m.level.as_dict(), **m.extras})
    return doc


def _lists(doc: Any) -> Any:
    """``doc`` with tuples as lists (``client_requests``, ``lost_clients``), as its JSON text reads back."""
    if isinstance(doc, dict):
        return {k: _lists(v) for k, v in doc.items()}
    if isinstance(doc, (list, tuple)):
        return [_lists(v) for v in doc]
    return doc

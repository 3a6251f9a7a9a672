"""Typed results of the Python API: ``to_dict()`` (the document ``--json`` prints), and for tables ``to_rows()``
(a list of flat dicts) and ``to_pandas()`` (a DataFrame; pandas is optional and imported only here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tcobench.api.confidence import with_model_error
from tcobench.claims import ClaimResult
from tcobench.perf.validate import Outcome, Trust
from tcobench.records import Tabular
from tcobench.search import CompareRow, PlanRow


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

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "workload": self.workload, "input_len": self.input_len, "output_len": self.output_len,
                "basis": self.basis, "slo_ttft_s": self.slo_ttft_s, "slo_tpot_s": self.slo_tpot_s,
                "evaluated": self.evaluated, "rows": self.to_rows()}

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per hardware: the row, its group's track record (``trust``) and each $/1M output-token range
        widened by that record (``..._with_model_error``: [low, high], None where the group is unvalidated)."""
        out = []
        for r in self.rows:
            doc = r.to_dict()
            t = self.trust.get(r.hardware)
            if t is not None:
                doc["trust"] = t.to_dict()
                for basis in ("own", "rent"):
                    key = f"usd_per_1m_output_tokens_{basis}"
                    widened = with_model_error(getattr(r, key), t)
                    doc[key + "_with_model_error"] = None if widened is None else list(widened)
            out.append(doc)
        return out


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
        out = []
        for r in self.rows:
            doc = r.to_dict()
            t = self.trust.get(r.hardware)
            if t is not None:
                doc["trust"] = t.to_dict()
                widened = with_model_error(r.usd_per_month, t)
                doc["usd_per_month_with_model_error"] = None if widened is None else list(widened)
            out.append(doc)
        return out


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

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"model": self.model, "evaluated": self.evaluated, "feasible": self.feasible,
                               "wall_s": self.wall_s,
                               "configurations_per_s": self.evaluated / self.wall_s if self.wall_s > 0 else None,
                               "objective": self.objective, "basis": self.basis, "output": self.output, "top": self.top}
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

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "summary": self.summary}

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

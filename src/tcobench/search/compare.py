"""``compare``: for each hardware, the cheapest deployment per output token that fits and meets the SLOs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tcobench.catalog import Catalog, Hardware, Model
from tcobench.catalog.schema import Runtime
from tcobench.cost import Basis, ChipPrice, OwnParameters, price_hardware, token_costs, token_energy
from tcobench.cost.span import Span
from tcobench.search.executor import Executor
from tcobench.search.grid import Layouts, Outcome, candidates, search

if TYPE_CHECKING:
    from tcobench.search.goodput import AtRate


@dataclass(frozen=True)
class Deployment:
    chips: int
    tp: int
    pp: int
    ep: int
    batch: int
    precision: str
    runtime: str = "default"  # the serving stack (catalog runtime id) the deployment was evaluated under


@dataclass(frozen=True)
class CompareRow:
    """One hardware. Costs are (low, likely, high) tuples, None where that basis has no price."""

    hardware: str
    deployment: Deployment | None
    ttft_s: float | None = None
    tpot_s: float | None = None
    output_tokens_per_s: float | None = None  # one replica
    output_tokens_per_s_per_chip: float | None = None
    prefill_tokens_per_s: float | None = None
    usd_per_hour_own: tuple[float, float, float] | None = None
    usd_per_hour_rent: tuple[float, float, float] | None = None
    usd_per_1m_output_tokens_own: tuple[float, float, float] | None = None
    usd_per_1m_output_tokens_rent: tuple[float, float, float] | None = None
    usd_per_1m_input_tokens_own: tuple[float, float, float] | None = None
    usd_per_1m_input_tokens_rent: tuple[float, float, float] | None = None
    tokens_per_kwh: tuple[float, float, float] | None = None
    excluded_reason: str | None = None
    price_notes: dict[str, str] = field(default_factory=dict)
    pareto: tuple[dict[str, float | str], ...] = ()
    at_rate: AtRate | None = None  # the replica served at an offered rate (compare --rate; search/goodput.py)

    @property
    def interactivity_tokens_per_s(self) -> float | None:
        return None if self.tpot_s is None else 1.0 / self.tpot_s

    def sort_key(self, basis: Basis) -> tuple[int, float]:
        own = self.usd_per_1m_output_tokens_own[1] if self.usd_per_1m_output_tokens_own else np.inf
        rent = self.usd_per_1m_output_tokens_rent[1] if self.usd_per_1m_output_tokens_rent else np.inf
        cost = {"own": own, "rent": rent, "both": min(own, rent)}[basis]
        return (0 if self.deployment is not None and np.isfinite(cost) else 1 if self.deployment else 2, float(cost))

    def to_dict(self) -> dict[str, Any]:
        """The JSON row: costs flattened into likely / _low / _high keys."""
        doc: dict[str, Any] = {"hardware": self.hardware,
                               "deployment": None if self.deployment is None else vars(self.deployment).copy(),
                               "ttft_s": self.ttft_s, "tpot_s": self.tpot_s,
                               "interactivity_tokens_per_s": self.interactivity_tokens_per_s,
                               "output_tokens_per_s_per_chip": self.output_tokens_per_s_per_chip}
        for key in ("usd_per_hour_own", "usd_per_hour_rent", "usd_per_1m_output_tokens_own", "usd_per_1m_output_tokens_rent",
                    "usd_per_1m_input_tokens_own", "usd_per_1m_input_tokens_rent", "tokens_per_kwh"):
            span = getattr(self, key)
            doc[key], doc[key + "_low"], doc[key + "_high"] = (span[1], span[0], span[2]) if span else (None, None, None)
        doc["excluded_reason"] = self.excluded_reason
        doc["price_notes"] = self.price_notes
        if self.pareto:
            doc["pareto"] = list(self.pareto)
        if self.at_rate is not None:
            doc["at_rate"] = self.at_rate.to_dict()
        return doc


def compare(model: Model, hardware: Sequence[Hardware], *, input_len: int, output_len: int, catalog: Catalog,
            params: OwnParameters, basis: Basis = "both", precisions: Sequence[str] | None = None,
            slo_ttft: float | None = None, slo_tpot: float | None = None, max_chips: int = 64,
            price_hour: float | None = None, price_chip: float | None = None, pareto: bool = False,
            executor: Executor | None = None, runtimes: Mapping[str, Runtime] | None = None) -> tuple[list[CompareRow], int]:
    """Rows sorted by cost (servable first), and how many configurations were evaluated. ``runtimes``: the serving
    stack per hardware id (search.grid.candidates; a hardware not in it runs the catalog's default stack).

    In this process (``executor`` None) every candidate is evaluated by one vectorised call. On an ``executor``
    (search.executor: Dask) each hardware is one task: its candidates' rows of the same grid, priced, reduced to its
    row where it runs. A candidate's figures do not depend on the other rows evaluated beside it (elementwise NumPy
    on rows of the same layouts), so the rows equal the single call's (tests/integration/test_distributed.py)."""
    layouts = Layouts.grid(model, max_chips=max_chips)
    job = _Job(model, layouts, input_len, output_len, catalog, params, basis, precisions, slo_ttft, slo_tpot,
               price_hour, price_chip, pareto, dict(runtimes or {}))
    if executor is not None:
        done = list(executor.map(_hardware_row, hardware, job))
        rows, evaluated = [r for r, _ in done], sum(n for _, n in done)
    else:
        cands = candidates(hardware, precisions, runtimes)
        outcome = search(model, cands, layouts, input_len=input_len, output_len=output_len, catalog=catalog,
                         slo_ttft=slo_ttft, slo_tpot=slo_tpot)
        rows = [job.row(hw, [i for i, c in enumerate(cands) if c.hardware.id == hw.id], outcome) for hw in hardware]
        evaluated = outcome.evaluated
    rows.sort(key=lambda r: r.sort_key(basis))
    return rows, evaluated


@dataclass(frozen=True)
class _Job:
    """What every hardware's row of a compare shares (small and picklable: a Dask compare sends it to each worker
    once)."""

    model: Model
    layouts: Layouts
    input_len: int
    output_len: int
    catalog: Catalog
    params: OwnParameters
    basis: Basis
    precisions: Sequence[str] | None
    slo_ttft: float | None
    slo_tpot: float | None
    price_hour: float | None
    price_chip: float | None
    pareto: bool
    runtimes: dict[str, Runtime]

    def row(self, hw: Hardware, mine: list[int], outcome: Outcome) -> CompareRow:
        """``hw``'s row from its candidates' rows ``mine`` of ``outcome``, priced."""
        pricing = price_hardware(hw, self.catalog, self.params, self.basis, price_hour=self.price_hour,
                                 price_chip=self.price_chip)
        return _row(hw, mine, outcome, pricing, self.params, self.basis, self.pareto)


def _hardware_row(job: _Job, hw: Hardware) -> tuple[CompareRow, int]:
    """One task of a compare on an executor: ``hw``'s candidates over the grid, its row, and the points evaluated."""
    cands = candidates([hw], job.precisions, job.runtimes)
    outcome = search(job.model, cands, job.layouts, input_len=job.input_len, output_len=job.output_len,
                     catalog=job.catalog, slo_ttft=job.slo_ttft, slo_tpot=job.slo_tpot)
    return job.row(hw, list(range(len(cands))), outcome), outcome.evaluated


def _row(hw: Hardware, mine: list[int], o: Outcome, pricing: ChipPrice, params: OwnParameters, basis: Basis,
         pareto: bool) -> CompareRow:
    notes = {k: v for k, v in (("own", pricing.own_note), ("rent", pricing.rent_note)) if v}
    best = o.best(mine)
    if best is None:
        return CompareRow(hw.id, None, excluded_reason=o.why_not(mine), price_notes=notes)
    r, k = best
    res, lay = o.result, o.layouts
    dep = Deployment(int(lay.chips[k]), int(lay.tp[k]), int(lay.pp[k]), int(lay.ep[k]), int(lay.batch[k]), o.candidates[r].precision,
                     o.candidates[r].runtime_id)
    out_tps, pre_tps = float(res.output_tokens_per_s[r, k]), float(res.prefill_tokens_per_s[r, k])
    costs = {name: token_costs(span, dep.chips, out_tps, pre_tps) for name, span in (("own", pricing.own), ("rent", pricing.rent))
             if span is not None}
    energy = token_energy(pricing.watts, params.utilisation, dep.chips, out_tps) if pricing.watts is not None else None
    reason = None
    if not costs:
        reason = "; ".join(notes.values())
    front: tuple[dict[str, float | str], ...] = tuple({"tp": float(lay.tp[c]), "pp": float(lay.pp[c]), "ep": float(lay.ep[c]), "batch": float(lay.batch[c]),
                   "precision": o.candidates[i].precision,
                   "interactivity_tokens_per_s": float(1.0 / res.tpot_s[i, c]),
                   "output_tokens_per_s_per_chip": float(res.output_tokens_per_s_per_chip[i, c])}
                  for i, c in o.pareto(mine)) if pareto else ()
    def t(s: Span | None) -> tuple[float, float, float] | None:
        return s.as_tuple() if s is not None else None

    return CompareRow(
        hw.id, dep, ttft_s=float(res.ttft_s[r, k]), tpot_s=float(res.tpot_s[r, k]), output_tokens_per_s=out_tps,
        output_tokens_per_s_per_chip=float(res.output_tokens_per_s_per_chip[r, k]), prefill_tokens_per_s=pre_tps,
        usd_per_hour_own=t(costs["own"].usd_per_hour) if "own" in costs else None,
        usd_per_hour_rent=t(costs["rent"].usd_per_hour) if "rent" in costs else None,
        usd_per_1m_output_tokens_own=t(costs["own"].usd_per_1m_output_tokens) if "own" in costs else None,
        usd_per_1m_output_tokens_rent=t(costs["rent"].usd_per_1m_output_tokens) if "rent" in costs else None,
        usd_per_1m_input_tokens_own=t(costs["own"].usd_per_1m_input_tokens) if "own" in costs else None,
        usd_per_1m_input_tokens_rent=t(costs["rent"].usd_per_1m_input_tokens) if "rent" in costs else None,
        tokens_per_kwh=t(energy.tokens_per_kwh) if energy else None, excluded_reason=reason, price_notes=notes, pareto=front)


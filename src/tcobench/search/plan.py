"""``plan``: how many replicas and chips serve a demand, at what utilisation and cost per month.

Each hardware uses its cheapest deployment that meets the SLOs (the compare row). A replica serves
``output_tokens_per_s / output_len`` requests/s at that batch in steady state, so

    replicas    = ceil(qps x peak_factor / requests_per_s_per_replica)
    utilisation = qps / (replicas x requests_per_s_per_replica)       average load on the fleet
    usd_per_month = replicas x chips x usd_per_chip_s x (year / 12)
    usd_per_1m_output_tokens = usd_per_month / (qps x output_len x month) x 1e6   idle headroom included
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tcobench.catalog import Catalog, Hardware, Model
from tcobench.cost import YEAR_S, Basis, OwnParameters
from tcobench.search.compare import CompareRow, Deployment, compare

MONTH_S = YEAR_S / 12


@dataclass(frozen=True)
class PlanRow:
    hardware: str
    deployment: Deployment | None
    replicas: int | None = None
    chips: int | None = None
    utilisation: float | None = None
    requests_per_s_per_replica: float | None = None
    usd_per_month: tuple[float, float, float] | None = None
    usd_per_1m_output_tokens: tuple[float, float, float] | None = None
    ttft_s: float | None = None
    tpot_s: float | None = None
    excluded_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"hardware": self.hardware,
                               "deployment": None if self.deployment is None else vars(self.deployment).copy(),
                               "replicas": self.replicas, "chips": self.chips, "utilisation": self.utilisation,
                               "requests_per_s_per_replica": self.requests_per_s_per_replica,
                               "ttft_s": self.ttft_s, "tpot_s": self.tpot_s}
        for key in ("usd_per_month", "usd_per_1m_output_tokens"):
            span = getattr(self, key)
            doc[key], doc[key + "_low"], doc[key + "_high"] = (span[1], span[0], span[2]) if span else (None, None, None)
        doc["excluded_reason"] = self.excluded_reason
        return doc


def plan(model: Model, hardware: Sequence[Hardware], *, qps: float, input_len: int, output_len: int, catalog: Catalog,
         params: OwnParameters, basis: Basis = "own", peak_factor: float = 1.0, **search_kw: Any) -> tuple[list[PlanRow], int]:
    """Fleet rows sorted by $/month (servable first), and the number of configurations evaluated."""
    rows, evaluated = compare(model, hardware, input_len=input_len, output_len=output_len, catalog=catalog, params=params,
                              basis=basis, **search_kw)
    out = [_size(r, qps, output_len, peak_factor, basis) for r in rows]
    out.sort(key=lambda p: (p.usd_per_month is None, p.usd_per_month[1] if p.usd_per_month else 0.0))
    return out, evaluated


def _size(row: CompareRow, qps: float, output_len: int, peak_factor: float, basis: Basis) -> PlanRow:
    if row.deployment is None or row.output_tokens_per_s is None:
        return PlanRow(row.hardware, None, excluded_reason=row.excluded_reason)
    hourly = row.usd_per_hour_own if basis == "own" else row.usd_per_hour_rent
    rps = row.output_tokens_per_s / output_len
    replicas = max(1, math.ceil(qps * peak_factor / rps))
    chips = replicas * row.deployment.chips
    util = qps / (replicas * rps)
    if hourly is None:
        return PlanRow(row.hardware, row.deployment, replicas, chips, util, rps, ttft_s=row.ttft_s, tpot_s=row.tpot_s,
                       excluded_reason=row.excluded_reason or row.price_notes.get(basis, f"no {basis} price"))
    month = tuple(h / 3600 * replicas * MONTH_S for h in hourly)
    per_1m = tuple(m / (qps * output_len * MONTH_S) * 1e6 for m in month)
    return PlanRow(row.hardware, row.deployment, replicas, chips, util, rps, month, per_1m,  # type: ignore[arg-type]
                   ttft_s=row.ttft_s, tpot_s=row.tpot_s)

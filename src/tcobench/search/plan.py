"""``plan``: how many replicas and chips serve a demand, at what utilisation and cost per month.

Each hardware uses its cheapest deployment that meets the SLOs (the compare row). A replica serves
``output_tokens_per_s / output_len`` requests/s at that batch in steady state, so

    replicas    = ceil(qps x peak_factor / requests_per_s_per_replica)
    utilisation = qps / (replicas x requests_per_s_per_replica)       average load on the fleet
    usd_per_month = replicas x chips x usd_per_chip_s x (year / 12)
    usd_per_1m_output_tokens = usd_per_month / (qps x output_len x month) x 1e6   idle headroom included

With an SLO (``slo_ttft`` / ``slo_tpot``) the fleet is sized by latency percentiles, not utilisation alone: each
replica's share of the demand (Poisson, qps x peak_factor / replicas requests/s) is simulated over time
(``perf.serving``: continuous batching at the deployment's batch, chunked prefill, a KV-capacity limit) and the
replicas grow from the utilisation count until the p99 TTFT and TPOT meet the SLOs and the queue keeps up
(docs/serving.md). A deployment that misses them even at 8x that count is excluded, saying so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from tcobench.catalog import Catalog, Hardware, Model
from tcobench.cost import YEAR_S, Basis, OwnParameters
from tcobench.perf.serving import ServingResult, Slo, p99_meets, serve
from tcobench.perf.traffic import Traffic
from tcobench.search.compare import CompareRow, Deployment, compare
from tcobench.search.goodput import SIM_REQUESTS, Replica

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
    sized_by: str = "utilisation"  # or "slo p99": the replicas the serving simulation needs to meet the SLOs
    ttft_p99_s: float | None = None  # simulated at the chosen replicas (with an SLO)
    tpot_p99_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"hardware": self.hardware,
                               "deployment": None if self.deployment is None else vars(self.deployment).copy(),
                               "replicas": self.replicas, "chips": self.chips, "utilisation": self.utilisation,
                               "requests_per_s_per_replica": self.requests_per_s_per_replica,
                               "ttft_s": self.ttft_s, "tpot_s": self.tpot_s, "sized_by": self.sized_by,
                               "ttft_p99_s": self.ttft_p99_s, "tpot_p99_s": self.tpot_p99_s}
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
    slo = Slo(search_kw.get("slo_ttft"), search_kw.get("slo_tpot"))
    by_id = {h.id: h for h in hardware}
    out = []
    for r in rows:
        sized = _size(r, qps, output_len, peak_factor, basis)
        if slo.given and sized.replicas is not None and r.deployment is not None and sized.excluded_reason is None:
            sized = _by_slo(sized, r, model, by_id[r.hardware], catalog, qps * peak_factor, qps, input_len, output_len,
                            peak_factor, basis, slo)
        out.append(sized)
    out.sort(key=lambda p: (p.usd_per_month is None, p.usd_per_month[1] if p.usd_per_month else 0.0))
    return out, evaluated


MAX_GROWTH = 8  # replicas tried up to this multiple of the utilisation count


def _by_slo(sized: PlanRow, row: CompareRow, model: Model, hw: Hardware, catalog: Catalog, demand: float, qps: float,
            input_len: int, output_len: int, peak_factor: float, basis: Basis, slo: Slo) -> PlanRow:
    """``sized`` with the fewest replicas (from its utilisation count) whose simulated p99 TTFT and TPOT meet ``slo``
    and whose queue keeps up, found by bisection (latency falls as replicas share the demand)."""
    d = row.deployment
    if d is None or sized.replicas is None:  # nothing to size
        return sized
    rep = Replica.of(d, model, hw, catalog, input_len + output_len)
    tried: dict[int, ServingResult] = {}

    def run(n: int) -> ServingResult:
        if n not in tried:
            tried[n] = serve(rep.steps, Traffic.open("poisson", demand / n, SIM_REQUESTS, input_len, output_len), rep.sched, slo)
        return tried[n]

    def meets(n: int) -> bool:
        r = run(n)
        return not r.saturated and p99_meets(r, slo)

    lo, hi = sized.replicas, sized.replicas * MAX_GROWTH
    if not meets(hi):
        r = run(hi)
        return replace(sized, excluded_reason=f"the SLOs are not met at p99 even with {hi} replicas (TTFT p99 "
                       f"{r.ttft_s['p99']:.3g} s, TPOT p99 {r.tpot_s.get('p99', 0.0):.3g} s simulated)",
                       sized_by="slo p99", ttft_p99_s=r.ttft_s["p99"], tpot_p99_s=r.tpot_s.get("p99"))
    if not meets(lo):
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if meets(mid) else (mid, hi)
        lo = hi
    best = run(lo)
    resized = _size(row, qps, output_len, peak_factor, basis, replicas=lo)
    return replace(resized, sized_by="slo p99", ttft_p99_s=best.ttft_s["p99"], tpot_p99_s=best.tpot_s.get("p99"))


def _size(row: CompareRow, qps: float, output_len: int, peak_factor: float, basis: Basis,
          replicas: int | None = None) -> PlanRow:
    if row.deployment is None or row.output_tokens_per_s is None:
        return PlanRow(row.hardware, None, excluded_reason=row.excluded_reason)
    hourly = row.usd_per_hour_own if basis == "own" else row.usd_per_hour_rent
    rps = row.output_tokens_per_s / output_len
    replicas = replicas or max(1, math.ceil(qps * peak_factor / rps))
    chips = replicas * row.deployment.chips
    util = qps / (replicas * rps)
    if hourly is None:
        return PlanRow(row.hardware, row.deployment, replicas, chips, util, rps, ttft_s=row.ttft_s, tpot_s=row.tpot_s,
                       excluded_reason=row.excluded_reason or row.price_notes.get(basis, f"no {basis} price"))
    month = tuple(h / 3600 * replicas * MONTH_S for h in hourly)
    per_1m = tuple(m / (qps * output_len * MONTH_S) * 1e6 for m in month)
    return PlanRow(row.hardware, row.deployment, replicas, chips, util, rps, month, per_1m,  # type: ignore[arg-type]
                   ttft_s=row.ttft_s, tpot_s=row.tpot_s)

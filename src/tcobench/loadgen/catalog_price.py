"""Price a measured level from the catalog (``--hardware H --chips N --basis rent|own``) and put the
performance model's prediction for the same model, hardware and load beside the measurement.

$/hour = the cost model's likely USD per chip-second x chips x 3600 (low/high kept alongside); the
prediction uses the measured mean input and output tokens per request and, as the batch, the
concurrency of a closed loop or, for an open loop, the mean number of requests in flight by Little's
law (requests/s x mean E2E).
"""

from __future__ import annotations

from typing import Any

from tcobench.catalog import Catalog, Hardware, Model
from tcobench.cost import DEFAULT_BASIS, OwnParameters
from tcobench.errors import MissingInputError, TcobenchError
from tcobench.loadgen.metrics import LevelMetrics
from tcobench.loadgen.price import Annotator, Pricing, price_level


def hourly_price(catalog: Catalog, hw: Hardware, chips: int, basis: str) -> tuple[float, float, float, str]:
    """(low, likely, high) USD per hour for ``chips`` chips of ``hw`` and what the price rests on."""
    from tcobench.search.pricing import price_hardware

    params = OwnParameters.from_basis(catalog.get_cost(DEFAULT_BASIS))
    p = price_hardware(hw, catalog, params, basis)  # type: ignore[arg-type]
    span, note = (p.own, p.own_note) if basis == "own" else (p.rent, p.rent_note)
    if span is None:
        raise MissingInputError(f"--hardware {hw.id} --basis {basis}: {note}")
    scale = chips * 3600.0
    return float(span.low) * scale, float(span.likely) * scale, float(span.high) * scale, note


def hardware_annotator(catalog: Catalog, hw: Hardware, chips: int, basis: str, model: Model | None, tp: int | None) -> Annotator:
    low, likely, high, note = hourly_price(catalog, hw, chips, basis)
    pricing = Pricing(usd_per_hour=likely)

    def annotate(level: LevelMetrics) -> dict[str, Any]:
        out = price_level(level, pricing).as_dict()
        tps = level.output_tokens_per_s
        out.update({"hardware": hw.id, "chips": chips, "price_basis": basis, "price_note": note,
                    "usd_per_hour_low": low, "usd_per_hour_high": high,
                    "usd_per_1m_output_tokens_low": low / (tps * 3600 / 1e6) if tps else None,
                    "usd_per_1m_output_tokens_high": high / (tps * 3600 / 1e6) if tps else None})
        if model is not None:
            out["predicted"] = _predict(catalog, model, hw, chips, tp, level)
        return out

    return annotate


def _predict(catalog: Catalog, model: Model, hw: Hardware, chips: int, tp: int | None, level: LevelMetrics) -> dict[str, Any]:
    from tcobench.perf import predict

    ok = level.requests_ok
    if not ok:
        return {"error": "no successful request to take the load from"}
    input_len = max(1, round((level.input_tokens or 0) / ok))
    output_len = max(1, round(level.output_tokens / ok))
    if level.concurrency is not None:
        batch = level.concurrency
    elif level.requests_per_s and level.e2e_s is not None:
        batch = max(1, round(level.requests_per_s * level.e2e_s.mean))
    else:
        batch = 1
    try:
        p = predict(model, hw, chips=chips, tp=tp or chips, batch=batch, input_len=input_len, output_len=output_len, catalog=catalog)
    except TcobenchError as err:
        return {"error": f"{type(err).__name__}: {err}"}
    return {"model": model.id, "batch": batch, "input_len": input_len, "output_len": output_len, "ttft_s": p.ttft_s,
            "tpot_s": p.tpot_s, "output_tokens_per_s": p.output_tokens_per_s, "fits": p.fits, "reason": p.reason}

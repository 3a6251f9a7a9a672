"""Measured meets predicted: a bench level priced from the catalog, with the model's prediction beside it.

``bench --hardware H --chips N --basis rent|own [--model-spec M]``: $/hour = the cost model's likely USD per
chip-second x chips x 3600 (low/high kept alongside); the prediction uses the measured mean input and output
tokens per request and, as the batch, the concurrency of a closed loop or, for an open loop, the mean number of
requests in flight by Little's law (requests/s x mean E2E). This lives above both ``loadgen`` (the measured
side) and ``perf`` / ``cost`` (the predicted side), which never import each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from tcobench.catalog import Catalog, Hardware, Model
from tcobench.cost import DEFAULT_BASIS, OwnParameters, Prices, price_hardware, price_tokens, usd_per_1m_tokens
from tcobench.errors import MissingInputError, TcobenchError
from tcobench.loadgen.metrics import LevelMetrics
from tcobench.perf import predict

Annotator = Callable[[LevelMetrics], dict[str, Any]]
"""Extra fields for a measured level's row: its price, and the prediction for the same load."""


def price_annotator(prices: Prices) -> Annotator:
    """A level priced by the user's own $/hour or per-token prices."""
    def annotate(level: LevelMetrics) -> dict[str, Any]:
        return price_tokens(level.output_tokens_per_s, prices).as_dict()

    return annotate


def hourly_price(catalog: Catalog, hw: Hardware, chips: int, basis: Literal["own", "rent"]) -> tuple[float, float, float, str]:
    """(low, likely, high) USD per hour for ``chips`` chips of ``hw`` and what the price rests on."""
    params = OwnParameters.from_basis(catalog.get_cost(DEFAULT_BASIS))
    span, note = price_hardware(hw, catalog, params, basis).span(basis)
    if span is None:
        raise MissingInputError(f"{{hardware}} {hw.id} {{basis}} {basis}: {note}", params=("hardware", "basis"))
    scale = chips * 3600.0
    return float(span.low) * scale, float(span.likely) * scale, float(span.high) * scale, note


def hardware_annotator(catalog: Catalog, hw: Hardware, chips: int, basis: Literal["own", "rent"], model: Model | None,
                       tp: int | None) -> Annotator:
    """A level priced from the catalog for ``chips`` chips of ``hw``, with a prediction for ``model`` if given."""
    low, likely, high, note = hourly_price(catalog, hw, chips, basis)
    prices = Prices(usd_per_hour=likely)

    def annotate(level: LevelMetrics) -> dict[str, Any]:
        out = price_tokens(level.output_tokens_per_s, prices).as_dict()
        tps = level.output_tokens_per_s
        out.update({"hardware": hw.id, "chips": chips, "price_basis": basis, "price_note": note,
                    "usd_per_hour_low": low, "usd_per_hour_high": high,
                    "usd_per_1m_output_tokens_low": usd_per_1m_tokens(low, tps),
                    "usd_per_1m_output_tokens_high": usd_per_1m_tokens(high, tps)})
        if model is not None:
            out["predicted"] = predicted_for(catalog, model, hw, chips, tp, level)
        return out

    return annotate


def predicted_for(catalog: Catalog, model: Model, hw: Hardware, chips: int, tp: int | None,
                  level: LevelMetrics) -> dict[str, Any]:
    """The model's prediction at a measured level's load (module docstring), or why there is none."""
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
        return {"error": f"{type(err).__name__}: {err.render({})}"}
    return {"model": model.id, "batch": batch, "input_len": input_len, "output_len": output_len, "ttft_s": p.ttft_s,
            "tpot_s": p.tpot_s, "output_tokens_per_s": p.output_tokens_per_s, "fits": p.fits, "reason": p.reason}

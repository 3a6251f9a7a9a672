"""From a cost per second and a throughput to the figures users compare: $/hour, $/1M tokens, tokens/kWh.

Definitions (docs/metrics.md, "$/1M tokens"):
    usd_per_hour              = usd_per_s_per_chip x chips x 3600
    usd_per_1m_output_tokens  = usd_per_s / output_tokens_per_s x 1e6   (all cost charged to output)
    usd_per_1m_input_tokens   = usd_per_s / prefill_tokens_per_s x 1e6  (all cost charged to prefill)
    usd_per_1m_blended_tokens = (3 x input + 1 x output) / 4            (the 3:1 blend of API price lists)
    tokens_per_kwh            = output_tokens_per_s / (chips x watts x utilisation) x 3.6e6
Energy is IT energy at the accelerators (rated watts x average utilisation), without PUE, so that it
is a property of the chip and deployment rather than of a building.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from tcobench.cost.span import Span

J_PER_KWH = 3.6e6
BLEND_INPUT, BLEND_OUTPUT = 3.0, 1.0  # input:output weights of a blended per-token price


@dataclass(frozen=True, slots=True)
class TokenCosts:
    usd_per_hour: Span
    usd_per_1m_output_tokens: Span
    usd_per_1m_input_tokens: Span
    usd_per_1m_blended_tokens: Span
    output_tokens_per_usd: Span  # perf per dollar


@dataclass(frozen=True, slots=True)
class TokenEnergy:
    tokens_per_kwh: Span
    joules_per_token: Span
    tokens_per_s_per_w: Span  # perf per watt (= tokens per joule)


def token_costs(usd_per_s_per_chip: Span, chips: ArrayLike, output_tokens_per_s: ArrayLike,
                prefill_tokens_per_s: ArrayLike) -> TokenCosts:
    """Cost figures of a deployment of ``chips`` chips (throughputs are for the whole deployment).

    A zero or non-finite throughput gives an infinite cost (never a silent 0).
    """
    usd_per_s = usd_per_s_per_chip.scale(chips)
    out = _positive(output_tokens_per_s)
    pre = _positive(prefill_tokens_per_s)
    per_out = usd_per_s.per(out).scale(1e6)
    per_in = usd_per_s.per(pre).scale(1e6)
    w = BLEND_INPUT + BLEND_OUTPUT
    blended = Span(*( (BLEND_INPUT * getattr(per_in, e) + BLEND_OUTPUT * getattr(per_out, e)) / w
                      for e in ("low", "likely", "high")))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        per_usd = Span(out / usd_per_s.high, out / usd_per_s.likely, out / usd_per_s.low)
    return TokenCosts(usd_per_s.scale(3600.0), per_out, per_in, blended, per_usd)


def token_energy(watts_per_chip: Span, utilisation: Span, chips: ArrayLike, output_tokens_per_s: ArrayLike) -> TokenEnergy:
    """Energy figures of a deployment: more power per token is the low end of tokens/kWh."""
    watts = Span(watts_per_chip.low * utilisation.low, watts_per_chip.likely * utilisation.likely,
                 watts_per_chip.high * utilisation.high).scale(chips)
    out = _positive(output_tokens_per_s)
    j_per_token = watts.per(out)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        per_w = Span(out / watts.high, out / watts.likely, out / watts.low)
    return TokenEnergy(per_w.scale(J_PER_KWH), j_per_token, per_w)


def _positive(x: ArrayLike) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    return np.where(np.isfinite(a) & (a > 0), a, 0.0)

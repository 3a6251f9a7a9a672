"""Peak compute of many chips at a stated precision and density; whether weights fit in memory."""

from __future__ import annotations

import math

from tcobench.claims.kinds.base import Derived, Kind
from tcobench.claims.trace import Value
from tcobench.claims.verdict import Alternative, Verdict
from tcobench.claims.work import Work
from tcobench.catalog.formats import BLOCK_SCALE_BITS, PRECISIONS, storage_bytes
from tcobench.catalog.params import count_params
from tcobench.records import Figure

# Storage width of each number format, fp64 included, in bytes per element, block scales included.
FORMAT_BYTES: dict[str, float] = {name: storage_bytes(name) for name in PRECISIONS}


def aggregate_peak(w: Work) -> Derived:
    system = w.system() if w.claim.system else None
    hw = w.hardware()
    precision = w.claim.precision or "bf16"
    chips = w.chips(default_from=system)
    peak = w.peak(hw, precision, w.claim.density)
    total = w.step("aggregate peak = per-chip peak x chips", f"aggregate {w.claim.density} {precision} peak",
                   peak.value * chips.value, "FLOP/s", peak, chips)
    readings: dict[float, list[tuple[str, str, Figure]]] = {}  # per-chip peak -> every (precision, density) at it
    for density, table in (("dense", hw.peak_dense), ("sparse", hw.peak_sparse)):
        for prec, fig in table.items():
            if fig.value != peak.value:
                readings.setdefault(fig.value, []).append((prec, density, fig))
    alts = []
    for value, names in readings.items():
        label = " / ".join(f"{p} {d}" for p, d, _ in names)
        p, d, fig = names[0]
        per_chip = Value(f"{label} peak per chip", value, "FLOP/s", fig.source, ref=f"{hw.id}.peak_{d}.{p}")
        other = w.step(f"aggregate peak at {label} = per-chip peak x chips", f"aggregate {label} peak",
                       value * chips.value, "FLOP/s", per_chip, chips, context=True)
        alts.append(Alternative(f"holds at {label} ({other.text})", other.value, Verdict.PRECISION_MISMATCH))
    return Derived(total, alternatives=tuple(alts))


def memory_fit(w: Work) -> Derived:
    """The fewest chips whose memory holds the weights (KV cache and activations not counted: a lower bound)."""
    model, hw = w.model(), w.hardware()
    precision = w.claim.precision or "bf16"
    params = Value("parameters", float(count_params(model).total), "1", model.source, ref=f"{model.id} architecture")
    width = Value(f"bytes per {precision} weight", FORMAT_BYTES[precision], "B", "number format definition",
                  note="block scales included (docs/model.md, 'Number formats')" if precision in BLOCK_SCALE_BITS else None)
    weights = w.step("weight bytes = parameters x bytes per weight", "weight bytes", params.value * width.value, "B",
                     params, width)
    cap = w.figure(hw, "memory.capacity", name="memory per chip")
    need = w.step("chips needed = ceil(weight bytes / memory per chip)", "chips needed",
                  math.ceil(weights.value / cap.value), "1", weights, cap)
    if w.claim.chips is not None:
        chips = w.chips()
        w.step("memory of the stated chips = chips x memory per chip", "memory of the stated chips",
               chips.value * cap.value, "B", chips, cap, context=True)
    alts = []
    for p in ("fp8", "int8", "fp4", "int4"):
        if FORMAT_BYTES[p] < FORMAT_BYTES[precision] and p in hw.peak_dense:
            n = math.ceil(params.value * FORMAT_BYTES[p] / cap.value)
            alts.append(Alternative(f"holds with {p} weights ({n} chips needed)", n, Verdict.PRECISION_MISMATCH))
    return Derived(need, bound="lower", alternatives=tuple(alts))


KINDS = (
    Kind("aggregate-peak", "chips x per-chip peak at the stated precision and density", aggregate_peak, {}),
    Kind("memory-fit", "the fewest chips whose memory holds the model's weights (lower bound)", memory_fit, {}),
)

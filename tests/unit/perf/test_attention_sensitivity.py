"""scripts/attention_sensitivity.py's what-if slows only the attention operators, by the factor given, and
leaves the model as it was afterwards (docs/model.md, "Decode attention's KV read")."""

from types import ModuleType

import pytest

from tcobench.catalog import load_catalog
from tcobench.perf import validate
from tests.unit.perf.scripts import load_script
from tcobench.perf.roofline import Phase

ROW = "mlperf41-h100x8-offline"


def script() -> ModuleType:
    return load_script("attention_sensitivity")


def decode_times(factor: float | None) -> dict[str, float]:
    """Decode operator -> time of ROW, under the what-if at ``factor`` (None: the shipped model)."""
    mod = script()
    catalog = load_catalog()
    if factor is None:
        out = validate.run(catalog, rows=[ROW], explain=True, server=False)
    else:
        with mod.attention_read(factor):
            out = validate.run(catalog, rows=[ROW], explain=True, server=False)
    pred = out[0].prediction
    assert pred is not None
    return {op.name: op.time_s for op in pred.ops if op.phase.startswith("decode")}


@pytest.mark.parametrize("factor", [0.5, 0.35])
def test_only_attention_slows_and_by_the_factor(factor: float) -> None:
    base, slow = decode_times(None), decode_times(factor)
    assert slow["attention"] > base["attention"] * 1.5  # memory-bound at this batch: time / factor, less overhead
    assert {k: v for k, v in slow.items() if not k.startswith("attention")} == \
        {k: v for k, v in base.items() if not k.startswith("attention")}


def test_the_model_is_restored_after_the_what_if() -> None:
    op = Phase.op
    assert decode_times(1.0) == decode_times(None)
    with pytest.raises(RuntimeError), script().attention_read(0.5):
        raise RuntimeError
    assert Phase.op is op

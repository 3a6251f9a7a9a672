"""scripts/compute_share.py (issue 18's diagnosis): the compute-bound share of a throughput row's modelled cycle."""

from types import ModuleType

from tcobench.catalog import load_catalog
from tcobench.perf import validate
from tests.unit.perf.scripts import load_script

LARGE_BATCH = "mlperf41-h100x8-offline"  # batch 896 at TP2, fp8: its decode GEMMs are compute-bound
LONG_OUTPUT = "trtllm10-llama-31-8b-h100-sxm-tp1-128-4096"  # batch 259 of an 8B model: decode streams weights and KV


def script() -> ModuleType:
    return load_script("compute_share")


def shares() -> dict[str, object]:
    out = validate.run(load_catalog(), rows=[LARGE_BATCH, LONG_OUTPUT], explain=True, server=False)
    return {o.row.id: script().share(o) for o in out}


def test_shares_are_fractions_and_order_the_rows() -> None:
    s = shares()
    big, long = s[LARGE_BATCH], s[LONG_OUTPUT]
    assert big is not None and long is not None
    for r in (big, long):
        assert 0.0 <= r.prefill_share <= 1.0 and 0.0 <= r.compute_share <= 1.0
        assert r.compute_share >= r.prefill_share  # the batched prefill of both rows is compute-bound (chunks >= 512)
    assert big.compute_share > 0.6 > 0.3 > long.compute_share


def test_binned_puts_each_row_in_one_bin() -> None:
    mod = script()
    rows = [mod.RowShare("a", "F", 0.1, 0.0, 0.0), mod.RowShare("b", "F", 0.3, 0.5, 1.0),
            mod.RowShare("c", "F", 0.5, 0.5, 0.9), mod.RowShare("d", "G", -0.2, 0.1, 0.2)]
    cells = mod.binned(rows)
    assert cells["F"][0] == (0.1, 1) and cells["F"][-1] == (0.4, 2) and cells["F"][1] is None
    assert cells["G"][1] == (-0.2, 1) and cells["G"][0] is None

"""The shipped cost basis and workload presets: every default sourced, bad values refused."""

from pathlib import Path

import pytest

from tcobench.catalog import load_catalog
from tcobench.catalog.loader import lint
from tcobench.errors import CatalogError, InputError, UnknownIdError
from tcobench.cost import OwnParameters


def test_every_default_has_a_defined_source_and_a_range_in_order() -> None:
    cat = load_catalog()
    basis = cat.get_cost("default")
    figs = basis.figures()
    assert set(figs) == {"amortisation", "cost_of_capital", "utilisation", "pue", "electricity", "hosting", "maintenance"}
    for name, fig in figs.items():
        assert fig.source in cat.sources, name
        lo, mid, hi = fig.range
        assert lo <= mid <= hi, name
    assert figs["electricity"].text == "$0.0806/kWh" and figs["electricity"].date == "2023"


def test_workload_presets() -> None:
    cat = load_catalog()
    assert {(w.id, w.input_len, w.output_len) for w in cat.workloads.values()} >= {
        ("chat", 1000, 1000), ("reasoning", 1000, 8000), ("summarize", 8000, 1000), ("mlperf-llama2", 1024, 294)}
    with pytest.raises(UnknownIdError, match="did you mean 'chat'"):
        cat.get_workload("chatt")


def test_a_user_cost_basis_with_pue_below_one_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "dc.toml"
    bad.write_text("""
[source.my-dc]
title = "Our DC"
[cost.my-dc]
name = "ours"
amortisation = { value = "5 year", source = "my-dc" }
cost_of_capital = { value = 0.05, source = "my-dc" }
utilisation = { value = 0.6, source = "my-dc" }
pue = { value = 0.9, source = "my-dc" }
electricity = { value = "$0.05/kWh", date = "2025", source = "my-dc" }
hosting = { value = "$0/kW/month", date = "2025", source = "my-dc" }
maintenance = { value = 0.0, source = "my-dc" }
""")
    _, problems = lint([bad])
    assert any("cost.my-dc" in p and "pue" in p and "at least 1" in p for p in problems), problems
    with pytest.raises(CatalogError):
        load_catalog([bad])


def test_pinning_an_unknown_field_suggests_the_right_one() -> None:
    params = OwnParameters.from_basis(load_catalog().get_cost("default"))
    with pytest.raises(InputError, match="did you mean 'pue'"):
        params.pinned({"pues": 1.2})
    with pytest.raises(InputError, match="expected >= 1"):
        params.pinned({"pue": 0.5})

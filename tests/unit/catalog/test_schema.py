"""Catalog records: what ``figures()`` lists, for built records and for every record of the shipped catalog."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import BaseModel

from tcobench.catalog import load_catalog
from tcobench.catalog.schema import CostBasis, Efficiency, Hardware, Model, Runtime, Source, System, Workload
from tcobench.records import Figure


def fig(value: str | float, **extra: str) -> dict[str, Any]:
    return {"value": value, "source": "s", **extra}


HARDWARE = Hardware.model_validate({
    "id": "chip", "name": "Chip", "vendor": "Us", "kind": "gpu",
    "peak_dense": {"bf16": fig("1 PFLOP/s"), "fp8": fig("2 PFLOP/s")},
    "peak_sparse": {"fp8": fig("4 PFLOP/s")},
    "memory": {"type": "HBM3", "capacity": fig("80 GB"), "bandwidth": fig("3 TB/s")},
    "scale_up": {"bandwidth": fig("900 GB/s", direction="bidirectional"), "domain": fig(8)},
    "power": {"tdp": fig("700 W")},
    "cloud": [{"provider": "a", "rate": "$3.6/h", "date": "2024", "source": "s"},
              {"provider": "b", "rate": "$7.2/h", "date": "2024", "source": "s"}],
    "efficiency": {"compute": fig(0.7), "compute_at": {"fp8": fig(0.6)}, "overhead": fig("2 us")},
})
SYSTEM = System.model_validate({"id": "box", "name": "Box", "accelerator": "chip", "chips": fig(8),
                                "network": {"name": "IB", "bandwidth": fig("400 Gbit/s", direction="per-direction")},
                                "power": fig("10 kW")})
EFFICIENCY = Efficiency.model_validate({"memory": fig(0.8), "memory_at": {"fp4": fig(0.5), "fp8": fig(0.6)},
                                        "prefill_chunk": fig(8192)})
COST = CostBasis.model_validate({"id": "c", "name": "C", "amortisation": fig("4 year"), "cost_of_capital": fig(0.06),
                                 "utilisation": fig(0.7), "pue": fig(1.5), "electricity": fig("$0.1/kWh", date="2024"),
                                 "hosting": fig("$150/kW/month", date="2024"), "maintenance": fig(0.05)})


@pytest.mark.parametrize(("record", "expected"), [
    (HARDWARE, {"peak_dense.bf16": 1e15, "peak_dense.fp8": 2e15, "peak_sparse.fp8": 4e15, "memory.capacity": 80e9,
                "memory.bandwidth": 3e12, "scale_up.bandwidth": 450e9, "scale_up.domain": 8, "power.tdp": 700,
                "cloud[0].rate": 1e-3, "cloud[1].rate": 2e-3, "efficiency.compute": 0.7,
                "efficiency.compute_at.fp8": 0.6, "efficiency.overhead": 2e-6}),
    (SYSTEM, {"chips": 8, "network.bandwidth": 50e9, "power": 10e3}),
    (EFFICIENCY, {"memory": 0.8, "memory_at.fp4": 0.5, "memory_at.fp8": 0.6, "prefill_chunk": 8192}),
    (COST, {"amortisation": 4 * 365.25 * 86400, "cost_of_capital": 0.06, "utilisation": 0.7, "pue": 1.5,
            "electricity": 0.1 / 3.6e6, "hosting": 150 / 1000 / (365.25 / 12 * 86400), "maintenance": 0.05}),
], ids=["hardware", "system", "efficiency", "cost"])
def test_figures_lists_every_figure_by_its_dotted_path_in_field_order(record: Any, expected: dict[str, float]) -> None:
    figures = record.figures()
    assert list(figures) == list(expected)
    assert {k: f.value for k, f in figures.items()} == pytest.approx(expected, rel=1e-12)


def _at(record: BaseModel, path: str) -> Any:
    """The value at a dotted path of figures(): 'memory.bandwidth', 'peak_dense.bf16', 'cloud[1].rate'."""
    value: Any = record
    for part in path.split("."):
        name, index = re.fullmatch(r"([a-z_0-9]+)(?:\[(\d+)\])?", part).groups()  # type: ignore[union-attr]
        value = value[name] if isinstance(value, dict) else getattr(value, name)
        if index is not None:
            value = value[int(index)]
    return value


def _all_figures(value: Any) -> list[Figure]:
    """Every Figure inside a record, found through its attributes, dict values and tuple items."""
    if isinstance(value, Figure):
        return [value]
    if isinstance(value, BaseModel):
        return [f for v in vars(value).values() for f in _all_figures(v)]
    if isinstance(value, dict):
        return [f for v in value.values() for f in _all_figures(v)]
    if isinstance(value, tuple):
        return [f for v in value for f in _all_figures(v)]
    return []


CATALOG = load_catalog()
RECORDS = [(kind, rid, rec) for kind in ("hardware", "systems", "efficiency", "costs")
           for rid, rec in getattr(CATALOG, kind).items()]


@pytest.mark.parametrize(("kind", "rid", "record"), RECORDS, ids=[f"{k}.{r}" for k, r, _ in RECORDS])
def test_every_catalog_record_lists_each_of_its_figures_once_at_its_path(kind: str, rid: str, record: Any) -> None:
    figures = record.figures()
    assert all(_at(record, path) is f for path, f in figures.items())
    assert sorted(map(id, figures.values())) == sorted(map(id, _all_figures(record)))


def test_the_catalog_has_figures_of_every_kind_that_lists_them() -> None:
    assert {kind for kind, _, rec in RECORDS if rec.figures()} == {"hardware", "systems", "efficiency", "costs"}


@pytest.mark.parametrize("cls", [Model, Source, Workload, Runtime])
def test_records_whose_sources_the_loader_checks_field_by_field_list_no_figures(cls: type[BaseModel]) -> None:
    # catalog/loader.py and cli/catalog.py ask hasattr(rec, "figures"); a model's published_params are checked apart
    assert not hasattr(cls, "figures")

"""tcobench: what AI work really costs on a given accelerator, and whether a published claim is true.

The public API is the names in ``__all__``; everything else is internal and may change. One call per command,
with keyword arguments named like its flags (docs/api.md):

    tcobench.predict("llama-3.1-70b", "h100-sxm", tp=4, batch="auto", precision="fp8")
    tcobench.compare("llama-3.1-70b", "h100-sxm,mi300x", workload="chat", slo_tpot="50ms")
    tcobench.plan(...), tcobench.sweep(...), tcobench.validate(...), tcobench.audit(...), tcobench.trust(...)
    tcobench.bench("http://127.0.0.1:8000", "my-model", concurrency=[1, 8], price_hour="$2.49/h")
    tcobench.train("llama-2-7b", "h100-sxm", chips=256, tokens=1e12)
    tcobench.compare_training("llama-2-7b", "h100-sxm,mi300x", tokens=1e12, deadline="30 days")  # compare/plan --train
    tcobench.sweep_training("llama-2-7b", "h100-sxm,mi300x", chips="64:1024:x2", objective="time")
    tcobench.train_workload("resnet-50", "a100-sxm-80gb", chips=8, samples=4.5e7)
    tcobench.probe(device="cpu", output="cpu.toml"), tcobench.measure(...), tcobench.calibrate([run_id], ...)
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    __version__: str
    from tcobench.api import (
        AuditResult, BenchResult, CompareResult, DesignResult, PlanResult, SweepSummary, TrainCompareResult, TrainingResult,
        ValidationResult, audit, bench, compare, compare_training, design, plan, predict, sweep, train, trust, validate,
    )
    from tcobench.api.workload import WorkloadTrainingResult, train_workload
    from tcobench.api.measured import CalibrateResult, MeasureResult, ProbeResult, calibrate, measure, probe
    from tcobench.api.sidebyside import SideBySide, side_by_side
    from tcobench.api.train_sweep import TrainSweepResult, sweep_training
    from tcobench.catalog import Catalog, Hardware, Model, Source, System, load_catalog
    from tcobench.catalog.hf import load_hf_config
    from tcobench.catalog.params import ParamCount, count_params
    from tcobench.errors import (
        CatalogError, DeploymentError, InputError, MissingInputError, StoreError, TcobenchError, UnitError,
        UnknownIdError,
    )
    from tcobench.perf import Prediction
    from tcobench.records import Figure, Provenance, Run
    from tcobench.store import Store

# Every public name is imported on first use, so that `import tcobench` costs nothing and a command line starts
# inside its error handling (cli/main.py): the catalog (pydantic, pint), the store (SQLAlchemy), the model, the
# search and the audit load when a call needs them, and a Ctrl-C while they load is an interruption, not a
# traceback.
_LAZY = {"AuditResult": "tcobench.api", "BenchResult": "tcobench.api", "CompareResult": "tcobench.api",
         "PlanResult": "tcobench.api", "SweepSummary": "tcobench.api", "ValidationResult": "tcobench.api",
         "audit": "tcobench.api", "bench": "tcobench.api", "compare": "tcobench.api", "plan": "tcobench.api",
         "predict": "tcobench.api", "sweep": "tcobench.api", "trust": "tcobench.api", "validate": "tcobench.api",
         "train": "tcobench.api", "TrainingResult": "tcobench.api",
         "compare_training": "tcobench.api", "TrainCompareResult": "tcobench.api",
         "DesignResult": "tcobench.api", "design": "tcobench.api",
         "Prediction": "tcobench.perf",
         **{name: "tcobench.api.measured" for name in ("CalibrateResult", "MeasureResult", "ProbeResult", "calibrate",
                                                        "measure", "probe")},
         "Catalog": "tcobench.catalog", "Hardware": "tcobench.catalog", "Model": "tcobench.catalog",
         "Source": "tcobench.catalog", "System": "tcobench.catalog", "load_catalog": "tcobench.catalog",
         "load_hf_config": "tcobench.catalog.hf", "ParamCount": "tcobench.catalog.params",
         "count_params": "tcobench.catalog.params", "Figure": "tcobench.records", "Provenance": "tcobench.records",
         "Run": "tcobench.records", "Store": "tcobench.store",
         **{name: "tcobench.errors" for name in ("CatalogError", "DeploymentError", "InputError", "MissingInputError",
                                                   "StoreError", "TcobenchError", "UnitError", "UnknownIdError")},
         "SideBySide": "tcobench.api.sidebyside", "side_by_side": "tcobench.api.sidebyside",
         "TrainSweepResult": "tcobench.api", "sweep_training": "tcobench.api",
         "WorkloadTrainingResult": "tcobench.api", "train_workload": "tcobench.api"}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tcobench")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0.0.0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":  # read from the installed metadata on first use (50 ms: the email parser)
        globals()[name] = value = _version()
        return value
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tcobench' has no attribute {name!r}")

__all__ = [
    "AuditResult",
    "BenchResult",
    "CalibrateResult",
    "Catalog",
    "CatalogError",
    "CompareResult",
    "DeploymentError",
    "DesignResult",
    "Figure",
    "Hardware",
    "InputError",
    "MeasureResult",
    "MissingInputError",
    "Model",
    "ParamCount",
    "PlanResult",
    "Prediction",
    "ProbeResult",
    "Provenance",
    "Run",
    "SideBySide",
    "Source",
    "Store",
    "StoreError",
    "SweepSummary",
    "System",
    "TcobenchError",
    "TrainCompareResult",
    "TrainSweepResult",
    "TrainingResult",
    "UnitError",
    "UnknownIdError",
    "ValidationResult",
    "WorkloadTrainingResult",
    "__version__",
    "audit",
    "bench",
    "calibrate",
    "compare",
    "compare_training",
    "count_params",
    "design",
    "load_catalog",
    "load_hf_config",
    "measure",
    "plan",
    "predict",
    "probe",
    "side_by_side",
    "sweep",
    "sweep_training",
    "train",
    "train_workload",
    "trust",
    "validate",
]

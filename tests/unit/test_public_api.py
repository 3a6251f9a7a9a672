import tcobench

EXPECTED = [
    "AuditResult", "BenchResult", "CalibrateResult", "Catalog", "CatalogError", "CompareResult", "DeploymentError",
    "DesignResult", "Figure", "Hardware", "InputError", "MeasureResult", "MissingInputError", "Model", "ParamCount",
    "PlanResult", "Prediction", "ProbeResult", "Provenance", "Run", "SideBySide", "Source", "Store", "StoreError", "SweepSummary",
    "System", "TcobenchError", "TrainCompareResult", "TrainSweepResult", "TrainingResult", "UnitError", "UnknownIdError", "ValidationResult",
    "WorkloadTrainingResult", "__version__",
    "audit", "bench", "calibrate", "compare", "compare_training", "count_params", "design", "load_catalog", "load_hf_config", "measure",
    "plan", "predict", "probe", "side_by_side", "sweep", "sweep_training", "train", "train_workload", "trust", "validate",
]


def test_public_api_is_the_curated_list() -> None:
    assert tcobench.__all__ == sorted(tcobench.__all__), "__all__ must stay sorted"
    assert tcobench.__all__ == EXPECTED  # equality: a name added or dropped is a decision, made here
    for name in tcobench.__all__:
        assert hasattr(tcobench, name), name


def test_core_does_not_import_the_cli() -> None:
    import subprocess
    import sys

    code = "import tcobench, sys; print(any(m.startswith('tcobench.cli') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

"""The Python API: one call per command, keyword arguments named like the command's flags.

    predict(model, hardware, ...) -> Prediction     compare(model, hardware, ...) -> CompareResult
    plan(model, hardware, qps=...) -> PlanResult     sweep(model, hardware, ...) -> SweepSummary
    validate(by=...) -> ValidationResult             audit(files) -> AuditResult
    trust(hardware, model) -> Trust                  how far to trust a prediction for that group
    bench(url, model, ...) -> BenchResult            an endpoint measured, priced, a prediction beside it
    train(model, hardware, chips=..., tokens=...) -> TrainingResult   time, $ and energy to train
    compare_training(model, hardware, tokens=..., deadline=...) -> TrainCompareResult   compare/plan --train
    sweep_training(model, hardware, chips=...) -> TrainSweepResult    sweep --train: a grid of training jobs
    train_workload(workload, hardware, chips=..., samples=...) -> WorkloadTrainingResult   the same for BERT, ResNet-50
    design(file_or_id) -> DesignResult               a chip described by its silicon: derived peaks and cost
    probe(device=...) -> ProbeResult                 this device measured: a hardware profile (api/measured.py)
    measure(model, ...) -> MeasureResult             a Llama-shaped model timed here; calibrate(runs) -> CalibrateResult
    side_by_side(run, model, hardware) -> SideBySide a saved run's measurements beside predictions and claims

This layer composes the others (catalog, perf, cost, search, audit, loadgen); it is where the measured and the
predicted sides meet. The CLI renders what it returns. docs/api.md has examples.
"""

from tcobench.api.confidence import trust_for as trust
from tcobench.api.endpoint import bench
from tcobench.api.measured import CalibrateResult, MeasureResult, ProbeResult, calibrate, measure, probe
from tcobench.api.results import AuditResult, BenchResult, CompareResult, PlanResult, SweepSummary, ValidationResult
from tcobench.api.sidebyside import SideBySide, side_by_side
from tcobench.api.silicon import DesignResult, design
from tcobench.api.tasks import audit, compare, plan, predict, sweep, validate
from tcobench.api.training import TrainCompareResult, TrainingResult, compare_training, train
from tcobench.api.train_sweep import TrainSweepResult, sweep_training
from tcobench.api.workload import WorkloadTrainingResult, train_workload

__all__ = ["AuditResult", "BenchResult", "CalibrateResult", "CompareResult", "DesignResult", "MeasureResult",
           "PlanResult", "ProbeResult", "SideBySide", "SweepSummary", "TrainCompareResult", "TrainSweepResult", "TrainingResult", "ValidationResult", "audit",
           "bench", "calibrate", "compare", "compare_training", "design", "measure", "plan", "predict", "probe", "side_by_side", "sweep",
           "sweep_training", "train", "trust", "validate", "WorkloadTrainingResult", "train_workload"]

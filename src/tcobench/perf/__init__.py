"""The performance model: operators -> roofline -> parallelism -> phases, vectorised with NumPy.

    evaluate(model, chip, **axes) -> Result      every axis may be an array; results broadcast
    predict(model, hardware, ...) -> Prediction  one configuration, with the per-operator breakdown

See docs/model.md for the equations and their sources.
"""

from tcobench.perf.chip import Chip, chip_arrays
from tcobench.perf.inference import Result, evaluate
from tcobench.perf.precision import BYTES, compute_precision
from tcobench.perf.predict import Prediction, predict

__all__ = ["BYTES", "Chip", "Prediction", "Result", "chip_arrays", "compute_precision", "evaluate", "predict"]

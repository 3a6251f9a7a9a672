"""The performance model: operators -> roofline -> parallelism -> phases, vectorised with NumPy.

    evaluate(shape, chip, Batch, Layout, Formats, limits=, engine=) -> Result   every field may be an array
    predict(model, hardware, ...) -> Prediction                                one configuration, with detail

    deployment.py  the records the core takes (Layout, Formats, Batch, Limits, Engine)
    layer.py       one pass over some tokens: the operators and collectives it costs, per chip
    roofline.py    an operator's time on a chip; a phase's running totals
    inference.py   prefill, decode steps and continuous batching -> TTFT, TPOT, tokens/s, memory, reasons
    reasons.py     why a configuration cannot serve (an IntFlag)
    steps.py       what one engine step costs, tabulated from the operators (or a measured linear profile)
    traffic.py     the requests a serving simulation is offered: arrival processes, closed loops, traces
    serving.py     a continuous-batching scheduler run step by step -> TTFT/TPOT/ITL/E2E percentiles, goodput
    profile.py     a measured step profile fitted to closed-loop levels by least squares

See docs/model.md for the equations and their sources.
"""

from tcobench.perf.chip import Chip, chip_arrays
from tcobench.perf.deployment import Batch, Engine, Formats, Layout, Limits
from tcobench.perf.inference import Result, evaluate
from tcobench.perf.precision import BYTES, compute_precision
from tcobench.perf.predict import Prediction, predict
from tcobench.perf.reasons import Reason

__all__ = ["BYTES", "Batch", "Chip", "Engine", "Formats", "Layout", "Limits", "Prediction", "Reason", "Result", "chip_arrays",
           "compute_precision", "evaluate", "predict"]

"""A finite benchmark run: N requests of fixed lengths, all queued at once, served in waves.

Offline benchmarks such as ``trtllm-bench throughput`` or vLLM's ``benchmark_throughput`` queue every
request at t = 0. An engine that reserves each request's whole KV cache when it admits it (TensorRT-LLM's
default GUARANTEED_NO_EVICT policy) runs at most ``cap`` of them at once; with fixed lengths they all
finish together, so the run is a sequence of waves: ``N // cap`` full ones and one of the remainder.
Each wave costs what the steady-state model says one cycle of that batch costs (its prompts prefilled,
then ``output_len`` decode steps), so

    run time = full_waves x cycle(cap) + cycle(N mod cap),  cycle(b) = b x output_len / tokens_per_s(b)

per replica, the requests split evenly over the replicas (the slowest replica sets the time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tcobench.catalog import Hardware, Model
from tcobench.errors import InputError
from tcobench.catalog.schema import Runtime
from tcobench.perf.predict import Prediction, engine_cap, predict


@dataclass(frozen=True)
class FiniteRun:
    requests: int
    wave: int  # sequences per replica in a full wave
    full_waves: int
    remainder: int  # sequences in the last, partial wave (0: none)
    run_s: float
    output_tokens_per_s: float  # whole deployment: requests x output_len / run_s
    output_tokens_per_s_per_chip: float
    full: Prediction  # the steady-state prediction at the full wave's batch
    fits: bool
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        keys = ("requests", "wave", "full_waves", "remainder", "run_s", "output_tokens_per_s", "output_tokens_per_s_per_chip",
                "fits", "reason")
        return {k: getattr(self, k) for k in keys}


def finite_run(model: Model, hardware: Hardware, *, requests: int, max_batch: int | None = None, **kwargs: Any) -> FiniteRun:
    """Serve ``requests`` requests in waves of at most ``max_batch`` per replica (default: the runtime's engine cap,
    ``engine_cap``, where it has one, and never more than fit in memory). ``kwargs`` are ``predict``'s (chips, tp,
    lengths, precisions, runtime, catalog, ...)."""
    if requests < 1:
        raise InputError(f"requests must be a positive integer, got {requests}")
    if max_batch is not None and max_batch < 1:
        raise InputError(f"max_batch must be a positive integer, got {max_batch}")
    probe = predict(model, hardware, batch=1, **kwargs)
    per_replica = math.ceil(requests / probe.replicas)
    stack = kwargs.get("runtime")
    if isinstance(stack, str):
        from tcobench.catalog import load_catalog

        stack = (kwargs.get("catalog") or load_catalog()).get_runtime(stack, where="{runtime}")
    default = engine_cap(stack if isinstance(stack, Runtime) else None)
    cap = min(per_replica, max_batch or default or per_replica, max(probe.max_batch, 1))
    full_waves, remainder = divmod(per_replica, cap)
    full = predict(model, hardware, batch=cap, **kwargs)

    def cycle(p: Prediction) -> float:
        return p.batch * p.output_len / (p.output_tokens_per_s / p.replicas)

    run_s = full_waves * cycle(full)
    if remainder:
        run_s += cycle(predict(model, hardware, batch=remainder, **kwargs))
    tps = requests * full.output_len / run_s
    return FiniteRun(requests=requests, wave=cap, full_waves=full_waves, remainder=remainder, run_s=run_s,
                     output_tokens_per_s=tps, output_tokens_per_s_per_chip=tps / full.chips, full=full,
                     fits=full.fits, reason=full.reason)

"""Invariants of the FLOPs-per-sample training model (perf/samples.py): more work never takes less time, the parts are
non-negative and sum to the step, and utilisation never passes the efficiency it was computed with."""

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tcobench.catalog import load_catalog
from tcobench.perf.samples import Figure, profile, train_samples

CAT = load_catalog()
HARDWARE = [h for h in ("a100-sxm-80gb", "h100-sxm", "gc200", "mi300x", "tpu-v5p") if CAT.get_hardware(h).scale_out.bandwidth is not None]


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(hw=st.sampled_from(HARDWARE), workload=st.sampled_from(["bert-large", "resnet-50", "bert-large-pretrain"]),
       replicas=st.integers(1, 64), pp=st.sampled_from([1, 2, 4]), per=st.integers(1, 64), acc=st.integers(1, 8),
       grow=st.floats(1.0, 10.0), recompute=st.sampled_from(["none", "full"]))
def test_more_flops_never_take_less_time_and_parts_add_up(hw, workload, replicas, pp, per, acc, grow, recompute) -> None:
    p = profile(workload)
    chips, gb = replicas * pp, replicas * per * acc
    kw = dict(chips=chips, global_batch=gb, pp=pp, accumulation=acc, recompute=recompute, catalog=CAT)
    t = train_samples(p, CAT.get_hardware(hw), **kw)
    assert all(v >= 0 for v in t.parts.values())
    assert t.step_time_s == pytest.approx(sum(t.parts.values()))
    assert 0 < t.mfu <= t.hfu <= t.efficiency + 1e-12
    heavier = dataclasses.replace(p, forward_flop=Figure(p.forward_flop.value * grow, p.forward_flop.source))
    assert train_samples(heavier, CAT.get_hardware(hw), **kw).step_time_s >= t.step_time_s
    bigger = train_samples(p, CAT.get_hardware(hw), **{**kw, "global_batch": gb * 2, "accumulation": acc * 2})
    assert bigger.step_time_s >= t.step_time_s and bigger.samples_per_s >= t.samples_per_s * (1 - 1e-12)

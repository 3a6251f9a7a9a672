"""Collectives on a TPU torus get the links of the axes their group spans (perf/comm.py, up_bandwidth)."""

import numpy as np
import pytest

from tcobench.catalog import load_catalog
from tcobench.perf import Chip
from tcobench.perf.comm import tier_bandwidth, up_bandwidth
from tcobench.perf.efficiency import resolve

CAT = load_catalog()


def chip(hw_id: str) -> Chip:
    hw = CAT.get_hardware(hw_id)
    return Chip.of(hw, "bf16", resolve(hw, CAT.efficiency))


@pytest.mark.parametrize(("hw_id", "group", "share"), [
    ("tpu-v6e", 2, 1 / 4),    # one axis, no wraparound: one of the four links each way
    ("tpu-v6e", 4, 2 / 4),    # 2x2: two axes, no wraparound
    ("tpu-v6e", 8, 2 / 4),    # 2x4: two axes, no wraparound
    ("tpu-v6e", 256, 1.0),    # the full 16x16 pod wraps round both axes: every link both ways
    ("tpu-v5e", 8, 2 / 4),
    ("tpu-v4", 8, 3 / 6),     # 2x2x2: three axes, no wraparound
    ("tpu-v4", 64, 1.0),      # a full 4x4x4 cube wraps round (optical switches)
    ("tpu-v5p", 4, 2 / 6),    # 2x2x1
])
def test_a_torus_collective_uses_the_links_of_its_axes(hw_id: str, group: int, share: float) -> None:
    c = chip(hw_id)
    assert float(up_bandwidth(c, float(group))) == pytest.approx(float(c.up_bw) * share)
    assert float(tier_bandwidth(c, float(group))) == pytest.approx(float(c.up_bw) * share)


@pytest.mark.parametrize("group", [2, 4, 8, 72])
def test_a_switch_gives_every_collective_all_its_links(group: int) -> None:
    c = chip("gb200")
    assert float(up_bandwidth(c, float(group))) == float(c.up_bw)


def test_beyond_the_pod_the_scale_out_tier_carries_it() -> None:
    c = chip("tpu-v5e")
    assert float(tier_bandwidth(c, 512.0)) == float(c.out_bw)


def test_never_more_than_the_chip_has_and_arrays_agree_with_scalars() -> None:
    for hw_id in ("tpu-v4", "tpu-v5e", "tpu-v5p", "tpu-v6e", "h100-sxm"):
        c = chip(hw_id)
        groups = np.arange(1.0, 257.0)
        bw = np.broadcast_to(up_bandwidth(c, groups), groups.shape)  # a switch's is one figure
        assert np.all(np.asarray(bw) <= float(c.up_bw) * (1 + 1e-12))
        assert [float(up_bandwidth(c, float(g))) for g in groups[::17]] == pytest.approx(list(bw[::17]))


def test_wraparound_is_the_slices() -> None:
    c = chip("tpu-v4")
    alone = float(up_bandwidth(c, 32.0))  # a 32-chip slice (4x4x2): no wraparound
    inside = float(up_bandwidth(c, 32.0, 256.0))  # the same group inside whole 4x4x4 cubes
    assert inside == pytest.approx(2 * alone) and inside == pytest.approx(float(c.up_bw))

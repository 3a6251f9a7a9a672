"""Collectives with the alpha-beta model, on the link tier they cross.

Ring all-reduce of M bytes over n chips: 2 (n-1)/n x M / B + 2 (n-1) alpha
(Patarasuk and Yuan, "Bandwidth optimal all-reduce algorithms", JPDC 2009; NCCL's ring algorithm).
All-to-all: each chip sends (n-1)/n of its M bytes: (n-1)/n x M / B + (n-1) alpha.
Ring all-gather or reduce-scatter of a tensor of M bytes (gathered size) over n chips: (n-1)/n x M / B + (n-1) alpha.
Point-to-point (pipeline stages): M / B + alpha. B is the per-direction bandwidth per chip.

Inside one scale-up domain whose chips reach each other's memory (NVLink/NVSwitch, AMD's xGMI mesh), serving
engines run small all-reduces with a custom one-shot kernel instead of the ring, and fall back to the ring for large
ones: the all-reduce takes the lesser of the ring's time and L + M / B1, with L and B1 the efficiency fields
``allreduce_latency`` and ``allreduce_bandwidth`` (vLLM's custom all-reduce on 8 H100s: 9.3-11.8 us up to 32 KB,
45 us at 1 MB; sglang pull request 2904).

On a switch (NVLink, Infinity Fabric) a chip's links all carry every collective. On a torus (TPU ICI) a chip's
links go to its neighbours, one pair per axis, and a collective over a group of chips uses the links of the axes the
group spans, both ways round an axis only where the slice has wraparound links (Austin et al., "How to Scale Your
Model", part 2: "Smaller topologies ... with no wraparounds ... typically doubles the time of most communication";
"bidi bandwidth ... is true when we have a functioning ring, AKA when we have a wraparound connection").
"""

from __future__ import annotations

from typing import cast

import numpy as np

from tcobench.perf.chip import Chip
from tcobench.perf.vec import Vec, isfinite, maximum, minimum, where


def tier_bandwidth(chip: Chip, group: Vec, slice_chips: Vec | None = None) -> Vec:
    """Per-direction B/s for a group of ``group`` chips: scale-up inside the domain, scale-out beyond it.
    ``slice_chips``: the chips connected around the group (a replica, a training job; default the group)."""
    inside = (group <= chip.up_domain) & isfinite(chip.up_bw)
    return where(inside, up_bandwidth(chip, group, slice_chips), chip.out_bw)


def ring_bandwidth(chip: Chip, group: Vec, stride: Vec, slice_chips: Vec | None = None) -> Vec:
    """Per-direction B/s a ring collective (all-reduce, all-gather, reduce-scatter) over ``group`` chips gets when its
    members sit ``stride`` chips apart (a data-parallel group strides over the tensor-parallel ranks between them).

    Inside one scale-up domain it is ``up_bandwidth``. Across domains NCCL runs one ring per NIC, so the members that
    share a domain pool their NICs: the ring's bus bandwidth is ``min(scale-up, members per domain x out_bw)``. With one
    member per domain (stride at least the domain) that is one chip's NIC, as ``tier_bandwidth`` gives every
    collective. Sources: NCCL's maintainers, NVIDIA/nccl-tests#175 (8 A100s and 4 x 200 Gb/s per node: 86 GB/s of
    bus bandwidth across two nodes against the 100 GB/s of the node's NICs) and #290 (46-48 GB/s per NDR NIC);
    NVIDIA/nccl#1168 (4 nodes: about 45 GB/s with 4 GPUs per node, 90 GB/s with 8). An all-to-all cannot pool NICs
    (nccl-tests#267: 'the performance you should see is the performance of a single NIC'): it keeps
    ``tier_bandwidth``. Only switched domains pool (one NIC per chip, as in DGX/HGX nodes): a torus pod's scale-out
    figure (TPU v4's DCN) is a measured aggregate burst, and no source says how a ring across pods shares it."""
    span = group * stride  # the chips the group's members lie among (on a torus, the links it can use)
    inside = (span <= chip.up_domain) & isfinite(chip.up_bw)
    local = minimum(maximum(np.floor(chip.up_domain / maximum(stride, 1.0)), 1.0), group)  # members per domain
    up = up_bandwidth(chip, minimum(span, chip.up_domain), slice_chips)
    pooled = where(isfinite(chip.up_bw) & (chip.up_dims == 0), minimum(up, local * chip.out_bw), chip.out_bw)
    return where(inside, up, where(local > 1, pooled, chip.out_bw))


def up_bandwidth(chip: Chip, group: Vec, slice_chips: Vec | None = None) -> Vec:
    """Per-direction B/s a collective over ``group`` chips, inside a slice of ``slice_chips``, gets on the scale-up tier.

    A switch gives it the chip's whole ``up_bw``; a full mesh ``(group - 1) / (domain - 1)`` of it (its peers' links:
    MI300X at TP 2 gets one of its seven xGMI links, Gaudi 2 three of its 21 ports). A torus of ``d`` dimensions and
    ``L`` links per chip gives it ``up_bw / L`` per link, on 2 links per axis it spans where the slice wraps round and 1 where it does not (a line
    is a ring at half speed). The group is taken to fill the smallest slice of its size, every axis at least 2 long:
    ``min(d, floor(log2 group))`` axes (4 chips: 2x2, 8: 2x4 or 2x2x2, 64: 4x4x4). A torus's full ring (every axis,
    wrapped) gives back ``up_bw``. Whether the axes wrap round is the slice's: a 32-chip group inside a 256-chip
    TPU v4 slice (whole 4x4x4 cubes) has wraparound links, a 32-chip slice has none."""
    # a full mesh: a group of k chips has k - 1 of each chip's domain - 1 peer links (a ring per link, as RCCL and
    # HCCL run them); the rest of the links go to chips outside the group
    share = (minimum(maximum(group, 2.0), chip.up_domain) - 1.0) / maximum(chip.up_domain - 1.0, 1.0)
    switch = where(chip.up_mesh > 0, chip.up_bw * minimum(share, 1.0), chip.up_bw)
    if isinstance(chip.up_dims, float) and chip.up_dims == 0.0:
        return switch
    axes = minimum(chip.up_dims, cast(Vec, np.floor(np.log2(maximum(group, 2.0)))))
    around = group if slice_chips is None else maximum(group, slice_chips)
    per_axis = where(around >= chip.up_wrap, 2.0, 1.0)
    return where(chip.up_dims > 0, chip.up_bw / chip.up_links * axes * per_axis, switch)


def all_reduce(nbytes: Vec, n: Vec, bw: Vec, alpha: Vec, one_shot: tuple[Vec, Vec] = (float("nan"), float("nan"))) -> Vec:
    """Ring all-reduce, or a one-shot kernel taking ``one_shot`` = (L s, B1 B/s): L + M / B1, where that is less."""
    ring = 2.0 * (n - 1) / n * nbytes / bw + 2.0 * (n - 1) * alpha
    latency, bw1 = one_shot
    return where(n > 1, np.fmin(ring, latency + nbytes / bw1), 0.0)  # fmin: NaN (no one-shot kernel) leaves the ring


def core_all_reduce(nbytes: Vec, cores: Vec, bw: Vec, alpha: Vec) -> Vec:
    """The intra-chip stage of a tensor-parallel all-reduce whose ranks are a chip's ``cores`` (TPU7x: two
    TensorCores, each its own device): a reduce-scatter and an all-gather of the ``nbytes`` message over the cores
    on their die-to-die link (``bw`` per direction), 2 (c - 1) / c x M / B + 2 (c - 1) alpha. The chips' all-reduce of
    the scattered shares, where tp spans chips, moves the same bytes per chip as a chip-level one and is charged as
    such (``all_reduce``): the hierarchical order of tpu-inference's reduce-scatter kernels (vllm-project/tpu-inference
    tpu_inference/kernels/collectives/hierrs_sc/kernel.py @b8692ff: an intra-chip D2D phase, then the inter-chip
    phase)."""
    return where(cores > 1, 2.0 * (cores - 1) / cores * nbytes / bw + 2.0 * (cores - 1) * alpha, 0.0)


def one_shot(chip: Chip, group: Vec) -> tuple[Vec, Vec]:
    """The one-shot all-reduce figures where ``group`` chips fit in the scale-up domain (the kernels work over
    peer-to-peer memory access, not across nodes); NaN elsewhere."""
    inside = group <= chip.up_domain
    return where(inside, chip.ar_latency, float("nan")), where(inside, chip.ar_bw, float("nan"))


def all_to_all(nbytes: Vec, n: Vec, bw: Vec, alpha: Vec) -> Vec:
    return where(n > 1, (n - 1) / n * nbytes / bw + (n - 1) * alpha, 0.0)


def exchange(nbytes: Vec, n: Vec, bw: Vec, alpha: Vec) -> Vec:
    """An expert-parallel dispatch or combine: every chip sends its n - 1 shares of ``nbytes`` to all its peers at
    once, in one kernel, so it pays one step's latency, not n - 1 of a ring's (DeepEP's low-latency kernels take
    173, 192 and 194 us to dispatch 128 tokens over 64, 128 and 256 H800s: the time does not grow with the peers;
    deepseek-ai/DeepEP docs/legacy.md @0297fc80, 'Low-latency kernels with pure RDMA')."""
    return where(n > 1, (n - 1) / n * nbytes / bw + alpha, 0.0)


# A ring all-gather (or reduce-scatter, half of a ring all-reduce) moves (n-1)/n of the gathered tensor in
# n-1 steps: the same cost as an all-to-all of it.
all_gather = all_to_all


def send_recv(nbytes: Vec, bw: Vec, alpha: Vec) -> Vec:
    return nbytes / bw + alpha

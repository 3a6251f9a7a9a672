"""Collectives with the alpha-beta model, on the link tier they cross.

Ring all-reduce of M bytes over n chips: 2 (n-1)/n x M / B + 2 (n-1) alpha
(Patarasuk and Yuan, "Bandwidth optimal all-reduce algorithms", JPDC 2009; NCCL's ring algorithm).
All-to-all: each chip sends (n-1)/n of its M bytes: (n-1)/n x M / B + (n-1) alpha.
Ring all-gather or reduce-scatter of a tensor of M bytes (gathered size) over n chips: (n-1)/n x M / B + (n-1) alpha.
Point-to-point (pipeline stages): M / B + alpha. B is the per-direction bandwidth per chip.
"""

from __future__ import annotations

from tcobench.perf.chip import Chip
from tcobench.perf.vec import Vec, isfinite, where


def tier_bandwidth(chip: Chip, group: Vec) -> Vec:
    """Per-direction B/s for a group of ``group`` chips: scale-up inside the domain, scale-out beyond it."""
    inside = (group <= chip.up_domain) & isfinite(chip.up_bw)
    return where(inside, chip.up_bw, chip.out_bw)


def all_reduce(nbytes: Vec, n: Vec, bw: Vec, alpha: Vec) -> Vec:
    return where(n > 1, 2.0 * (n - 1) / n * nbytes / bw + 2.0 * (n - 1) * alpha, 0.0)


def all_to_all(nbytes: Vec, n: Vec, bw: Vec, alpha: Vec) -> Vec:
    return where(n > 1, (n - 1) / n * nbytes / bw + (n - 1) * alpha, 0.0)


# A ring all-gather (or reduce-scatter, half of a ring all-reduce) moves (n-1)/n of the gathered tensor in
# n-1 steps: the same cost as an all-to-all of it.
all_gather = all_to_all


def send_recv(nbytes: Vec, bw: Vec, alpha: Vec) -> Vec:
    return nbytes / bw + alpha

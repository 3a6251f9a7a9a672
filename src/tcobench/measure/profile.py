"""A probe written as a catalog hardware file: ``[source.<id>]``, ``[hardware.<id>]`` and its efficiency.

Without a base chip, the peaks are the best rates measured (no datasheet is read), so the factors are the
fractions of those: large GEMMs of the best GEMM, weight streaming and a copy of the best bandwidth seen.
With ``base`` (a catalog chip, ``--base h200-sxm``), the peaks, bandwidth and capacity are the datasheet's and
the factors are the measured fractions of them, as ``[efficiency.h100-sxm]`` was made by hand.
The file loads with ``--hardware FILE`` (``Catalog.hardware_ref``) like any hypothetical chip.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tcobench.catalog.schema import Hardware
from tcobench.measure.probe import LARGE_M, SMALL_M, WIDTH, Probe

FLOOR = 1e-4  # a factor is a fraction of a peak reached: kept within (0, 1] as the schema requires


@dataclass(frozen=True)
class Factors:
    """The efficiency factors a probe implies, as perf reads them (perf/efficiency.py)."""

    compute_at: dict[str, float]
    memory_at: dict[str, float]
    memory: float
    overhead_s: float

    def to_dict(self) -> dict[str, Any]:
        return {"compute_at": dict(self.compute_at), "memory_at": dict(self.memory_at), "memory": self.memory,
                "overhead_s": self.overhead_s}


def hardware_id(probe: Probe) -> str:
    """A catalog id for the probed device: ``probed-<host>-<device>``, lower case."""
    raw = f"probed-{probe.device.host}-{probe.device.name.replace(':', '')}".lower()
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9.\-]", "-", raw)).strip("-.")[:80] or "probed-device"


def peaks(probe: Probe, base: Hardware | None) -> tuple[dict[str, float], float, float]:
    """(dense peak FLOP/s per format, memory bandwidth B/s, capacity B) the factors are fractions of."""
    if base is not None:
        fig = {fmt: base.peak(fmt) for fmt in probe.formats()}
        bw, cap = base.memory.bandwidth, base.memory.capacity
        return ({fmt: f.value for fmt, f in fig.items() if f is not None}, bw.value if bw else _best_bw(probe),
                cap.value if cap else probe.device.memory_bytes)
    return {fmt: probe.best_flops(fmt) for fmt in probe.formats()}, _best_bw(probe), probe.device.memory_bytes


def _best_bw(probe: Probe) -> float:
    rates = [probe.copy_bytes_per_s] + [g.weight_bytes_per_s(WIDTH[g.format]) for g in probe.streaming]
    return max(rates)


def factors(probe: Probe, base: Hardware | None = None) -> Factors:
    peak, bw, _ = peaks(probe, base)
    compute = {fmt: _frac(probe.large_flops(fmt) / peak[fmt]) for fmt in probe.formats() if fmt in peak}
    memory_at = {fmt: _frac(s / bw) for fmt in probe.formats() if (s := probe.streaming_bytes_per_s(fmt)) is not None}
    overhead = probe.launch_graph_s if probe.launch_graph_s is not None else probe.launch_eager_s
    return Factors(compute, memory_at, _frac(probe.copy_bytes_per_s / bw), overhead)


def _frac(x: float) -> float:
    return min(1.0, max(FLOOR, x))


def profile_toml(probe: Probe, hw_id: str, base: Hardware | None = None) -> str:
    """The hardware file's text (TOML) for ``probe``, with the probe's provenance as its source."""
    d = probe.device
    sid = f"tcobench-probe-{hw_id}"
    f = factors(probe, base)
    peak, bw, cap = peaks(probe, base)
    what = "measured by tcobench probe"
    lines = [f"# {what} on {d.host} ({d.description}, {d.name}), torch {d.torch_version}, {probe.date}.",
             "# Load it with --hardware FILE. Re-run `tcobench probe` to refresh; `tcobench calibrate` fits it to a model.",
             "", f"[source.{sid}]",
             f"title = {_s(f'{what} --device {d.name} on {d.host}: {d.description}, torch {d.torch_version}, {probe.date}')}",
             f"locator = {_s('tcobench probe --json holds every timing; this file keeps the medians')}",
             f"accessed = {_s(probe.date)}",
             f"note = {_s(_provenance(probe))}", ""]
    lines += [f"[hardware.{hw_id}]", f"name = {_s((base.name if base else d.description) + ' (probed)')}",
              f"vendor = {_s(base.vendor if base else _vendor(d.description))}",
              f"kind = {_s(base.kind if base else ('cpu' if d.kind == 'cpu' else 'gpu'))}",
              f"note = {_s(f'{what}; ' + ('peaks, bandwidth and capacity from the catalog chip ' + base.id + ', factors measured against them' if base else 'peaks and bandwidth are the best rates measured here (no datasheet): the factors are fractions of those'))}",
              "", f"[hardware.{hw_id}.peak_dense]"]
    for fmt, value in peak.items():
        if base is not None:
            fig = base.peak(fmt)
            assert fig is not None  # peaks() kept only formats the base has
            lines.append(f"{fmt} = {{ value = {_s(fig.text or _unit(fig.value, 'FLOP/s'))}, source = {_s(fig.source)} }}")
        else:
            best = max((g for g in probe.gemm if g.format == fmt), key=lambda g: g.flops_per_s)
            lines.append(f"{fmt} = {{ value = {_s(_unit(value, 'FLOP/s'))}, source = {_s(sid)}, "
                         f"note = {_s(f'best GEMM measured (m={best.m}, n={best.n}, k={best.k}); not a datasheet peak')} }}")
    lines += ["", f"[hardware.{hw_id}.memory]"]
    if base is not None and base.memory.bandwidth is not None and base.memory.capacity is not None:
        for key, fig in (("capacity", base.memory.capacity), ("bandwidth", base.memory.bandwidth)):
            lines.append(f"{key} = {{ value = {_s(fig.text)}, source = {_s(fig.source)} }}")
    else:
        lines.append(f"capacity = {{ value = {_s(f'{cap:.0f} B')}, source = {_s(sid)}, note = "
                     f"{_s('host memory (MemTotal)' if d.kind == 'cpu' else 'what CUDA reports as total')} }}")
        lines.append(f"bandwidth = {{ value = {_s(_unit(bw, 'B/s'))}, source = {_s(sid)}, note = "
                     f"{_s('the best rate measured: copy (read + written) or weight streaming; not a datasheet figure')} }}")
    lines += ["", f"[hardware.{hw_id}.efficiency]"]
    first = probe.formats()[0]
    if first in f.compute_at:
        lines.append(f"compute = {_fig(f.compute_at[first], sid, f'GEMMs with m >= {LARGE_M} in {first}: median of the peak above')}")
    lines.append("compute_at = { " + ", ".join(
        f"{fmt} = {_fig(v, sid, f'GEMMs with m >= {LARGE_M}: median of the peak above')}" for fmt, v in f.compute_at.items()) + " }")
    lines.append(f"memory = {_fig(f.memory, sid, 'a large copy (read + written) of the bandwidth above')}")
    if f.memory_at:
        lines.append("memory_at = { " + ", ".join(
            f"{fmt} = {_fig(v, sid, f'GEMMs with m <= {SMALL_M} streaming a weight larger than the caches')}"
            for fmt, v in f.memory_at.items()) + " }")
    kind = "replayed from a CUDA graph" if probe.launch_graph_s is not None else "launched eagerly"
    lines.append(f"overhead = {{ value = {_s(f'{f.overhead_s * 1e6:.4g} us')}, source = {_s(sid)}, "
                 f"note = {_s(f'a tiny kernel {kind}; eager: {probe.launch_eager_s * 1e6:.3g} us')} }}")
    return "\n".join(lines) + "\n"


def _provenance(probe: Probe) -> str:
    d = probe.device
    return (f"host {d.host}; device {d.name} ({d.description}); torch {d.torch_version}"
            + (f"; CUDA {d.driver}" if d.driver else "") + f"; {probe.date}; probe took {probe.wall_s:.0f} s; "
            f"timings are medians of repetitions, {len(probe.gemm)} GEMMs, {len(probe.streaming)} streaming GEMMs")


def _vendor(description: str) -> str:
    word = description.split()[0] if description.split() else "unknown"
    return {"genuineintel": "Intel", "intel(r)": "Intel", "authenticamd": "AMD"}.get(word.lower(), word)


def _unit(value: float, unit: str) -> str:
    for prefix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6)):
        if value >= scale:
            return f"{value / scale:.5g} {prefix}{unit}"
    return f"{value:.5g} {unit}"


def _fig(value: float, sid: str, note: str) -> str:
    return f"{{ value = {value:.4g}, source = {_s(sid)}, note = {_s(note)} }}"


def _s(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=True)

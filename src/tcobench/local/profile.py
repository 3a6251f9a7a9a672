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
from tcobench.local.probe import LARGE_M, SMALL_M, WIDTH, Probe

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


def calibrated_toml(base: Hardware, new_id: str, fmt: str, fitted: dict[str, float], before: dict[str, float],
                    provenance: str) -> str:
    """A hardware file for ``new_id``: ``base``'s own table as its file has it, with the fitted factors at ``fmt``
    (``compute_at``, ``memory_at``, ``memory``, ``overhead``) in its efficiency, each citing the calibration.
    ``fitted`` / ``before``: factor name (fit.NAMES) -> value. A base from a user's file brings that file's
    sources along; the built-in catalog's sources are always loaded."""
    import tomllib
    from pathlib import Path

    from tcobench.catalog.loader import builtin_dir

    with open(base.origin, "rb") as fh:
        doc = tomllib.load(fh)
    table = dict(doc["hardware"][base.id])
    builtin = Path(base.origin).resolve().is_relative_to(builtin_dir().resolve())
    sources = {} if builtin else dict(doc.get("source", {}))
    sid = f"tcobench-calibrate-{new_id}"
    sources[sid] = {"title": f"fitted by tcobench calibrate: {provenance}",
                    "note": f"efficiency factors at {fmt} fitted by least squares on log(predicted / measured) to measured "
                            "records; the others are the base profile's"}
    eff = dict(table.get("efficiency", {}))

    def fig(name: str, value: float | str) -> dict[str, Any]:
        was = before[name]
        shown = f"{was * 1e6:.4g} us" if name == "overhead" else f"{was:.4g}"
        return {"value": value, "source": sid, "note": f"fitted; the base profile had {shown}"}

    compute = fitted["compute"]
    if compute > 1.0:  # a probe's peak the model's matmuls passed (fit.MEASURED_PEAK_HEADROOM): raise the peak instead
        peak = base.peak(fmt)
        assert peak is not None  # the fit allows this only where the peak is a probe's measurement
        table["peak_dense"] = {**table.get("peak_dense", {}), fmt: {
            "value": _unit(peak.value * compute, "FLOP/s"), "source": sid,
            "note": f"raised by the fit: the probe's best GEMM reached {peak.text}, the model's matmuls x{compute:.3g} that"}}
        compute = 1.0
    eff["compute_at"] = {**eff.get("compute_at", {}), fmt: fig("compute", round(compute, 4))}
    streaming, memory = fitted["weight_streaming"], fitted["memory"]
    scale = max(streaming, memory)
    if scale > 1.0:  # the same for a probe's bandwidth
        bw = base.memory.bandwidth
        assert bw is not None
        table["memory"] = {**table.get("memory", {}), "bandwidth": {
            "value": _unit(bw.value * scale, "B/s"), "source": sid,
            "note": f"raised by the fit: the probe's best rate was {bw.text}, the model's reads x{scale:.3g} that"}}
        streaming, memory = streaming / scale, memory / scale
    eff["memory_at"] = {**eff.get("memory_at", {}), fmt: fig("weight_streaming", round(streaming, 4))}
    eff["memory"] = fig("memory", round(memory, 4))
    eff["overhead"] = fig("overhead", f"{fitted['overhead'] * 1e6:.4g} us")
    table["efficiency"] = eff
    table["name"] = f"{table.get('name', base.name)} (calibrated)"
    table["note"] = f"{table.get('note', '')}; factors at {fmt} calibrated by tcobench calibrate".lstrip("; ")
    lines = [f"# {base.id} calibrated by tcobench calibrate: {provenance}",
             "# Load it with --hardware FILE.", ""]
    for key, src in sources.items():
        lines += _table(f"source.{_key(key)}", src, 0)
    lines += _table(f"hardware.{_key(new_id)}", table, 0)
    return "\n".join(lines)


def _table(path: str, table: dict[str, Any], depth: int) -> list[str]:
    """One TOML table: its plain keys (figures and deeper tables inline), then its sub-tables (one level down,
    as the catalog files write them: peak_dense, memory, efficiency), then arrays of tables (cloud rates)."""
    lines = [f"[{path}]"]
    subs: list[tuple[str, dict[str, Any]]] = []
    arrays: list[tuple[str, list[dict[str, Any]]]] = []
    for k, v in table.items():
        if isinstance(v, dict) and depth == 0 and "value" not in v:
            subs.append((k, v))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            arrays.append((k, v))
        else:
            lines.append(f"{_key(k)} = {_value(v)}")
    lines.append("")
    for k, v in subs:
        lines += _table(f"{path}.{_key(k)}", v, depth + 1)
    for k, items in arrays:
        for item in items:
            lines.append(f"[[{path}.{_key(k)}]]")
            lines += [f"{_key(ik)} = {_value(iv)}" for ik, iv in item.items()] + [""]
    return lines


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _s(k)


def _value(v: Any) -> str:
    import datetime as dt

    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return _s(v)
    if isinstance(v, (dt.date, dt.datetime, dt.time)):
        return v.isoformat()
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")

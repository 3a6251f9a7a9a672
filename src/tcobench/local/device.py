"""PyTorch, imported only when a measurement runs, and the device it runs on.

PyTorch is the optional extra ``tcobench[measure]``: without it every measuring call stops with one
InstallError naming the extra, and the rest of tcobench runs as before.
"""

from __future__ import annotations

import os
import platform
import re
from dataclasses import dataclass
from typing import Any

from tcobench.errors import InputError, InstallError, quote

DEVICE = re.compile(r"^(cpu|cuda)(?::(\d{1,3}))?$")


def need_torch() -> Any:
    """The ``torch`` module, or InstallError naming the extra that installs it."""
    try:
        import torch
    except ImportError as err:
        raise InstallError("measuring needs PyTorch, which is an optional extra: pip install 'tcobench[measure]'") from err
    return torch


@dataclass(frozen=True)
class Device:
    """The device a measurement runs on: its torch name, what it is, and the memory it offers (bytes)."""

    name: str  # "cpu", "cuda:0"
    kind: str  # "cpu" or "cuda"
    description: str  # "AMD EPYC (2 threads)", "NVIDIA H200"
    memory_bytes: float  # total
    free_bytes: float  # available now
    torch_version: str
    host: str
    driver: str | None = None  # CUDA runtime version, for a GPU

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def device(spec: str = "cpu", param: str = "device", threads: int | None = None) -> Device:
    """The device ``spec`` names ("cpu", "cuda", "cuda:N"), checked against this machine. ``threads``: on a CPU,
    the threads PyTorch computes with from now on in this process (``torch.set_num_threads``; default: as it is).
    On a machine shared with other work, one thread measures more steadily: with several, one descheduled thread
    stalls every kernel at its barrier."""
    m = DEVICE.match(spec.strip().lower())
    if not m:
        raise InputError(f"{{{param}}} {quote(spec)}: expected cpu, cuda or cuda:N", params=(param,))
    torch = need_torch()
    host = platform.node() or "unknown host"
    if threads is not None:
        if m.group(1) != "cpu":
            raise InputError(f"{{threads}} {threads}: sets the threads of a CPU device; expected no {{threads}} with "
                             f"{spec}", params=("threads", param))
        torch.set_num_threads(threads)
    if m.group(1) == "cpu":
        if m.group(2) not in (None, "0"):
            raise InputError(f"{{{param}}} {quote(spec)}: there is one CPU device; expected cpu", params=(param,))
        total, free = _host_memory()
        n = torch.get_num_threads()
        return Device("cpu", "cpu", f"{_cpu_name()} ({n} thread{'' if n == 1 else 's'})", total, free,
                      str(torch.__version__), host)
    if not torch.cuda.is_available():
        raise InputError(f"{{{param}}} {quote(spec)}: this machine has no CUDA device PyTorch can use "
                         f"(torch {torch.__version__}, torch.cuda.is_available() is False); expected cpu",
                         params=(param,))
    index = int(m.group(2) or 0)
    count = torch.cuda.device_count()
    if index >= count:
        raise InputError(f"{{{param}}} {quote(spec)}: this machine has {count} CUDA device(s); expected cuda:0"
                         + (f" to cuda:{count - 1}" if count > 1 else ""), params=(param,))
    props = torch.cuda.get_device_properties(index)
    free, total = torch.cuda.mem_get_info(index)
    return Device(f"cuda:{index}", "cuda", str(props.name), float(total), float(free), str(torch.__version__), host,
                  driver=str(torch.version.cuda))


def synchronize(dev: Device) -> None:
    if dev.kind == "cuda":
        need_torch().cuda.synchronize(dev.name)


def _host_memory() -> tuple[float, float]:
    """(total, available) bytes of this host's memory, from /proc/meminfo where there is one."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            info = {line.split(":")[0]: float(line.split()[1]) * 1024 for line in fh if len(line.split()) >= 2}
        return info["MemTotal"], info.get("MemAvailable", info["MemTotal"])
    except (OSError, KeyError, ValueError):
        total = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
        return total, total


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "CPU"

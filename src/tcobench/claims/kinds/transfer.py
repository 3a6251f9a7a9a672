"""Links and clocks: bandwidth per direction and per chip, time to move bytes, cycles per token.

Catalog link bandwidths are per direction and per chip (the loader halves bidirectional figures), so
the usual misreadings are checked as alternatives: bits read as bytes (8x), both directions added
(2x), and a per-node total quoted as if per chip (x chips in the scale-up domain).
"""

from __future__ import annotations

from tcobench.claims.kinds.base import Derived, Kind
from tcobench.claims.verdict import Alternative, Verdict
from tcobench.claims.work import Work
from tcobench.catalog import Hardware
from tcobench.claims.trace import Value

_PATHS = {"scale_up": "scale_up.bandwidth", "scale_out": "scale_out.bandwidth", "external_io": "external_io.bandwidth",
          "memory": "memory.bandwidth", "sram": "sram.bandwidth"}


def _link(w: Work, hw: Hardware) -> Value:
    link = w.claim.link or "scale_out"
    return w.figure(hw, _PATHS[link], name=f"{link} bandwidth per chip, per direction")


def _misreadings(w: Work, hw: Hardware, value: float, invert: bool) -> tuple[Alternative, ...]:
    """``value`` is a bandwidth (invert=False) or a time over that bandwidth (invert=True)."""
    def f(k: float) -> float:
        return value / k if invert else value * k

    alts = [Alternative("bits read as bytes (8x)", f(8), Verdict.UNIT_MISMATCH)]
    if w.claim.link not in ("memory", "sram"):
        alts.append(Alternative("both directions added (2x)", f(2), Verdict.UNIT_MISMATCH))
        domain = hw.scale_up.domain
        if domain is not None and domain.value > 1:
            alts.append(Alternative(f"a per-node total ({domain.value:g} chips) read as per chip", f(domain.value),
                                    Verdict.UNIT_MISMATCH))
    return tuple(alts)


def bandwidth(w: Work) -> Derived:
    hw = w.hardware()
    bw = _link(w, hw)
    if w.claim.link not in ("memory", "sram") and "memory.bandwidth" in hw.figures():
        mem = w.figure(hw, "memory.bandwidth", name="memory bandwidth per chip")
        w.step("memory bandwidth / link bandwidth", "memory-to-link ratio", mem.value / bw.value, "1", mem, bw, context=True)
    result = w.step("per-chip, per-direction bandwidth (catalog)", "bandwidth", bw.value, "B/s", bw)
    return Derived(result, alternatives=_misreadings(w, hw, bw.value, invert=False))


def transfer_time(w: Work) -> Derived:
    hw = w.hardware()
    size = w.input("bytes", "B", what="data to move")
    bw = _link(w, hw)
    t = w.step("time = bytes / bandwidth", "transfer time", size.value / bw.value, "s", size, bw)
    return Derived(t, alternatives=_misreadings(w, hw, t.value, invert=True))


def weight_reuse(w: Work) -> Derived:
    """At batch 1 every weight is read once per generated token: cycles between uses = clock / tokens/s."""
    tps = w.input("throughput", "token/s")
    clock = w.input("clock", "1/s", what="clock frequency, e.g. \"1e9 /s\" for 1 GHz")
    cycles = w.step("cycles per use = clock / tokens/s", "cycles per token", clock.value / tps.value, "1/token", clock, tps)
    return Derived(cycles)


KINDS = (
    Kind("bandwidth", "a link's bandwidth per chip and per direction, with bits/bytes and per-node readings",
         bandwidth, {}),
    Kind("transfer-time", "time to move bytes over a link", transfer_time, {"bytes": "B"}),
    Kind("weight-reuse", "clock cycles between uses of a weight at a given tokens/s", weight_reuse,
         {"throughput": "token/s", "clock": "1/s"}),
)

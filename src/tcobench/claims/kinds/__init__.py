"""The registry of derivation kinds: name -> Kind (what it derives, its inputs, the function)."""

from __future__ import annotations

from tcobench.claims.kinds import cost, measured, peak, prediction, throughput, training, transfer
from tcobench.claims.kinds.base import Derived, Kind

REGISTRY: dict[str, Kind] = {k.name: k for mod in (throughput, cost, peak, transfer, prediction, training,
                                                                    measured) for k in mod.KINDS}

__all__ = ["REGISTRY", "Derived", "Kind"]

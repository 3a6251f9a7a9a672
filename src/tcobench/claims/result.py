"""One audited claim: claimed vs derived (in the claim's own unit), ratio, verdict and trace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tcobench.claims.trace import Step, Value
from tcobench.claims.verdict import Verdict


@dataclass(frozen=True, slots=True)
class ClaimResult:
    id: str
    statement: str
    verdict: Verdict
    reason: str  # why this verdict; for unverifiable, what is missing
    unit: str  # the claim's own unit; claimed_value and derived_value are in it
    claimed_value: float | None
    derived_value: float | None
    ratio: float | None  # claimed / derived
    trace: tuple[Step, ...] = ()
    kind: str = ""
    source: str = ""
    date: str = ""
    file: str = ""
    error: str | None = None  # set when the claim itself is malformed (not merely unverifiable)
    derived: Value | None = None  # the derived value in SI units, for claims that use this one as input
    predicted_value: float | None = None  # kind measured: the performance model's value for it, in the claim's unit

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "statement": self.statement, "verdict": str(self.verdict), "reason": self.reason,
                "claimed_value": self.claimed_value, "derived_value": self.derived_value, "unit": self.unit,
                "ratio": self.ratio, "predicted_value": self.predicted_value, "kind": self.kind, "source": self.source, "date": self.date, "file": self.file,
                "error": self.error, "trace": [s.to_dict() for s in self.trace]}

"""Audit claims: run each claim's derivation, convert to the claim's unit, and judge it.

Claims may use another claim's derived value as an input (``{ claim = "<id>" }``); those are
audited first, once. A claim that cannot be derived becomes ``unverifiable`` with the reason, and
never stops the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tcobench import units
from tcobench.claims.kinds import REGISTRY
from tcobench.claims.loader import Invalid
from tcobench.claims.measured import RunGetter
from tcobench.claims.result import ClaimResult
from tcobench.claims.schema import Claim
from tcobench.claims.trace import Value
from tcobench.claims.verdict import Verdict, judge
from tcobench.claims.work import Work
from tcobench.catalog import Catalog
from tcobench.errors import InputError, MissingInputError, TcobenchError, UnitError, UnknownIdError


class _Auditor:
    def __init__(self, claims: Iterable[Claim], catalog: Catalog, runs: RunGetter | None = None) -> None:
        self.claims = {c.id: c for c in claims}
        self.catalog = catalog
        self.runs = runs
        self.done: dict[str, ClaimResult] = {}
        self.active: list[str] = []

    def result(self, claim_id: str) -> ClaimResult:
        if claim_id not in self.done:
            self.active.append(claim_id)
            try:
                self.done[claim_id] = self._audit(self.claims[claim_id])
            finally:
                self.active.pop()
        return self.done[claim_id]

    def resolve(self, claim_id: str, name: str) -> Value:
        """The derived value of ``claim_id``, used as input ``name`` by the claim being audited."""
        if claim_id not in self.claims:
            raise UnknownIdError("claim", claim_id, self.claims, where=f"inputs.{name}")
        if claim_id in self.active:
            raise InputError(f"claims use each other's values in a cycle: {' -> '.join([*self.active, claim_id])}")
        got = self.result(claim_id)
        if got.derived is None:
            raise MissingInputError(f"input {name!r} comes from claim {claim_id!r}, which is {got.verdict}: {got.reason}")
        return got.derived

    def _audit(self, claim: Claim) -> ClaimResult:
        base: dict[str, Any] = dict(id=claim.id, statement=claim.statement, unit=claim.unit, claimed_value=claim.claimed,
                    kind=claim.kind, source=claim.source, date=claim.date, file=claim.origin)
        work = Work(claim, self.catalog, self.resolve, self.runs)
        try:
            derived = REGISTRY[claim.kind].derive(work)
        except MissingInputError as err:
            return ClaimResult(**base, verdict=Verdict.UNVERIFIABLE, reason=str(err), derived_value=None, ratio=None,
                               trace=tuple(work.steps))
        except TcobenchError as err:  # a malformed input, an unknown catalog id, an impossible deployment
            return ClaimResult(**base, verdict=Verdict.UNVERIFIABLE, reason=str(err), derived_value=None, ratio=None,
                               trace=tuple(work.steps), error=f"{type(err).__name__}: {err}")
        except ArithmeticError as err:  # a figure that leaves nothing to divide by (inputs and claims are > 0)
            last = f" after {work.steps[-1].formula!r}" if work.steps else ""
            reason = f"the derivation cannot be computed{last}: {err} (a catalog figure it uses is 0 or too large)"
            return ClaimResult(**base, verdict=Verdict.UNVERIFIABLE, reason=reason, derived_value=None, ratio=None,
                               trace=tuple(work.steps), error=f"InputError: {reason}")
        value = derived.value
        try:
            per_unit = units.parse(f"1 {claim.unit}", value.unit)  # SI per one claim unit
        except UnitError:
            return ClaimResult(**base, verdict=Verdict.UNIT_MISMATCH, derived_value=None, ratio=None,
                               reason=f"the claim is in {claim.unit!r}, which is not a {value.unit}; derived "
                                      f"{value.text}", trace=tuple(work.steps), derived=value)
        claimed_si = claim.claimed * per_unit
        against = "measured" if claim.measured is not None else "derived"
        verdict, reason = judge(claimed_si, value.value, claim.tolerance, derived.bound, derived.alternatives, against)
        ratio = claimed_si / value.value if value.value else None
        predicted = None if derived.predicted is None else derived.predicted.value / per_unit
        return ClaimResult(**base, verdict=verdict, reason=reason, derived_value=value.value / per_unit, ratio=ratio,
                           trace=tuple(work.steps), derived=value, predicted_value=predicted)


def audit_claims(claims: Sequence[Claim], catalog: Catalog, *, library: Iterable[Claim] = (),
                 runs: RunGetter | None = None) -> list[ClaimResult]:
    """Audit ``claims`` in order. ``library`` claims (the built-in suite) may be referenced but are not reported.
    ``runs``: saved runs by store id, for claims that cite one (``measured = { run = ... }``)."""
    auditor = _Auditor([*library, *claims], catalog, runs)
    return [auditor.result(c.id) for c in claims]


def invalid_result(bad: Invalid) -> ClaimResult:
    """A claim that could not be read, reported as unverifiable with the precise error."""
    reason = bad.message.removeprefix(f"{bad.file}: ")
    return ClaimResult(id=bad.id or "(file)", statement="", verdict=Verdict.UNVERIFIABLE, reason=reason, unit="",
                       claimed_value=None, derived_value=None, ratio=None, file=bad.file, error=bad.message)

"""Claims audit: a published number, the value derived for it from the catalog, and a verdict.

    load_claims(paths, catalog) -> ClaimSet        claim files -> validated Claims (+ what was invalid)
    audit_claims(claims, catalog) -> [ClaimResult]  derive, convert to the claim's unit, judge, trace
"""

from tcobench.claims.loader import ClaimSet, Invalid, builtin_dir, load_claims
from tcobench.claims.result import ClaimResult
from tcobench.claims.runner import audit_claims, invalid_result
from tcobench.claims.schema import Claim
from tcobench.claims.verdict import Verdict

__all__ = ["Claim", "ClaimResult", "ClaimSet", "Invalid", "Verdict", "audit_claims", "builtin_dir", "invalid_result",
           "load_claims"]

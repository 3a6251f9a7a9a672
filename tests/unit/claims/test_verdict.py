"""Verdicts from claimed vs derived values, bounds and alternative readings."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tcobench.claims.verdict import Alternative, Verdict, judge, matches

BITS = Alternative("bits read as bytes (8x)", 400.0, Verdict.UNIT_MISMATCH)
FP8 = Alternative("holds at fp8 dense", 506.6, Verdict.PRECISION_MISMATCH)


@pytest.mark.parametrize(("claimed", "derived", "tol", "bound", "alts", "expected"), [
    (211, 211.9, 0.05, None, (), Verdict.CONSISTENT),
    (94, 6.19, 0.1, None, (), Verdict.OVERSTATED),
    (5, 6.08, 0.1, None, (), Verdict.UNDERSTATED),
    (400, 50, 0.1, None, (BITS,), Verdict.UNIT_MISMATCH),
    (512, 253.3, 0.05, None, (FP8,), Verdict.PRECISION_MISMATCH),
    (300, 253.3, 0.05, None, (FP8,), Verdict.OVERSTATED),  # matches neither reading
    (865e3, 2.6e6, 0.0, "upper", (), Verdict.CONSISTENT),  # below a ceiling
    (3e6, 2.6e6, 0.0, "upper", (), Verdict.OVERSTATED),  # above the ceiling
    (576, 600, 0.0, "lower", (), Verdict.UNDERSTATED),  # fewer chips than the weights need
    (700, 600, 0.0, "lower", (), Verdict.CONSISTENT),
])
def test_judge(claimed, derived, tol, bound, alts, expected) -> None:
    verdict, reason = judge(claimed, derived, tol, bound, alts)
    assert verdict is expected
    assert reason


def test_alternative_reason_names_the_reading() -> None:
    _, reason = judge(400, 50, 0.1, None, (BITS,))
    assert "bits read as bytes" in reason


def test_tolerance_edges() -> None:
    assert matches(1.1, 1.0, 0.1) and not matches(1.11, 1.0, 0.1)
    assert matches(0.0, 0.0, 0.1) and not matches(1.0, 0.0, 0.1)

positive = st.floats(min_value=1e-6, max_value=1e12, allow_nan=False, allow_infinity=False)


@given(positive, positive, st.floats(min_value=0, max_value=0.5), st.floats(min_value=1e-6, max_value=1e6))
def test_verdict_does_not_depend_on_the_unit(claimed: float, derived: float, tol: float, scale: float) -> None:
    """Expressing both values in another unit (x scale) never changes the verdict."""
    a, _ = judge(claimed, derived, tol)
    b, _ = judge(claimed * scale, derived * scale, tol)
    ratio = claimed / derived
    if abs(abs(ratio - 1) - tol) > 1e-6:  # away from the tolerance edge, where rounding may differ
        assert a is b


@given(positive, positive, st.floats(min_value=0, max_value=0.5))
def test_consistent_exactly_within_tolerance(claimed: float, derived: float, tol: float) -> None:
    verdict, _ = judge(claimed, derived, tol)
    off = abs(claimed / derived - 1)
    if off < tol - 1e-6:
        assert verdict is Verdict.CONSISTENT
    elif off > tol + 1e-6:
        assert verdict is (Verdict.OVERSTATED if claimed > derived else Verdict.UNDERSTATED)

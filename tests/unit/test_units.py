import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tcobench import units
from tcobench.errors import UnitError


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("3.35 TB/s", "B/s", 3.35e12),
        ("400 Gbit/s", "B/s", 5e10),  # bits are not bytes: 400 Gb/s is 50 GB/s
        ("400 Gb/s", "B/s", 5e10),
        ("4800 Gbps", "B/s", 6e11),
        ("900 GBps", "B/s", 9e11),
        ("141 GB", "B", 141e9),  # decimal prefixes are decimal
        ("32 GiB", "B", 32 * 2**30),  # binary only when the source says so
        ("700 W", "W", 700.0),
        ("10.2 kW", "W", 10200.0),
        ("989.4 TFLOP/s", "FLOP/s", 989.4e12),
        ("1978.9 TOPS", "FLOP/s", 1978.9e12),
        ("66.9 TFLOPS", "FLOP/s", 66.9e12),
        ("$2.49/h", "USD/h", 2.49),
        ("$2.49/h", "USD/s", 2.49 / 3600),
        ("$33,600", "USD", 33600.0),
        ("$0.10/kWh", "USD/J", 0.10 / 3.6e6),
        ("50 ms", "s", 0.05),
        ("1.2 Tbit/s", "B/s", 1.5e11),
    ],
)
def test_parse(text: str, unit: str, expected: float) -> None:
    assert units.parse(text, unit) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "unit", "fragment"),
    [
        ("80", "B", "has no unit"),
        ("80 GB/s", "B", "expected a quantity in B"),
        ("3 furlongs", "B", "cannot read"),
        ("700 W", "B/s", "expected a quantity in B/s"),
    ],
)
def test_bad_units_name_value_and_expectation(text: str, unit: str, fragment: str) -> None:
    with pytest.raises(UnitError, match=fragment) as err:
        units.parse(text, unit, where="my.toml: memory.capacity")
    assert "my.toml: memory.capacity" in str(err.value)
    assert repr(text) in str(err.value)


@given(st.floats(min_value=1e-6, max_value=1e18, allow_nan=False), st.sampled_from(["B", "B/s", "FLOP/s", "W"]))
def test_round_trip_through_text_is_exact_to_float_precision(value: float, unit: str) -> None:
    assert math.isclose(units.parse(f"{value!r} {unit}", unit), value, rel_tol=1e-12)


@pytest.mark.parametrize(("value", "unit", "text"), [(3.35e12, "B/s", "3.35 TB/s"), (5e10, "B/s", "50 GB/s"),
                                                      (0.0123, "s", "12.3 ms"), (700.0, "W", "700 W")])
def test_human(value: float, unit: str, text: str) -> None:
    assert units.human(value, unit) == text


def test_unknown_target_unit_is_a_unit_error() -> None:
    with pytest.raises(UnitError, match="unknown unit 'furlong'"):
        units.parse("1 GB", "furlong")


def test_hertz() -> None:
    assert units.parse("1 GHz", "1/s") == 1e9

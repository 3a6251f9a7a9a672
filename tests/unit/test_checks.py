"""checks.py: numbers, counts, dates, UTF-8 files and output files, each refused by name."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tcobench import checks
from tcobench.errors import InputError


@pytest.mark.parametrize(("value", "bounds", "fragment"), [
    (math.nan, {}, "not a finite number"), (math.inf, {"low": 0}, "not a finite number"),
    (True, {}, "not a number"), ("3", {}, "not a number"), (-1, {"low": 0}, "out of range; expected a finite number >= 0"),
    (0, {"low": 0, "low_open": True}, "> 0"), (1.5, {"low": 0, "high": 1}, "<= 1"), (10**400, {}, "not a finite number"),
])
def test_number_refuses_by_name(value: object, bounds: dict[str, object], fragment: str) -> None:
    with pytest.raises(InputError, match=fragment) as info:
        checks.number(value, "{qps}", **bounds)  # type: ignore[arg-type]
    assert info.value.params == ("qps",) and str(info.value).startswith("qps ")


@pytest.mark.parametrize("value", [True, 1.0, "1", -1, 0, checks.MAX_COUNT + 1, 10**5000],
                         ids=["bool", "float", "text", "negative", "zero", "past-max", "5001-digits"])
def test_count_refuses_what_is_not_a_whole_number_in_range(value: object) -> None:
    with pytest.raises(InputError, match="tp"):
        checks.count(value, "{tp}")


@pytest.mark.parametrize("text", ["６４", "1_000", "1e3", "0x10", " ", "-3", "٣"])
def test_count_text_is_ascii_digits(text: str) -> None:
    with pytest.raises(InputError, match="--tp"):
        checks.parse_count(text, "--tp")


@pytest.mark.parametrize("text", ["nan", "inf", "Infinity", "０.５", "1,5", "", "1e999"])
def test_number_text_is_an_ascii_finite_decimal(text: str) -> None:
    with pytest.raises(InputError, match="--qps"):
        checks.parse_number(text, "--qps", low=0.0, low_open=True)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, checks.MAX_COUNT))
def test_count_round_trip(n: int) -> None:
    assert checks.parse_count(str(n), "--x") == n


def test_only_a_leading_name_is_a_parameter() -> None:
    with pytest.raises(InputError) as info:
        checks.count(0, "{rate} '1,{x}': item")
    assert info.value.params == ("rate",) and "{x}" in info.value.render({"rate": "--rate"})


def test_decode_names_file_byte_offset_and_line(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_bytes(b'a = 1\nb = "\xff"\n')
    with pytest.raises(InputError, match=r"x.toml' is not UTF-8 text: byte 0xff at offset 11 \(line 2\)"):
        checks.read_text(path, "catalog file")
    path.write_bytes("\ufeffa = 1".encode())
    assert checks.read_text(path) == "a = 1"  # a byte-order mark is dropped


def test_open_output_makes_the_folder_or_names_it(tmp_path: Path) -> None:
    with checks.open_output(tmp_path / "new" / "deeper" / "out.csv", "{output}") as fh:
        fh.write("x")
    assert (tmp_path / "new" / "deeper" / "out.csv").read_text() == "x"
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="cannot create its folder") as info:
        checks.open_output(tmp_path / "file" / "out.csv", "{output}")
    assert info.value.params == ("output",)

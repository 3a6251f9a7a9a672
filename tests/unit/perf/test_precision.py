"""The model's bytes per element follow catalog/formats.py's list: the same formats but fp64, in its order."""

from __future__ import annotations

import pytest

from tcobench.catalog.formats import PRECISIONS
from tcobench.errors import InputError
from tcobench.perf.precision import BYTES, check

SERVED = "fp32, tf32, bf16, fp16, fp8, int8, fp6, fp4, int4"


def test_bytes_cover_the_catalog_formats_but_fp64_in_their_order() -> None:
    assert list(BYTES) == [p for p in PRECISIONS if p != "fp64"]
    assert ", ".join(BYTES) == SERVED


def test_bytes_per_element_include_the_block_scales() -> None:
    assert BYTES == {"fp32": 4.0, "tf32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "fp6": 0.78125,
                     "fp4": 0.5625, "int4": 0.5}


@pytest.mark.parametrize("name", ["fp128", "fp64"])
def test_an_unknown_format_lists_the_formats_in_order(name: str) -> None:
    with pytest.raises(InputError) as info:
        check(name, "precision")
    assert str(info.value).startswith(f"precision '{name}' is not a precision; expected one of {SERVED};")


def test_the_cli_offers_the_same_formats_in_the_same_order(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("predict", "--help")
    assert r.code == 0, r.err
    assert f"--precision [{SERVED.replace(', ', '|')}]" in r.out

"""The one list of number formats: names, widths and block scales agree, and the catalog's fields take exactly them."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import ValidationError

from tcobench.catalog.formats import BLOCK_SCALE_BITS, ELEMENT_BITS, PRECISIONS, Precision, storage_bytes
from tcobench.catalog.schema import Efficiency, Hardware


def test_the_names_are_written_once_in_order() -> None:
    assert PRECISIONS == ("fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp6", "fp4", "int4")
    assert PRECISIONS == get_args(Precision)


def test_every_format_has_a_width_and_the_widths_follow_the_names_order() -> None:
    # a format added to Precision without a width, or a width out of the names' order, fails here
    assert tuple(ELEMENT_BITS) == PRECISIONS


def test_block_scales_belong_to_listed_formats() -> None:
    assert set(BLOCK_SCALE_BITS) <= set(PRECISIONS)


@pytest.mark.parametrize(("name", "expected"), [
    ("fp64", 8.0), ("fp32", 4.0), ("tf32", 4.0), ("bf16", 2.0), ("fp16", 2.0), ("fp8", 1.0), ("int8", 1.0),
    ("fp6", 0.78125),  # MXFP6: 6 bits + one 8-bit scale per 32
    ("fp4", 0.5625),  # NVFP4: 4 bits + one 8-bit scale per 16
    ("int4", 0.5),
])
def test_storage_bytes_count_the_block_scales(name: Precision, expected: float) -> None:
    assert storage_bytes(name) == expected


def _peak(name: str) -> dict[str, Any]:
    return {name: {"value": "1 PFLOP/s", "source": "s"}}


@pytest.mark.parametrize("name", PRECISIONS)
def test_the_catalog_fields_take_every_format(name: str) -> None:
    hw = Hardware.model_validate({"id": "x", "name": "X", "vendor": "v", "kind": "gpu", "peak_dense": _peak(name)})
    assert list(hw.peak_dense) == [name]
    assert list(Efficiency.model_validate({"compute_at": {name: {"value": 0.5, "source": "s"}}}).compute_at) == [name]


def test_a_field_refuses_a_name_not_in_the_list() -> None:
    with pytest.raises(ValidationError, match="fp128"):
        Hardware.model_validate({"id": "x", "name": "X", "vendor": "v", "kind": "gpu", "peak_dense": _peak("fp128")})

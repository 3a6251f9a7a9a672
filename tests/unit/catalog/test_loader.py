"""Catalog loading: user files, clear errors for malformed files and typo'd ids."""

from pathlib import Path

import pytest

from tcobench.catalog import load_catalog
from tcobench.catalog.loader import lint
from tcobench.errors import CatalogError, UnknownIdError

CHIP = """
[source.my-design-doc]
title = "Our design review, rev 3"

[hardware.hypo-1]
name = "Hypothetical chip"
vendor = "Us"
kind = "asic"

[hardware.hypo-1.peak_dense]
bf16 = { value = "2 PFLOP/s", source = "my-design-doc" }

[hardware.hypo-1.memory]
capacity = { value = "256 GB", source = "my-design-doc" }
bandwidth = { value = "12 TB/s", source = "my-design-doc" }

[hardware.hypo-1.scale_up]
bandwidth = { value = "1.6 Tbit/s", direction = "bidirectional", source = "my-design-doc" }
"""


def write(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_user_hardware_file_is_merged_and_converted(tmp_path: Path) -> None:
    cat = load_catalog([write(tmp_path, CHIP)])
    hw = cat.get_hardware("hypo-1")
    assert hw.peak("bf16").value == 2e15
    assert hw.memory.capacity.value == 256e9
    # 1.6 Tbit/s bidirectional = 200 GB/s total = 100 GB/s per direction; the convention is kept
    assert hw.scale_up.bandwidth.value == pytest.approx(1e11)
    assert hw.scale_up.bandwidth.direction == "bidirectional"
    assert "h100-sxm" in cat.hardware  # the shipped catalog is still there


def test_environment_variable_adds_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, CHIP)
    monkeypatch.setenv("TCOBENCH_CATALOG", str(tmp_path))
    assert "hypo-1" in load_catalog().hardware


def test_hardware_by_path(tmp_path: Path) -> None:
    p = write(tmp_path, CHIP)
    assert load_catalog().hardware_ref(str(p)).id == "hypo-1"


def test_unknown_id_suggests_close_match() -> None:
    with pytest.raises(UnknownIdError) as err:
        load_catalog().get_hardware("h100sxm", where="--hardware")
    assert str(err.value) == "unknown hardware 'h100sxm' in --hardware; did you mean 'h100-sxm'?"
    assert err.value.exit_code == 2


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('capacity = { value = "256 GB"', 'capacity = { value = "256 GB/s"', ["hypo-1.memory.capacity", "'256 GB/s'", "expected a quantity in B"]),
        ('capacity = { value = "256 GB"', 'capcity = { value = "256 GB"', ["hypo-1.memory.capcity", "did you mean 'capacity'"]),
        ('bf16 = { value = "2 PFLOP/s", source = "my-design-doc" }', 'bf16 = { value = "2 PFLOP/s", source = "my-desing-doc" }',
         ["hypo-1.peak_dense.bf16", "'my-desing-doc' is not defined", "did you mean 'my-design-doc'"]),
        ('direction = "bidirectional", ', "", ["hypo-1.scale_up.bandwidth", "needs direction"]),
        ('kind = "asic"', 'kind = "chip"', ["hypo-1.kind", "'chip'"]),
        ('bandwidth = { value = "12 TB/s"', 'bandwidth = { value = 12', ["hypo-1.memory.bandwidth", "has no unit", "B/s"]),
    ],
)
def test_malformed_file_names_file_key_value_and_expectation(tmp_path: Path, old: str, new: str, expected: list[str]) -> None:
    assert old in CHIP
    p = write(tmp_path, CHIP.replace(old, new))
    with pytest.raises(CatalogError) as err:
        load_catalog([p])
    msg = str(err.value)
    assert str(p) in msg
    for fragment in expected:
        assert fragment in msg


def test_invalid_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    p = write(tmp_path, "[hardware.x\nname=1")
    with pytest.raises(CatalogError, match="not valid TOML"):
        load_catalog([p])


def test_dotted_id_gets_a_quoting_hint(tmp_path: Path) -> None:
    p = write(tmp_path, '[model.my-1.5b]\nname = "x"\n')
    _, problems = lint([p])
    assert any('quote the id: [model."my-1.5b"]' in x for x in problems)


def test_duplicate_id_is_an_error(tmp_path: Path) -> None:
    p = write(tmp_path, CHIP.replace("hypo-1", "h100-sxm").replace("[source.my-design-doc]", "[source.my-doc-2]").replace("my-design-doc", "my-doc-2"))
    with pytest.raises(CatalogError, match="defined twice"):
        load_catalog([p])


def test_lint_collects_every_problem(tmp_path: Path) -> None:
    p = write(tmp_path, CHIP.replace('"256 GB"', '"256 furlongs"').replace('kind = "asic"', 'kind = "chip"'))
    _, problems = lint([p])
    assert len(problems) == 2


def test_shipped_catalog_lints_clean() -> None:
    _, problems = lint([])
    assert problems == []


def test_price_needs_a_date(tmp_path: Path) -> None:
    p = write(tmp_path, CHIP + '\n[hardware.hypo-1.price]\npurchase = { value = "$10000", source = "my-design-doc" }\n')
    with pytest.raises(CatalogError, match="needs a 'date'"):
        load_catalog([p])


def test_a_user_runtime_is_checked_like_any_record(tmp_path: Path) -> None:
    good = '[source.k]\ntitle = "kernel code"\n[runtime.my-stack]\nname = "ours"\ndecode_attention = "per-query-head"\nsource = "k"\n'
    cat = load_catalog([write(tmp_path, good)])
    assert cat.get_runtime("my-stack").decode_attention == "per-query-head"
    _, problems = lint([write(tmp_path, good.replace('"per-query-head"', '"per-query"'), "bad.toml")])
    assert any("runtime.my-stack.decode_attention = 'per-query'" in p and "per-kv-head" in p for p in problems), problems
    _, problems = lint([write(tmp_path, good.replace('source = "k"', 'source = "kk"'), "bad2.toml")])
    assert any("runtime.my-stack.source: source 'kk' is not defined" in p and "did you mean 'k'" in p for p in problems), problems
    sixteen = good.replace('source = "k"\n', 'source = "k"\ncontext_attention = "16-bit"\ncontext_attention_source = "kx"\n')
    _, problems = lint([write(tmp_path, sixteen, "bad3.toml")])
    assert any("runtime.my-stack.context_attention_source: source 'kx' is not defined" in p for p in problems), problems
    assert load_catalog([write(tmp_path, sixteen.replace('"kx"', '"k"'), "ok.toml")]).get_runtime("my-stack").context_attention == "16-bit"

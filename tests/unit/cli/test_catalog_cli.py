"""The catalog commands as a user runs them."""

import json
from pathlib import Path

import pytest

HARDWARE = ("a100-sxm-40gb a100-sxm-80gb h100-sxm h100-pcie h200-sxm b200 gb200 gb300 l40s rtx-4090 mi250x mi300x mi325x mi355x "
            "tpu-v4 tpu-v5e tpu-v5p tpu-v6e tpu-v7 gaudi2 gaudi3 cs-2 cs-3 gc200 groq-lpu inferentia2 trainium2").split()
SYSTEMS = "dgx-a100 dgx-h100 hgx-h200 dgx-b200 gb200-nvl72 mi300x-platform ipu-pod16 ipu-pod64 andromeda".split()


def test_list_hardware_json_has_every_required_id(cli) -> None:
    r = cli("catalog", "list", "hardware", "--json")
    assert r.code == 0, r.err
    ids = {row["id"] for row in json.loads(r.out)}
    assert set(HARDWARE) <= ids


def test_list_systems_json_has_every_required_id(cli) -> None:
    r = cli("catalog", "list", "systems", "--json")
    assert r.code == 0, r.err
    assert set(SYSTEMS) <= {row["id"] for row in json.loads(r.out)}


def test_show_prints_every_figure_with_unit_and_source(cli) -> None:
    r = cli("catalog", "show", "h100-sxm", "--json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    bw = doc["figures"]["memory.bandwidth"]
    assert bw["value"] == pytest.approx(3.35e12) and bw["unit"] == "B/s" and bw["source"]
    assert all(f["source"] for f in doc["figures"].values())
    assert {s["id"] for s in doc["sources"]} >= {f["source"] for f in doc["figures"].values()}
    text = cli("catalog", "show", "H100-SXM")  # lookups are case-insensitive
    assert text.code == 0 and "memory.bandwidth" in text.out


def test_typo_in_id_is_one_line_with_suggestion_and_exit_2(cli) -> None:
    r = cli("catalog", "show", "h100sxm")
    assert r.code == 2
    assert r.err.strip() == "UnknownIdError: unknown catalog id 'h100sxm' in catalog show; did you mean 'h100-sxm'?"
    assert "Traceback" not in r.err


def test_show_model_has_derived_params(cli) -> None:
    doc = json.loads(cli("catalog", "show", "mixtral-8x7b", "--json").out)
    assert doc["attributes"]["derived_params"] == pytest.approx(4.67e10, rel=0.005)
    assert doc["figures"]["published_params"]["source"] == "mixtral-paper"


def test_lint_broken_user_file(cli, tmp_path: Path) -> None:
    bad = tmp_path / "chip.toml"
    bad.write_text('[source.doc]\ntitle = "x"\n[hardware.chip]\nname = "c"\nvendor = "v"\nkind = "gpu"\n'
                   '[hardware.chip.memory]\nbandwidth = { value = "3 TB", source = "doc" }\n')
    r = cli("catalog", "lint", str(bad))
    assert r.code == 2
    assert f"{bad}: hardware.chip.memory.bandwidth" in r.err and "'3 TB'" in r.err and "B/s" in r.err


def test_lint_good_user_file(cli, tmp_path: Path) -> None:
    ok = tmp_path / "chip.toml"
    ok.write_text('[source.doc]\ntitle = "x"\n[hardware.chip]\nname = "c"\nvendor = "v"\nkind = "gpu"\n')
    r = cli("catalog", "lint", str(ok))
    assert r.code == 0 and r.out.startswith("ok:")


def test_broken_catalog_via_flag_stops_other_commands_with_the_message(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[hardware.chip]\nname = "c"\nvendor = "v"\nkind = "gpu"\nreleased = "soon"\n')
    r = cli("--catalog", str(bad), "catalog", "list")
    assert r.code == 2 and r.err.startswith("CatalogError: ") and "hardware.chip.released" in r.err


def test_unknown_command_suggests(cli) -> None:
    r = cli("catalogue")
    assert r.code == 2 and "did you mean 'catalog'" in r.err


def test_module_entry_point_runs() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "tcobench", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("tcobench, version ")


def test_choice_typo_suggests_the_closest_choice(cli) -> None:
    r = cli("catalog", "list", "runtime")
    assert r.code == 2 and "'runtime' is not one of" in r.err and "did you mean 'runtimes'?" in r.err
    r = cli("predict", "--model", "llama-2-7b", "--hardware", "h100-sxm", "--precision", "fp9")
    assert r.code == 2 and "'--precision'" in r.err and "did you mean 'fp8'" in r.err
    r = cli("catalog", "list", "zzz")  # nothing close: click's own message, no empty hint
    assert r.code == 2 and "did you mean" not in r.err

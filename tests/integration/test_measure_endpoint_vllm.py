"""``tcobench measure --endpoint``: vLLM's CPU build serving the tiny model, measured through bench, saved as
measure records that ``calibrate`` fits and an audit claim cites (issue 22, items 2 and 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.servers.vllm import MODEL_NAME

pytestmark = pytest.mark.server


def test_measure_endpoint_saves_records_that_calibrate_and_audit_use(vllm_server: object, tmp_path: Path) -> None:
    from tcobench.cli.main import cli

    db = str(tmp_path / "runs.sqlite")
    model_dir = str(vllm_server.model_dir)  # type: ignore[attr-defined]

    def run(*args: str) -> tuple[int, str, str]:
        got = CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)
        return got.exit_code, got.stdout, got.stderr

    code, out, err = run("measure", "--endpoint", vllm_server.url, "--served-model", MODEL_NAME,  # type: ignore[attr-defined]
                         "--model", model_dir, "--precision", "fp32", "--batch", "1,2,4", "--context", "32",
                         "--prefill", "16,64", "--requests", "8", "--output-len", "32", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["run_id"] == 1 and doc["device"]["kind"] == "endpoint" and doc["precision"] == "fp32"
    phases = [(r["phase"], r["batch"]) for r in doc["records"]]
    assert phases[:2] == [("prefill", 1), ("prefill", 1)]
    # a decode level is a record, or (when vLLM's API process sent every request's tokens in bursts) a note saying so
    decoded = {b for p, b in phases if p == "decode"}
    noted = {b for b in (1, 2, 4) for note in doc["device"]["skipped"] if note.startswith(f"decode at concurrency {b}:")}
    assert decoded | noted == {1, 2, 4} and decoded, doc["device"]["skipped"]
    prefills = [r for r in doc["records"] if r["phase"] == "prefill"]
    assert prefills[0]["input_len"] < prefills[1]["input_len"]  # the prompt tokens the server counted
    assert all(r["seconds"] > 0 and r["high_s"] >= r["seconds"] and r["reps"] >= 1 for r in doc["records"])
    assert all(r["reps"] >= 4 for r in prefills)  # TTFT: every request; TPOT: those that streamed (device.skipped)

    code, out, err = run("probe", "--quick", "--threads", "1", "-o", str(tmp_path / "cpu.toml"), "--id", "served-cpu")
    assert code == 0, err
    code, out, err = run("calibrate", "--run", "1", "--hardware", str(tmp_path / "cpu.toml"), "--holdout", "0",
                         "-o", str(tmp_path / "cal.toml"), "--json")
    assert code == 0, err
    fitted = json.loads(out)
    assert fitted["fit"]["after"]["median_abs_error"] <= fitted["fit"]["before"]["median_abs_error"]

    claims = tmp_path / "claims.toml"
    claims.write_text('[source.t]\ntitle = "t"\n[claim.served-decode]\nstatement = "s"\nsource = "t"\n'
                      'date = "2026-12"\nkind = "measured"\nclaimed = 1\nunit = "ms"\nprecision = "fp32"\n'
                      f'hardware = "{tmp_path / "cal.toml"}"\n'
                      f'measured = {{ run = 1, metric = "tpot_s", batch = {max(decoded)} }}\n')
    code, out, err = run("audit", str(claims), "--json")
    assert code == 0, err
    got = json.loads(out)["claims"][0]
    last = [r for r in doc["records"] if r["phase"] == "decode" and r["batch"] == max(decoded)][0]
    assert got["derived_value"] == pytest.approx(last["seconds"] * 1e3)
    assert got["predicted_value"] is not None and got["predicted_value"] > 0

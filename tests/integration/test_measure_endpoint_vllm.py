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
    assert decoded | noted == {1, 2, 4}, doc["device"]["skipped"]
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
                      f'measured = {{ run = 1, metric = "ttft_s", tokens = {prefills[1]["input_len"]} }}\n')
    code, out, err = run("audit", str(claims), "--json")
    assert code == 0, err
    got = json.loads(out)["claims"][0]
    assert got["derived_value"] == pytest.approx(prefills[1]["seconds"] * 1e3)
    assert got["predicted_value"] is not None and got["predicted_value"] > 0


def test_a_claim_cites_a_saved_bench_level_and_compare_puts_it_beside_the_prediction(
        vllm_server: object, bench_cli: object, tmp_path: Path) -> None:
    from tcobench.cli.main import cli

    model_dir = str(vllm_server.model_dir)  # type: ignore[attr-defined]
    shown = bench_cli("--url", vllm_server.url, "--model", MODEL_NAME, "--api", "completions",  # type: ignore[operator, attr-defined]
                      "--concurrency", "1,2", "--num-requests", "6", "--input-len", "32", "--output-len", "16",
                      "--warmup", "1", "--quiet", "--json")
    assert shown.exit_code == 0, shown.stderr
    bench = json.loads(shown.stdout)
    db = str(shown.db)
    level = next(lv for lv in bench["levels"] if lv["concurrency"] == 2)
    claims = tmp_path / "claims.toml"
    claims.write_text('[source.t]\ntitle = "t"\n'
                      '[claim.served-ttft]\nstatement = "s"\nsource = "t"\ndate = "2026-12"\nkind = "measured"\n'
                      f'claimed = {level["ttft_s"]["p90"] * 1e3!r}\nunit = "ms"\nprecision = "fp32"\nmodel = "{model_dir}"\n'
                      'hardware = "h100-sxm"\n'
                      f'measured = {{ run = {bench["run_id"]}, metric = "ttft_s", concurrency = 2, stat = "p90" }}\n'
                      '[claim.served-rate]\nstatement = "s"\nsource = "t"\ndate = "2026-12"\nkind = "measured"\n'
                      'claimed = 1e6\nunit = "token/s"\n'
                      f'measured = {{ run = {bench["run_id"]}, metric = "output_tokens_per_s", concurrency = 1 }}\n'
                      '[claim.no-level]\nstatement = "s"\nsource = "t"\ndate = "2026-12"\nkind = "measured"\n'
                      'claimed = 1\nunit = "ms"\n'
                      f'measured = {{ run = {bench["run_id"]}, metric = "tpot_s", concurrency = 3 }}\n')

    def run(*args: str) -> tuple[int, str, str]:
        got = CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)
        return got.exit_code, got.stdout, got.stderr

    code, out, err = run("audit", str(claims), "--json")
    assert code == 2  # no-level: the run has no level at concurrency 3
    assert "claim.no-level.measured.concurrency: bench run" in err and "its levels: concurrency 1, concurrency 2" in err
    got = {c["id"]: c for c in json.loads(out)["claims"]}
    assert got["served-ttft"]["verdict"] == "consistent"  # the claim is the level's own p90
    assert got["served-ttft"]["derived_value"] == pytest.approx(level["ttft_s"]["p90"] * 1e3)
    assert got["served-ttft"]["predicted_value"] > 0  # perf's TTFT for that load on an H100, beside it
    one = next(lv for lv in bench["levels"] if lv["concurrency"] == 1)
    assert got["served-rate"]["verdict"] == "overstated"
    assert got["served-rate"]["derived_value"] == pytest.approx(one["output_tokens_per_s"])

    code, out, err = run("compare", "--measured", str(bench["run_id"]), "--model", model_dir, "--hardware", "h100-sxm",
                         "--precision", "fp32", "--json")
    assert code == 0, err
    doc = json.loads(out)
    rows = doc["rows"]
    # a level's TPOT p50 of 0 (vLLM sent its requests' tokens in one burst) is left out, saying why
    shown = [(r["what"], r["metric"]) for r in rows]
    assert len(shown) + len(doc["left_out"]) == 4 and all("TPOT p50 of 0" in n for n in doc["left_out"])
    assert shown[:1] == [("level concurrency 1", "ttft_s")] and ("level concurrency 2", "ttft_s") in shown
    rows = [r for r in rows if r["metric"] == "ttft_s"]
    assert rows[1]["measured"] == pytest.approx(level["ttft_s"]["p50"]) and rows[1]["predicted"]["h100-sxm"] > 0
    assert rows[1]["predicted_over_measured"]["h100-sxm"] == pytest.approx(rows[1]["predicted"]["h100-sxm"] / rows[1]["measured"])

"""``tcobench audit`` as a user runs it: table, JSON, explain, save, and user claim files with errors."""

from __future__ import annotations

import json
from pathlib import Path

from tcobench.store import Store

SEED_IDS = ["seed-deepspeed-175b-throughput", "seed-tco-per-1k-tokens", "seed-chiplet-cloud-94x",
            "seed-18-tok-s-utilization", "seed-palm-table-d4", "seed-andromeda-vs-h100-pod", "seed-weight-reuse",
            "seed-cs2-stream-10tb", "seed-infiniband-vs-hbm", "seed-graphcore-pod16-perf-per-dollar", "seed-4090-vs-a100"]
KEYS = {"id", "statement", "verdict", "claimed_value", "derived_value", "unit", "ratio", "trace"}
VERDICTS = {"consistent", "overstated", "understated", "unit-mismatch", "precision-mismatch", "unverifiable"}

USER = '''
[source.mine]
title = "my notes"

[claim.my-good]
statement = "400 Gb/s is 50 GB/s"
source = "mine"
date = "2024"
kind = "bandwidth"
claimed = 50
unit = "GB/s"
hardware = "h100-sxm"
link = "scale_out"

[claim.my-typo]
statement = "x"
source = "mine"
date = "2024"
kind = "bandwidth"
claimed = 50
unit = "GB/s"
hardwre = "h100-sxm"
'''


def test_json_has_every_seed_claim_with_the_required_keys(cli) -> None:
    r = cli("audit", "--json")
    assert r.code == 0, r.err
    claims = {c["id"]: c for c in json.loads(r.out)["claims"]}
    assert set(SEED_IDS) <= set(claims)
    for c in claims.values():
        assert KEYS <= set(c) and c["verdict"] in VERDICTS
    tco = claims["seed-tco-per-1k-tokens"]
    assert tco["unit"] == "USD/ktoken" and abs(tco["derived_value"] - 0.0013165) < 1e-6  # in the claim's own unit
    step = tco["trace"][0]
    assert {"formula", "inputs", "result"} <= set(step)
    assert all({"value", "unit", "source"} <= set(v) for v in step["inputs"])
    assert claims["seed-chiplet-cloud-94x"]["verdict"] == "overstated"
    assert claims["seed-andromeda-vs-h100-pod"]["verdict"] == "precision-mismatch"
    assert claims["seed-infiniband-vs-hbm"]["verdict"] == "unit-mismatch"


def test_table_and_summary(cli) -> None:
    r = cli("audit")
    assert r.code == 0, r.err
    assert "seed-palm-table-d4" in r.out and "precision-mismatch" in r.out
    summary = [line for line in r.out.splitlines() if line.startswith("verdicts:")]
    assert summary and "consistent" in summary[0] and "overstated" in summary[0]


def test_explain_one_claim(cli) -> None:
    r = cli("audit", "--explain", "seed-cs2-stream-10tb")
    assert r.code == 0, r.err
    assert "time = bytes / bandwidth" in r.out
    assert "argonne-sc24-ai-accelerators-tutorial" in r.out  # the catalog source of the CS-2 I/O figure
    assert "claim input" in r.out and "verdict: overstated" in r.out


def test_explain_unknown_id_suggests(cli) -> None:
    r = cli("audit", "--explain", "seed-weight-reus")
    assert r.code == 2
    assert "did you mean 'seed-weight-reuse'?" in r.err and "Traceback" not in r.err


def test_user_file_bad_claim_does_not_stop_the_good_one(cli, tmp_path: Path) -> None:
    f = tmp_path / "mine.toml"
    f.write_text(USER)
    r = cli("audit", str(f), "--json")
    assert r.code == 2
    claims = {c["id"]: c for c in json.loads(r.out)["claims"]}
    assert claims["my-good"]["verdict"] == "consistent"
    assert claims["my-typo"]["verdict"] == "unverifiable" and "did you mean 'hardware'?" in claims["my-typo"]["error"]
    assert "claim.my-typo.hardwre: unknown key; did you mean 'hardware'?" in r.err
    assert "seed-tco-per-1k-tokens" not in claims  # only the user's claims are reported


def test_save_stores_a_claimed_run(cli, tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite"
    r = cli("--db", str(db), "audit", "--save")
    assert r.code == 0, r.err
    assert "saved run" in r.out
    runs = Store.open(str(db)).list(command="audit")
    assert len(runs) == 1 and runs[0].provenance == "claimed"
    assert {c["id"] for c in runs[0].outputs["claims"]} >= set(SEED_IDS)

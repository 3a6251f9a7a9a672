"""compare / plan / sweep as a user runs them: the JSON row keys, errors, files."""

import csv
import json
from pathlib import Path

ROW_KEYS = set(("hardware deployment ttft_s tpot_s interactivity_tokens_per_s output_tokens_per_s_per_chip usd_per_hour_own "
                "usd_per_hour_rent usd_per_1m_output_tokens_own usd_per_1m_output_tokens_rent tokens_per_kwh "
                "excluded_reason").split())
COSTS = ("usd_per_hour_own", "usd_per_hour_rent", "usd_per_1m_output_tokens_own", "usd_per_1m_output_tokens_rent")


def test_compare_json_has_the_row_keys_and_ranges(cli) -> None:
    r = cli("compare", "--model", "llama-3.1-70b", "--hardware", "h100-sxm,h200-sxm,b200,mi300x,tpu-v5p,gaudi3",
            "--workload", "chat", "--slo-tpot", "50ms", "--basis", "both", "--json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["evaluated"] > 1000 and len(doc["rows"]) == 6
    for row in doc["rows"]:
        assert ROW_KEYS <= set(row), ROW_KEYS - set(row)
        assert set(row["deployment"]) == {"chips", "tp", "pp", "ep", "batch", "precision", "runtime"}
        assert row["tpot_s"] <= 0.05
        for key in COSTS:
            if row[key] is not None:
                assert row[key + "_low"] <= row[key] <= row[key + "_high"]
    h100 = next(x for x in doc["rows"] if x["hardware"] == "h100-sxm")
    assert h100["usd_per_1m_output_tokens_own"] and h100["usd_per_1m_output_tokens_rent"]
    assert h100["usd_per_1m_output_tokens_rent_high"] > h100["usd_per_1m_output_tokens_rent_low"]  # two AWS offers


def test_compare_table_and_a_typo(cli) -> None:
    r = cli("compare", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--input-len", "512", "--output-len", "128")
    assert r.code == 0, r.err
    assert "h100-sxm" in r.out and "$/1M out (own)" in r.out
    r = cli("compare", "--model", "llama-3.1-8b", "--hardware", "h100sxm", "--workload", "chat")
    assert r.code == 2 and "did you mean 'h100-sxm'" in r.err
    r = cli("compare", "--model", "llama-3.1-8b", "--workload", "chatt")
    assert r.code == 2 and "did you mean 'chat'" in r.err
    r = cli("compare", "--model", "llama-3.1-8b", "--hardware", "h100-sxm")
    assert r.code == 2 and "--workload" in r.err


def test_price_hour_and_pinned_pue_change_the_costs(cli) -> None:
    base = json.loads(cli("compare", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--workload", "chat",
                          "--json").out)["rows"][0]
    r = cli("compare", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--workload", "chat", "--price-hour", "1",
            "--pue", "2.0", "--json")
    row = json.loads(r.out)["rows"][0]
    assert row["usd_per_hour_rent"] == row["usd_per_hour_rent_low"] == row["usd_per_hour_rent_high"]
    assert row["usd_per_hour_rent"] == base["deployment"]["chips"] * 1.0
    assert row["usd_per_hour_own"] > base["usd_per_hour_own"]
    assert cli("compare", "--model", "llama-3.1-8b", "--workload", "chat", "--electricity", "12 cents").code == 2


def test_plan_json(cli) -> None:
    r = cli("plan", "--model", "llama-3.1-8b", "--qps", "200", "--input-len", "1000", "--output-len", "500",
            "--slo-tpot", "40ms", "--hardware", "h100-sxm,mi300x,h200-sxm", "--json")
    assert r.code == 0, r.err
    rows = json.loads(r.out)["rows"]
    served = [x for x in rows if x["usd_per_month"] is not None]
    assert [x["usd_per_month"] for x in served] == sorted(x["usd_per_month"] for x in served)
    assert all(0 < x["utilisation"] <= 1 for x in served)


def test_sweep_json_and_csv(cli, tmp_path: Path) -> None:
    out = tmp_path / "all.csv"
    r = cli("sweep", "--model", "llama-3.1-8b", "--hardware", "h100-sxm,mi300x", "--tp", "1,2", "--batch", "1:32",
            "--input-len", "128:1024:x2", "--output", str(out), "--json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["evaluated"] == 2 * 2 * 2 * 32 * 4  # hardware x precision x tp x batch x input
    with out.open() as fh:
        assert sum(1 for _ in csv.reader(fh)) == doc["evaluated"] + 1
    assert len(doc["top"]) == 10
    r = cli("sweep", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--output", str(tmp_path / "x.txt"))
    assert r.code == 2 and ".csv or .parquet" in r.err

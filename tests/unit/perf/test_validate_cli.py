"""`tcobench validate` reports every row with its error and a summary that follows from the rows."""

import json
import statistics


def test_validate_json_rows_and_summary_agree(cli) -> None:
    r = cli("validate", "--json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    errs = [abs(row["error"]) for row in doc["rows"] if row["error"] is not None]
    assert doc["summary"]["compared"] == len(errs) >= 15
    assert doc["summary"]["median_abs_error"] == statistics.median(errs)
    for row in doc["rows"]:
        if row["error"] is not None:
            assert row["predicted"] / row["published"] - 1 == row["error"]
        else:
            assert row["problem"]  # a row without a comparison says why
    phases = {row["phase"] for row in doc["rows"] if row["error"] is not None}
    assert {"prefill", "decode", "throughput"} <= phases


def test_validate_save(cli, tmp_path) -> None:
    db = str(tmp_path / "runs.sqlite")
    r = cli("--db", db, "validate", "--save")
    assert r.code == 0 and "saved as run 1" in r.err
    listed = json.loads(cli("--db", db, "runs", "list", "--json").out)
    assert listed[0]["command"] == "validate"


def test_a_row_with_an_unknown_runtime_is_reported_against_the_row(monkeypatch) -> None:
    from tcobench.catalog import load_catalog
    from tcobench.perf import validate

    rows = [validate.Row(id="r1", ref="X", model="llama-2-7b", hardware="h100-sxm", runtime="trtllm-06", published=1.0)]
    monkeypatch.setattr(validate, "load_rows", lambda: rows)
    (out,) = validate.run(load_catalog())
    assert out.predicted is None and "validation row r1" in out.problem and "'trtllm-0.6'" in out.problem

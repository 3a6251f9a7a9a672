"""Claims judged against a saved measurement (``kind = "measured"``): a real ``measure`` run (PyTorch on this CPU,
a tiny Llama-shaped model) saved in a SQLite store, cited by id from a claim file, audited through the Python API
and the command line, with the performance model's prediction for the same shape beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tcobench.records import Provenance, Run

TINY = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 256, "intermediate_size": 768,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64, "vocab_size": 2048,
        "max_position_embeddings": 2048, "hidden_act": "silu", "tie_word_embeddings": False}
HEAD = '[source.t]\ntitle = "test source"\n'


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A probed profile, and a measure run of two decode shapes and one prefill saved as run 1 of a SQLite store
    (a predict run as run 2, which holds no measurement)."""
    pytest.importorskip("torch")
    from tcobench.api.measured import measure, probe
    from tcobench.store import Store

    root = tmp_path_factory.mktemp("measured-claims")
    model = root / "tiny-test-llama"
    model.mkdir()
    (model / "config.json").write_text(json.dumps(TINY))
    profile = root / "cpu.toml"
    probe(device="cpu", output=profile, quick=True, hardware_id="test-cpu")
    result = measure(str(model), device="cpu", batch="1,4", context="64", prefill="32", budget=0.02, rounds=1,
                     threads=1)
    store = Store.open(str(root / "runs.sqlite"))
    run_id = store.save(result.to_run("test", {"model": str(model)}))
    store.save(Run(command="predict", provenance=Provenance.PREDICTED, inputs={}, outputs={}, tool_version="test"))
    records = {(r.phase, r.batch, r.input_len): r.seconds for r in result.records}
    return {"db": str(root / "runs.sqlite"), "run": run_id, "profile": str(profile), "model": str(model),
            "records": records}


def claim(cid: str, claimed: float, unit: str, measured: str, extra: str = "") -> str:
    return (f'\n[claim.{cid}]\nstatement = "s"\nsource = "t"\ndate = "2026-12"\nkind = "measured"\nclaimed = {claimed!r}\n'
            f'unit = "{unit}"\nmeasured = {{ {measured} }}\n{extra}')


def audit(tmp_path: Path, db: str, text: str) -> dict[str, Any]:
    import tcobench

    path = tmp_path / "claims.toml"
    path.write_text(HEAD + text)
    return {r.id: r for r in tcobench.audit(path, db=db).claims}


def test_a_claim_citing_a_saved_run_is_judged_against_the_measurement(saved: dict[str, Any], tmp_path: Path) -> None:
    tpot = saved["records"][("decode", 1, 64)]
    ms = tpot * 1e3
    text = (claim("same", round(ms, 6), "ms", f'run = {saved["run"]}, metric = "tpot_s", batch = 1, tokens = 64')
            + claim("double", round(2 * ms, 6), "ms", f'run = {saved["run"]}, metric = "tpot_s", batch = 1, tokens = 64')
            + claim("user", round(0.5 / tpot, 6), "token/s",
                    f'run = {saved["run"]}, metric = "tokens_per_s_per_user", batch = 1, tokens = 64'))
    got = audit(tmp_path, saved["db"], text)
    assert str(got["same"].verdict) == "consistent" and got["same"].derived_value == pytest.approx(ms)
    assert got["same"].reason == "within 10% of the measured value"
    assert str(got["double"].verdict) == "overstated" and got["double"].ratio == pytest.approx(2.0, rel=1e-5)
    assert str(got["user"].verdict) == "understated" and got["user"].derived_value == pytest.approx(1 / tpot)
    assert got["same"].predicted_value is None  # neither the claim nor the run names a hardware to predict on
    first = got["same"].trace[0].inputs[0]
    assert first.source == f"run {saved['run']}" and "decode batch 1 at context 64" in (first.ref or "")


def test_the_prediction_for_the_measured_shape_stands_beside_it(saved: dict[str, Any], tmp_path: Path) -> None:
    from tcobench.catalog import load_catalog
    from tcobench.perf import predict

    tpot4 = saved["records"][("decode", 4, 64)]
    ref = f'run = {saved["run"]}, metric = "output_tokens_per_s", batch = 4, tokens = 64'
    extra = f'hardware = "{saved["profile"]}"\nprecision = "fp32"\n'
    got = audit(tmp_path, saved["db"], claim("rate", 1.0, "token/s", ref, extra))["rate"]
    assert got.derived_value == pytest.approx(4 / tpot4)
    cat = load_catalog()
    p = predict(cat.model(saved["model"]), cat.hardware_ref(saved["profile"]), batch=4, input_len=64, output_len=2,
                precision="fp32", catalog=cat)
    assert got.predicted_value == pytest.approx(4 / p.tpot_s)
    ratio = [s for s in got.trace if s.formula == "measured / predicted"]
    assert ratio and ratio[0].context and ratio[0].result.value == pytest.approx(p.tpot_s / tpot4)
    assert not any(s.context for s in got.trace[:1])  # the measured value feeds the verdict, the prediction does not


def test_bad_citations_exit_2_naming_the_key_and_a_close_match(saved: dict[str, Any], tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    run = saved["run"]
    text = (claim("gone", 5, "ms", f'run = {run + 40}, metric = "tpot_s", batch = 1, tokens = 64')
            + claim("predicted", 5, "ms", f'run = {run + 1}, metric = "tpot_s"')
            + claim("typo", 5, "ms", f'run = {run}, metric = "tpot", batch = 1, tokens = 64')
            + claim("shape", 5, "ms", f'run = {run}, metric = "tpot_s", batch = 2'))
    path = tmp_path / "bad.toml"
    path.write_text(HEAD + text)
    out = cli("--db", saved["db"], "audit", str(path))
    assert out.code == 2
    lines = out.err.splitlines()
    assert f"InputError: claim.gone.measured.run = {run + 40}: no run with id {run + 40} in " in out.err
    assert any(line.startswith("InputError: claim.gone.") and f"did you mean {run} (measure" in line for line in lines)
    assert "claim.predicted.measured.run = 2: a 'predict' run holds no measurements" in out.err
    assert "claim.typo.measured.metric = 'tpot': a measure run has no such metric" in out.err
    assert "did you mean 'tpot_s'?" in out.err
    assert "claim.shape.measured: measure run 1" in out.err and "decode batch 4 at context 64" in out.err


def test_the_table_shows_claimed_measured_and_predicted_on_one_row(saved: dict[str, Any], tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    ref = f'run = {saved["run"]}, metric = "ttft_s", tokens = 32'
    path = tmp_path / "claims.toml"
    path.write_text(HEAD + claim("prefill", 1000.0, "ms", ref, f'hardware = "{saved["profile"]}"\nprecision = "fp32"\n'))
    out = cli("--db", saved["db"], "audit", str(path))
    assert out.code == 0, out.err
    header, row = out.out.splitlines()[:2]
    assert header.split()[:5] == ["id", "verdict", "claimed", "derived", "predicted"]
    assert row.split()[:2] == ["prefill", "overstated"]  # a second for 32 tokens on a 2-layer model: far above it
    doc = json.loads(cli("--db", saved["db"], "audit", str(path), "--json").out)["claims"][0]
    assert doc["derived_value"] == pytest.approx(saved["records"][("prefill", 1, 32)] * 1e3)
    assert doc["predicted_value"] > 0


def test_a_measured_claim_needs_its_run_and_only_it_cites_one(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "claims.toml"
    path.write_text(HEAD + '\n[claim.bare]\nstatement = "s"\nsource = "t"\ndate = "2026"\nkind = "measured"\n'
                    'claimed = 1\nunit = "ms"\n'
                    '\n[claim.cites]\nstatement = "s"\nsource = "t"\ndate = "2026"\nkind = "aggregate-peak"\n'
                    'claimed = 1\nunit = "TFLOP/s"\nhardware = "h100-sxm"\nmeasured = { run = 1, metric = "tpot_s" }\n')
    out = cli("audit", str(path))
    assert out.code == 2
    assert "claim.bare: kind 'measured' needs measured = { run = <id>" in out.err
    assert "claim.cites.measured: only kind 'measured' cites a saved run" in out.err
    assert not (tmp_path / "data" / "tcobench").exists()  # no claim cited a run: no store was opened


def test_side_by_side_puts_claimed_predicted_and_measured_on_one_row(saved: dict[str, Any], tmp_path: Path) -> None:
    import tcobench
    from tcobench.catalog import load_catalog
    from tcobench.claims.measured import Load, predict_load

    path = tmp_path / "claims.toml"
    path.write_text(HEAD + claim("fast", 1.0, "ms", f'run = {saved["run"]}, metric = "tpot_s", batch = 4, tokens = 64')
                    + claim("user", 100.0, "token/s", f'run = {saved["run"]}, metric = "tokens_per_s_per_user", '
                                                      'batch = 1, tokens = 64'))
    res = tcobench.side_by_side(saved["run"], saved["model"], [saved["profile"], "h100-sxm"], claims=path,
                                db=saved["db"])
    assert res.hardware == ("test-cpu", "h100-sxm") and res.precision == "fp32"
    rows = {(r.what, r.metric): r for r in res.rows}
    assert set(rows) == {("prefill of 32 tokens", "ttft_s"), ("decode batch 1 at context 64", "tpot_s"),
                         ("decode batch 4 at context 64", "tpot_s")}
    four = rows[("decode batch 4 at context 64", "tpot_s")]
    assert four.measured == pytest.approx(saved["records"][("decode", 4, 64)])
    cat = load_catalog()
    want = predict_load(cat.model(saved["model"]), cat.hardware_ref(saved["profile"]), Load(4, 64, 2), "tpot_s",
                        precision="fp32", catalog=cat)
    assert four.predicted[0] == pytest.approx(want) and four.ratios()[0] == pytest.approx(want / four.measured)
    assert four.claim == "fast" and four.claimed == pytest.approx(1e-3) and four.verdict in ("understated", "consistent")
    one = rows[("decode batch 1 at context 64", "tpot_s")]
    assert one.claim == "user" and one.claimed == pytest.approx(0.01)  # 100 tokens/s per user is a 10 ms TPOT
    assert rows[("prefill of 32 tokens", "ttft_s")].claim is None
    doc = res.to_dict()
    assert doc["rows"][0]["predicted"].keys() == {"test-cpu", "h100-sxm"}


def test_compare_measured_on_the_command_line(saved: dict[str, Any], cli) -> None:  # type: ignore[no-untyped-def]
    args = ("--db", saved["db"], "compare", "--measured", str(saved["run"]), "--model", saved["model"])
    out = cli(*args, "--hardware", saved["profile"])
    assert out.code == 0, out.err
    assert "test-cpu ms" in out.out and "ratio" in out.out and "decode 4 @ 64" in out.out
    assert cli(*args).code == 2  # no hardware to predict on
    gone = cli("--db", saved["db"], "compare", "--measured", "99", "--model", saved["model"], "--hardware", "h100-sxm")
    assert gone.code == 2 and f"did you mean {saved['run']} (measure" in gone.err and "--measured 99" in gone.err


def test_the_report_shows_measured_claims_beside_their_prediction(saved: dict[str, Any], tmp_path: Path,
                                                                   cli) -> None:  # type: ignore[no-untyped-def]
    from tcobench.catalog import load_catalog
    from tcobench.report.sections import audit as section
    from tcobench.store import Store

    path = tmp_path / "claims.toml"
    ref = f'run = {saved["run"]}, metric = "tpot_s", batch = 1, tokens = 64'
    path.write_text(HEAD + claim("beside", 2.0, "ms", ref, f'hardware = "{saved["profile"]}"\nprecision = "fp32"\n'))
    assert cli("--db", saved["db"], "audit", str(path), "--save").code == 0
    run = Store.open(saved["db"]).list(command="audit", limit=1)[0]
    built = section.build([run], load_catalog())
    assert built is not None
    tables = built.parts[0].tables
    assert len(tables) == 2 and tables[1].columns[:4] == ("id", "claimed", "predicted", "measured")
    row = tables[1].rows[0]
    assert row[0] == "beside" and row[3] == section.number(saved["records"][("decode", 1, 64)] * 1e3)
    assert row[2] != "–"  # predicted on the claim's hardware

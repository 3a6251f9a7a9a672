"""probe, measure and calibrate for real: PyTorch on this CPU, a tiny Llama-shaped model, small grids.

Nothing here checks a speed (benchmarks/calibrate_cpu.py does, outside the test run); the tests check what the
commands write, save and refuse, and that calibration improves held-out predictions.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tcobench.catalog import load_catalog

TINY = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 256, "intermediate_size": 768,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64, "vocab_size": 2048,
        "max_position_embeddings": 2048, "hidden_act": "silu", "tie_word_embeddings": False}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models") / "tiny-test-llama"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(TINY))
    return folder


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    from tcobench.api.measured import probe

    path = tmp_path_factory.mktemp("probe") / "cpu.toml"
    probe(device="cpu", output=path, quick=True, hardware_id="test-cpu")
    return path


@pytest.fixture(scope="module")
def measured(tiny: Path, profile: Path) -> Any:
    """One measure run over 12 shapes, as the store would hand it back."""
    from tcobench.api.measured import measure
    from tcobench.records import Run

    r = measure(str(tiny), device="cpu", batch="1,4,16", context="64,256", prefill="16,32,64,128,256,384",
                hardware=str(profile), budget=0.03, rounds=1)
    run = r.to_run("test", {"model": str(tiny), "hardware": str(profile)})
    return Run(**{**{k: getattr(run, k) for k in ("command", "provenance", "inputs", "outputs", "tool_version")}, "id": 1})


def test_probe_writes_a_hardware_file_the_catalog_loads_and_predict_uses(profile: Path, tiny: Path) -> None:
    cat = load_catalog()
    hw = cat.hardware_ref(str(profile))
    assert hw.id == "test-cpu" and hw.kind == "cpu"
    assert {"fp32", "bf16"} <= set(hw.peak_dense) and all(f.value > 0 for f in hw.peak_dense.values())
    assert hw.memory.bandwidth is not None and hw.memory.bandwidth.value > 0
    assert hw.memory.capacity is not None and hw.memory.capacity.value > 1e8
    eff = hw.efficiency
    assert eff.overhead is not None and 0 < eff.overhead.value < 1e-3
    assert all(0 < f.value <= 1 for f in [*eff.compute_at.values(), *eff.memory_at.values()])
    text = profile.read_text()
    assert "measured by tcobench probe" in text and "torch " in text  # provenance: tool, device, library, date
    from tcobench.perf import predict

    p = predict(cat.model(str(tiny)), hw, precision="fp32", input_len=64, output_len=8, catalog=cat)
    assert p.ttft_s > 0 and p.tpot_s > 0 and p.efficiency_sources["overhead"].startswith("hardware.test-cpu")


def test_measure_saves_measured_records(cli, tiny: Path, profile: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("measure", "--model", str(tiny), "--batch", "1,2", "--context", "32", "--prefill", "16", "--budget", "0.01",
            "--rounds", "1", "--hardware", str(profile), "--json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert [(x["phase"], x["batch"], x["input_len"]) for x in doc["records"]] == [
        ("prefill", 1, 16), ("decode", 1, 32), ("decode", 2, 32)]
    assert all(x["seconds"] > 0 and x["seconds"] <= x["median_s"] <= x["high_s"] and x["predicted_s"] > 0
               for x in doc["records"])
    shown = cli("runs", "show", str(doc["run_id"]), "--json")
    assert shown.code == 0, shown.err
    saved = json.loads(shown.out)
    assert saved["command"] == "measure" and saved["provenance"] == "measured"
    assert len(saved["outputs"]["records"]) == 3 and saved["outputs"]["model_spec"]["hidden"] == 256


def test_the_fit_predicts_through_perf_exactly_as_predict_does(measured: Any, profile: Path) -> None:
    from tcobench.api.measured import _problem
    from tcobench.catalog.schema import Model
    from tcobench.local.fit import get
    from tcobench.local.grid import Record
    from tcobench.perf import predict

    cat = load_catalog()
    model = Model.model_validate(measured.outputs["model_spec"])
    hw = cat.hardware_ref(str(profile))
    problem = _problem(cat, model, hw, "fp32")
    recs = [Record(**r) for r in ({k: v for k, v in x.items() if k != "predicted_s"} for x in measured.outputs["records"])]
    times = problem.times(get(problem.base, "fp32")[None, :], recs)[0]
    for rec, t in zip(recs, times, strict=True):
        p = predict(model, hw, batch=rec.batch if rec.phase == "decode" else 1, input_len=rec.input_len,
                    output_len=2 if rec.phase == "decode" else 1, precision="fp32", catalog=cat)
        assert t == pytest.approx(p.tpot_s if rec.phase == "decode" else p.ttft_s, rel=1e-12)


def test_calibration_improves_held_out_predictions(measured: Any, profile: Path, tmp_path: Path) -> None:
    from tcobench.api.measured import calibrate
    from tcobench.perf import predict

    out = tmp_path / "calibrated.toml"
    r = calibrate([measured], holdout=3, output=out)
    fit = r.fit_summary()
    assert fit["held_out"]["records"] == len(r.records) == 12
    # held out: each record predicted by a fit that never saw it, against the uncalibrated profile
    assert fit["held_out"]["median_abs_error"] < fit["before"]["median_abs_error"]
    assert fit["after"]["median_abs_error"] <= fit["before"]["median_abs_error"]
    assert any(abs(f.after / f.before - 1) > 0.01 for f in r.factors)
    # the written profile loads and predicts what the fit predicted (to the file's rounding)
    cat = load_catalog()
    hw = cat.hardware_ref(str(out))
    assert hw.id == "test-cpu-calibrated" and "tcobench calibrate" in out.read_text()
    model = cat.model(str(measured.inputs["model"]))
    for rec, after in list(zip(r.records, r.predicted_after, strict=True))[:: 4]:
        p = predict(model, hw, batch=rec.batch if rec.phase == "decode" else 1, input_len=rec.input_len,
                    output_len=2 if rec.phase == "decode" else 1, precision="fp32", catalog=cat)
        assert (p.tpot_s if rec.phase == "decode" else p.ttft_s) == pytest.approx(after, rel=0.01)


def test_a_factor_the_records_push_past_its_bound_is_said_to_be_at_the_limit(measured: Any, profile: Path) -> None:
    """Records 1,000x faster than any factor within its bounds can explain: the fit stops on the bounds, and says
    so for each factor that stopped there, instead of presenting a bound as a measured figure."""
    from tcobench.api.measured import _problem
    from tcobench.catalog.schema import Model
    from tcobench.local.fit import fit, get
    from tcobench.local.grid import Record

    cat = load_catalog()
    model = Model.model_validate(measured.outputs["model_spec"])
    problem = _problem(cat, model, cat.hardware_ref(str(profile)), "fp32")
    recs = [Record(**r) for r in ({k: v for k, v in x.items() if k != "predicted_s"} for x in measured.outputs["records"])]
    start = get(problem.base, "fp32")
    assert not any(fit(problem, recs, start).at_limit[:1])  # the real records place compute inside its bounds
    fast = [dataclasses.replace(r, seconds=r.seconds / 1000) for r in recs]
    f = fit(problem, fast, start)
    assert f.at_limit[0] and f.at_limit[3]  # compute at its ceiling, the per-operator overhead at its floor
    assert len(f.at_limit) == len(f.factors)


def test_calibrate_cli_reports_the_fit_and_writes_the_profile(cli, measured: Any, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tcobench.store import Store

    db = tmp_path / "runs.db"
    run_id = Store.open(str(db)).save(measured)
    out = tmp_path / "cal.toml"
    r = cli("--db", str(db), "calibrate", "--run", str(run_id), "--holdout", "2", "-o", str(out))
    assert r.code == 0, r.err
    assert "held out (2-fold)" in r.out and "weight streaming" in r.out and out.is_file()
    j = cli("--db", str(db), "calibrate", "--run", str(run_id), "--holdout", "0", "-o", str(out), "--json")
    doc = json.loads(j.out)
    assert [f["name"] for f in doc["factors"]] == ["compute", "weight_streaming", "memory", "overhead"]
    assert "held_out" not in doc["fit"] and doc["fit"]["after"]["records"] == 12


def test_ctrl_c_keeps_the_shapes_measured(tiny: Path) -> None:
    from tcobench.catalog import load_catalog
    from tcobench.local.device import device
    from tcobench.local.grid import measure_grid, shapes

    pytest.importorskip("torch")

    def stop_after_two(done: int, total: int, shape: Any, rec: Any) -> None:
        if rec is not None and done == 2:
            raise KeyboardInterrupt

    grid = shapes((1, 2), (16,), (8,))
    recs, interrupted = measure_grid(load_catalog().model(str(tiny)), device("cpu"), grid, budget_s=0.005, rounds=1,
                                     progress=stop_after_two)
    assert interrupted and [r.shape for r in recs] == grid[:2]


def test_ctrl_c_in_the_cli_saves_and_exits_130(cli, tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("torch")
    from tcobench.cli import measure as cli_measure

    real = cli_measure.GridProgress.__call__

    def interrupt(self: Any, done: int, total: int, shape: Any, rec: Any) -> None:
        real(self, done, total, shape, rec)
        if rec is not None and done == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(cli_measure.GridProgress, "__call__", interrupt)
    r = cli("measure", "--model", str(tiny), "--batch", "1", "--context", "16", "--prefill", "8", "--budget", "0.005",
            "--rounds", "1", "--json")
    assert r.code == 130 and "kept the shapes measured" in r.err
    doc = json.loads(r.out)
    assert doc["interrupted"] and len(doc["records"]) == 1 and doc["run_id"] is not None


@pytest.mark.parametrize(("args", "expected"), [
    (["--device", "tpu"], "--device 'tpu': expected cpu, cuda or cuda:N"),
    (["--device", "cpu:1"], "there is one CPU device"),
    (["--batch", "0"], "--batch '0': every value must be > 0"),
    (["--precision", "fp8"], "--precision 'fp8': measure runs fp32, bf16, fp16"),
])
def test_measure_refuses_bad_flags(cli, tiny: Path, args: list[str], expected: str) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("torch")
    r = cli("measure", "--model", str(tiny), *args)
    assert r.code == 2 and expected in r.err and r.err.count("\n") == 1, r.err


def test_measure_refuses_a_device_this_machine_lacks(cli, tiny: Path) -> None:  # type: ignore[no-untyped-def]
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    r = cli("measure", "--model", str(tiny), "--device", "cuda")
    assert r.code == 2 and "no CUDA device" in r.err and "expected cpu" in r.err


def test_measure_refuses_a_model_too_big_with_the_figure(cli) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("torch")
    r = cli("measure", "--model", "llama-3.1-405b")
    assert r.code == 2 and "needs about" in r.err and "GB free on cpu" in r.err and "--model" in r.err, r.err


def test_measure_refuses_a_mixture_of_experts_model(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("measure", "--model", "mixtral-8x7b")
    assert r.code == 2 and "mixture-of-experts" in r.err, r.err


def test_calibrate_refuses_a_run_without_measurements(cli, tiny: Path) -> None:  # type: ignore[no-untyped-def]
    p = cli("predict", "--model", str(tiny), "--hardware", "h100-sxm", "--save", "--json")
    assert p.code == 0, p.err
    run_id = json.loads(p.out)["run_id"]
    r = cli("calibrate", "--run", str(run_id))
    assert r.code == 2 and f"--run {run_id}: holds no measurements (a 'predict' run)" in r.err, r.err
    missing = cli("calibrate", "--run", "999")
    assert missing.code == 2 and "--run 999: no run with id 999" in missing.err, missing.err


def test_without_pytorch_one_line_names_the_extra(cli, tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    r = cli("probe")
    assert r.code == 1 and r.err.strip() == ("InstallError: measuring needs PyTorch, which is an optional extra: "
                                             "pip install 'tcobench[measure]'")
    assert cli("measure", "--model", str(tiny)).err == r.err


def test_calibrate_needs_no_pytorch(measured: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tcobench.api.measured import calibrate

    monkeypatch.setitem(sys.modules, "torch", None)  # the records are saved: fitting them is perf's arithmetic
    r = calibrate([measured], holdout=0, output=tmp_path / "c.toml")
    assert len(r.records) == 12 and (tmp_path / "c.toml").is_file()


def test_folds_span_the_grid() -> None:
    from tcobench.local.fit import folds
    from tcobench.local.grid import Record

    recs = [Record("prefill", 1, n, 1.0, 1.0, 1.0, 1) for n in (8, 16, 32)] + \
           [Record("decode", b, 64, 1.0, 1.0, 1.0, 1) for b in (1, 2, 4)]
    got = folds(recs, 3)
    assert sorted(i for f in got for i in f) == list(range(6))
    assert all({recs[i].phase for i in f} == {"prefill", "decode"} for f in got)
    assert np.all([len(f) == 2 for f in got])

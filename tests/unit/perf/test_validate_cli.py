"""`tcobench validate` reports every row with its error and a summary that follows from the rows."""

import json
from importlib import resources
import statistics

import pytest


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


def test_every_grouping_partitions_the_compared_rows(cli) -> None:
    doc = json.loads(cli("validate", "--json").out)
    compared = [row for row in doc["rows"] if row["error"] is not None]
    for by, groups in doc["summary"]["groups"].items():
        assert sum(g["rows"] for g in groups.values()) == len(compared), by
        for g in groups.values():
            assert g["max_abs_error"] >= g["median_abs_error"] >= abs(g["median_error"]) - 1e-12
    by_hw = doc["summary"]["groups"]["hardware"]
    assert set(by_hw) >= {"h100-sxm", "a100-sxm-80gb"}


def test_by_prints_one_line_per_group(cli) -> None:
    r = cli("validate", "--by", "precision")
    assert r.code == 0, r.err
    assert "fp8 matmuls: median |error|" in r.out and "fp16 matmuls: median |error|" in r.out


def test_by_rejects_an_unknown_grouping_and_lists_the_choices(cli) -> None:
    r = cli("validate", "--by", "chip")
    assert r.code != 0 and "--by 'chip': 'chip' is not a grouping" in r.err and "hardware" in r.err and r.out == ""
    r = cli("validate", "--by", "batching,fase")
    assert r.code != 0 and "did you mean 'phase'?" in r.err


def test_slower_low_precision_matmuls_lower_every_fp8_throughput_row() -> None:
    """The what-if hook rewrites efficiencies per row; halving fp8 compute can only slow fp8 deployments."""
    import dataclasses

    from tcobench.catalog import load_catalog
    from tcobench.perf import validate

    cat = load_catalog()
    base = {o.row.id: o for o in validate.run(cat)}
    half = validate.run(cat, adjust=lambda e: dataclasses.replace(e, compute_at={**e.compute_at, "fp8": e.compute_for("fp8") / 2}))
    fp8_throughput = [o for o in half if o.prediction and o.prediction.activations == "fp8" and o.row.phase == "throughput"]
    assert fp8_throughput
    for o in fp8_throughput:
        assert o.predicted < base[o.row.id].predicted
    for o in half:  # 16-bit rows do not move
        if o.prediction and o.prediction.activations == "fp16":
            assert o.predicted == base[o.row.id].predicted


def test_a_rows_engine_settings_reach_the_prediction(monkeypatch) -> None:
    from tcobench.catalog import load_catalog
    from tcobench.perf import validate

    base = {"ref": "X", "model": "llama-3.1-8b", "hardware": "gb200", "precision": "fp8", "batch": "auto", "requests": 1000,
            "input_len": 2048, "output_len": 2048, "published": 1.0}
    rows = [validate.Row(id="plain", **base),
            validate.Row(id="tight", engine={"memory_utilization": 0.5, "prefill_chunk": 2048}, **base)]
    monkeypatch.setattr(validate, "load_rows", lambda: rows)
    catalog = load_catalog()
    plain, tight = validate.run(catalog)
    capacity = catalog.get_hardware("gb200").memory.capacity.value  # type: ignore[union-attr]
    assert tight.prediction.capacity_bytes == pytest.approx(0.5 * capacity, rel=1e-12)
    assert tight.prediction.capacity_bytes < plain.prediction.capacity_bytes
    assert tight.prediction.batch < plain.prediction.batch  # fewer sequences fit in a wave
    assert tight.prediction.efficiency_sources["memory_utilization"] == "validation row tight"


def test_predict_reports_how_far_to_trust_it_from_its_vendor_and_model_kind(cli) -> None:
    """predict's 'validation' block is the validate rows of its hardware's vendor with models of its kind (dense or
    MoE), per phase; a group with fewer than min_rows rows in every phase is unvalidated."""
    doc = json.loads(cli("predict", "--model", "llama-2-7b", "--hardware", "h100-sxm", "--precision", "fp8", "--json").out)
    groups = json.loads(cli("validate", "--by", "vendor,moe,phase", "--json").out)["summary"]["groups"]["vendor,moe,phase"]
    trust = doc["validation"]
    assert trust["group"] == "NVIDIA, dense" and trust["validated"] is True
    # every phase but the MLPerf Server rows' (left out of trust: their rate bisection would slow every predict)
    nvidia = {k: g["rows"] for k, g in groups.items() if k.startswith("NVIDIA / dense / ")}
    assert nvidia["NVIDIA / dense / server"] >= 3 and "server" not in trust["phases"]
    assert sum(r["rows"] for r in trust["phases"].values()) == sum(nvidia.values()) - nvidia["NVIDIA / dense / server"]
    inflight = trust["phases"]["inflight throughput"]
    assert inflight["p10_error"] <= inflight["median_error"] <= inflight["p90_error"]
    assert inflight["min_error"] <= inflight["p10_error"] and inflight["p90_error"] <= inflight["max_error"]
    text = " ".join(cli("predict", "--model", "llama-2-7b", "--hardware", "h100-sxm", "--precision", "fp8").out.split())
    assert f"throughput in serving engines (in-flight batching) {inflight['median_error']:+.0%} (median of {inflight['rows']}," in text
    # Google's MoE rows (tpu-recipes' Qwen3-Coder) are fewer than min_rows in every phase: unvalidated, and says so
    google = json.loads(cli("predict", "--model", "mixtral-8x7b", "--hardware", "tpu-v6e", "--json").out)
    assert google["validation"]["group"] == "Google, MoE" and google["validation"]["validated"] is False
    n = google["validation"]["phases"]["inflight throughput"]["rows"]
    assert 0 < n < google["validation"]["min_rows"]
    text = " ".join(cli("predict", "--model", "mixtral-8x7b", "--hardware", "tpu-v6e").out.split())
    assert "(in-flight batching) unvalidated (" + ("one row:" if n == 1 else f"{n} rows:") in text
    # Intel is validated in one phase (decode) and not in another (in-flight throughput): each phase says which
    intel = json.loads(cli("predict", "--model", "llama-2-7b", "--hardware", "gaudi2", "--json").out)
    assert intel["validation"]["group"] == "Intel, dense" and intel["validation"]["validated"] is True
    phases, least = intel["validation"]["phases"], intel["validation"]["min_rows"]
    assert phases["decode"]["rows"] >= least and 0 < phases["inflight throughput"]["rows"] < least
    text = " ".join(cli("predict", "--model", "llama-2-7b", "--hardware", "gaudi2").out.split())
    assert f"(in-flight batching) unvalidated ({phases['inflight throughput']['rows']} rows:" in text
    assert f"decode {phases['decode']['median_error']:+.0%} (median of {phases['decode']['rows']}," in text
    # AMD has in-flight throughput rows enough to be validated (MLPerf v4.1, the ROCm blog, Azure's ND MI300X v5)
    amd = json.loads(cli("predict", "--model", "llama-2-70b", "--hardware", "mi300x", "--precision", "fp8", "--json").out)
    assert amd["validation"]["validated"] is True and amd["validation"]["phases"]["inflight throughput"]["rows"] >= 5


def test_by_several_keys_groups_by_each_combination(cli) -> None:
    doc = json.loads(cli("validate", "--by", "batching,phase", "--json").out)
    combined = doc["summary"]["groups"]["batching,phase"]
    by_batching = doc["summary"]["groups"]["batching"]
    for batching, g in by_batching.items():
        parts = [v for k, v in combined.items() if k.startswith(batching + " / ")]
        assert sum(p["rows"] for p in parts) == g["rows"]
    assert {"inflight / throughput", "static / throughput", "static / prefill"} <= set(combined)


def test_a_row_run_past_the_model_context_needs_its_context_stated(monkeypatch) -> None:
    """GPT-J's context is 2048 tokens; TensorRT-LLM's table ran 2048 + 2048. Without `context` the row is
    refused as a deployment error; with it, it is modelled at the lengths run."""
    from tcobench.catalog import load_catalog
    from tcobench.perf import validate

    base = dict(ref="X", model="gpt-j-6b", hardware="h100-sxm", batch=64, input_len=2048, output_len=2048, precision="fp8",
                metric="output_tokens_per_s", published=1.0)
    rows = [validate.Row(id="refused", **base), validate.Row(id="stated", context=4096, **base)]
    monkeypatch.setattr(validate, "load_rows", lambda: rows)
    refused, stated = validate.run(load_catalog())
    assert refused.predicted is None and "maximum context of 2048 tokens; pass --max-context 4096" in refused.problem
    assert stated.predicted is not None and stated.predicted > 0 and stated.problem is None


def test_a_row_explained_names_the_predict_command_that_reproduces_it(cli) -> None:
    r = cli("validate", "--row", "palm-540b-tpu-v4-decode", "--explain")
    assert r.code == 0, r.err
    assert "1 rows compared" in r.out and "attn_all_to_all" in r.out
    line = next(x for x in r.out.splitlines() if "reproduce: " in x)
    command = line.split("reproduce: tcobench ", 1)[1].split()
    assert command[:3] == ["predict", "--model", "palm-540b"] and "--tp-layout" in command
    doc = json.loads(cli("validate", "--row", "palm-540b-tpu-v4-decode", "--json").out)
    again = json.loads(cli(*command, "--json").out)
    assert again["tpot_s"] == doc["rows"][0]["predicted"]  # the command is the row, not a paraphrase of it


def test_rows_by_pattern_and_a_close_match_for_a_typo(cli) -> None:
    doc = json.loads(cli("validate", "--row", "azure-gb200-8b-*", "--row", "bloom-ds-inference-bs1", "--json").out)
    ids = [row["id"] for row in doc["rows"]]
    assert len(ids) == 7 and ids[0] == "bloom-ds-inference-bs1" and doc["summary"]["compared"] == 7  # the file's order
    assert all(row["engine"] for row in doc["rows"][1:])  # the Azure rows carry the engine settings they ran with
    r = cli("validate", "--row", "palm-540b-decode")
    assert r.code == 2 and r.err.count("\n") == 1
    assert "--row 'palm-540b-decode' matches no validation row" in r.err and "'palm-540b-tpu-v4-decode'" in r.err


def test_an_explained_row_with_engine_settings_names_where_they_go(cli) -> None:
    r = cli("validate", "--row", "azure-gb200-8b-tp1-128-128", "--explain")
    assert r.code == 0, r.err
    assert "memory_utilization = 0.84, prefill_chunk = 2048): a hardware file's [efficiency] table sets them" in r.out


def test_a_static_batchs_prefill_is_one_requests_ttft_at_batch_one_and_grows_with_the_batch(monkeypatch) -> None:
    """batch_prefill_s: the time to prefill a replica's whole batch of prompts (when a static batch gets its
    first token). At batch 1 in one chunk it is the TTFT; 64 prompts cost more than one, less than 64 apart."""
    from tcobench.catalog import load_catalog
    from tcobench.perf import validate

    base = dict(ref="X", model="gpt-j-6b", hardware="h100-sxm", input_len=128, output_len=1, precision="fp8",
                published=1.0, engine={"prefill_chunk": 8192.0})
    rows = [validate.Row(id="one", batch=1, metric="batch_prefill_s", **base),
            validate.Row(id="ttft", batch=1, metric="ttft_s", **base),
            validate.Row(id="many", batch=64, metric="batch_prefill_s", **base)]
    monkeypatch.setattr(validate, "load_rows", lambda: rows)
    one, ttft, many = validate.run(load_catalog())
    assert one.predicted == pytest.approx(ttft.predicted, rel=1e-9)
    assert one.predicted < many.predicted < 64 * one.predicted


def test_a_phase_with_few_rows_is_called_unvalidated_not_given_a_range(capsys) -> None:
    from tcobench.cli.render import print_trust
    from tcobench.perf.validate import Trust

    def rec(n: int, med: float, lo: float, hi: float) -> dict[str, float | int]:
        return {"rows": n, "median_error": med, "median_abs_error": abs(med), "min_error": lo, "max_error": hi,
                "p10_error": lo, "p90_error": hi}

    print_trust(Trust("NVIDIA, dense", {"decode": rec(1, 0.95, 0.95, 0.95), "prefill": rec(3, -0.2, -0.5, 0.1),
                                        "inflight throughput": rec(9, 0.07, -0.1, 0.3)}))
    text = " ".join(capsys.readouterr().out.split())
    assert "decode unvalidated (one row: +95%)" in text and "TTFT unvalidated (3 rows: -20%)" in text
    assert "throughput in serving engines (in-flight batching) +7% (median of 9, 10th-90th percentile -10%..+30%" in text


def test_a_cpu_is_not_trusted_on_its_vendors_gpu_rows(cli, tmp_path) -> None:
    """A probed AMD CPU used to quote the MI300X's track record ("AMD, dense"). The group is vendor x kind x
    dense/MoE: no published CPU row is in validation, so the CPU's predictions are unvalidated, and say so."""
    src = resources.files("tcobench.catalog").joinpath("data/hardware/mi300x.toml").read_text()
    body = src[src.index("[hardware.mi300x]"):]  # its [source.*] tables are in the catalog already
    cpu = tmp_path / "amd-cpu.toml"
    cpu.write_text(body.replace("[hardware.mi300x", "[hardware.amd-cpu").replace('kind = "gpu"', 'kind = "cpu"'))
    doc = json.loads(cli("predict", "--model", "llama-2-7b", "--hardware", str(cpu), "--json").out)
    assert doc["validation"]["group"] == "AMD CPUs, dense"
    assert doc["validation"]["validated"] is False and doc["validation"]["phases"] == {}
    out = " ".join(cli("predict", "--model", "llama-2-7b", "--hardware", str(cpu)).out.split())
    assert "unvalidated: no published result for AMD CPUs, dense models" in out
    gpu = json.loads(cli("predict", "--model", "llama-2-7b", "--hardware", "mi300x", "--json").out)["validation"]
    assert gpu["group"] == "AMD, dense" and gpu["phases"]


def test_batch_e2e_s_is_a_static_batchs_time_to_its_last_token() -> None:
    """batch_e2e_s (vLLM's benchmark_latency.py) is the batch's output tokens over the output rate: prefill of the
    whole batch plus every decode step, so it exceeds the single-request TTFT + (n - 1) x TPOT of a batch of 64."""
    from tcobench.catalog import load_catalog
    from tcobench.perf.predict import predict
    from tcobench.perf.validate import metric_of

    cat = load_catalog()
    p = predict(cat.get_model("llama-3.1-70b"), cat.get_hardware("mi300x"), chips=8, tp=8, batch=64, input_len=2048,
                output_len=2048, precision="fp8", catalog=cat)
    e2e = metric_of(p, "batch_e2e_s")
    assert e2e == pytest.approx(64 * 2048 / p.output_tokens_per_s)
    assert e2e > p.e2e_s  # the batch's 64 prompts are prefilled before its first decode step


def test_cross_vendor_rows_name_their_source_and_stack_and_take_whole_tables() -> None:
    """The cross-vendor section (branch cv-amd): every row names its source and the stack measured, and each table was
    taken whole (the ROCm blog's 8 throughput and 32 latency rows per vendor, Azure's 18, the BLOOMZ blog's 6)."""
    from tcobench.perf.validate import load_rows, stack_of

    rows = [r for r in load_rows() if r.id.startswith(("rocmblog25-", "azure-ndmi300xv5-", "hfblog23-"))]
    count = {p: sum(r.id.startswith(p) for r in rows) for p in ("rocmblog25-mi300x", "rocmblog25-h100", "azure-ndmi300xv5", "hfblog23")}
    assert count == {"rocmblog25-mi300x": 40, "rocmblog25-h100": 40, "azure-ndmi300xv5": 18, "hfblog23": 6}
    for r in rows:
        assert r.source and r.note and stack_of(r) != "unstated", r.id
        # a time metric is a decode row (positive error: the model is slower), a rate a throughput row
        assert (r.metric == "batch_e2e_s") == (r.phase == "decode"), r.id


def test_argonne_rows_are_the_declared_grid_whole() -> None:
    """The LLM-Inference-Bench rows are exactly the grid the sections name before any prediction (four Llama models and,
    since 2026-12-05, Mixtral-8x7B; 1 and 8 MI300X, batch 1 and 64, lengths 128 and 2048): 40 rows, none dropped, each a
    static batch's time to last token in fp16 with TP over all its GPUs; its H100 and Gaudi2 rows are not taken."""
    from tcobench.perf.validate import load_rows, stack_of

    rows = [r for r in load_rows() if r.id.startswith("anlbench24-")]
    grid = {(r.model, r.chips, r.batch, r.input_len) for r in rows}
    expected = {(m, n, b, length) for m in ("llama-2-7b", "llama-2-70b", "llama-3.1-8b", "llama-3.1-70b", "mixtral-8x7b")
                for n in (1, 8) for b in (1, 64) for length in (128, 2048)}
    assert len(rows) == 40 and grid == expected
    for r in rows:
        assert r.hardware == "mi300x" and r.tp == r.chips and r.precision == "fp16", r.id
        assert r.input_len == r.output_len and r.metric == "batch_e2e_s" and r.phase == "decode", r.id
        assert stack_of(r) == "vLLM (ROCm)" and "All_results.csv" in r.source, r.id


def test_validating_only_skipped_rows_says_so_instead_of_failing(cli) -> None:
    """`validate --row X` on a skipped row used to end in a TypeError (no median of nothing)."""
    r = cli("validate", "--row", "trtllm07-h200x8-70b-128-128")
    assert r.code == 0, r.err
    assert "0 rows compared, 1 skipped" in r.out and "skipped:" in r.out

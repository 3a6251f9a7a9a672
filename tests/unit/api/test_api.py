"""The Python API: the examples of docs/api.md run as written, each call agrees with its command's --json, and
errors name the parameter in Python and the flag on the command line."""

import doctest
import json
import sys
from pathlib import Path

import pytest

import tcobench
from tcobench.errors import InputError, MissingInputError

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(("page", "examples"), [("docs/api.md", 30), ("README.md", 5)])
def test_the_python_examples_run_and_print_what_the_page_says(page: str, examples: int) -> None:
    result = doctest.testfile(str(ROOT / page), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= examples
    assert result.failed == 0


@pytest.mark.parametrize(("command", "call"), [
    (["compare", "--model", "llama-3.1-70b", "--hardware", "h100-sxm,mi300x", "--workload", "chat", "--slo-tpot", "50ms"],
     lambda: tcobench.compare("llama-3.1-70b", ["h100-sxm", "mi300x"], workload="chat", slo_tpot=0.05)),
    (["plan", "--model", "llama-3.1-8b", "--hardware", "b200", "--qps", "20", "--input-len", "500", "--output-len", "100",
      "--electricity", "$0.2/kWh"],
     lambda: tcobench.plan("llama-3.1-8b", "b200", qps=20, input_len=500, output_len=100, electricity="$0.2/kWh")),
    (["validate", "--row", "mlperf41-*", "--by", "precision"], lambda: tcobench.validate(row="mlperf41-*", by="precision")),
    (["audit"], lambda: tcobench.audit()),
])
def test_a_call_returns_the_document_its_command_prints(cli, command, call) -> None:  # type: ignore[no-untyped-def]
    r = cli(*command, "--json")
    assert r.code == 0, r.err
    assert call().to_dict() == json.loads(r.out)


def test_a_bad_value_names_the_parameter_in_python_and_the_flag_on_the_command_line(cli) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as err:
        tcobench.compare("llama-3.1-70b", "h100-sxm", workload="chatt")
    assert "unknown workload 'chatt' in workload; did you mean 'chat'?" in str(err.value)
    assert "in --workload; did you mean 'chat'?" in cli("compare", "--model", "llama-3.1-70b", "--workload", "chatt").err
    with pytest.raises(InputError, match=r"^input_len 4000 \+ output_len 4000 = 8000 tokens exceeds gpt-j-6b's .*"
                                         r"pass max_context 8000 to model"):
        tcobench.predict("gpt-j-6b", "h100-sxm", input_len=4000, output_len=4000)
    r = cli("predict", "--model", "gpt-j-6b", "--hardware", "h100-sxm", "--input-len", "4000", "--output-len", "4000")
    assert r.code == 2 and "--input-len 4000 + --output-len 4000 = 8000 tokens" in r.err and "pass --max-context 8000" in r.err
    with pytest.raises(InputError, match="^cannot read .fifty. in slo_tpot as a quantity"):
        tcobench.predict("llama-3.1-8b", "h100-sxm", slo_tpot="fifty")
    with pytest.raises(InputError, match="^tp 'x': expected positive integers"):
        tcobench.sweep("llama-3.1-8b", "h100-sxm", tp="x")


def test_models_and_hardware_may_be_ids_files_or_records(tmp_path: Path) -> None:
    cat = tcobench.load_catalog()
    by_id = tcobench.predict("llama-3.1-8b", "h100-sxm", batch=8)
    by_record = tcobench.predict(cat.get_model("llama-3.1-8b"), cat.get_hardware("h100-sxm"), batch=8, catalog=cat)
    assert by_id.to_dict() == by_record.to_dict()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
                                  "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
                                  "vocab_size": 128256, "max_position_embeddings": 131072, "tie_word_embeddings": False}))
    from_config = tcobench.predict(str(config), "h100-sxm", batch=8)
    assert from_config.tpot_s == pytest.approx(by_id.tpot_s, rel=1e-3)  # the same architecture as llama-3.1-8b


def test_to_pandas_says_which_package_to_install_when_pandas_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # an import of pandas now fails, as without the package
    result = tcobench.audit()
    with pytest.raises(MissingInputError, match="pip install pandas"):
        result.to_pandas()
    assert len(result.to_rows()) == len(result.claims) > 0


def test_every_compare_row_says_how_far_to_trust_it_and_widens_its_cost_range_by_that() -> None:
    res = tcobench.compare("llama-3.1-70b", "h100-sxm,mi300x,gaudi3,b200", workload="chat", slo_tpot="50ms", basis="both")
    rows = {r["hardware"]: r for r in res.to_rows()}
    nvidia, amd, intel = rows["h100-sxm"]["trust"], rows["mi300x"]["trust"], rows["gaudi3"]["trust"]
    assert nvidia["group"] == "NVIDIA, dense" and nvidia["validated"] is True
    assert amd["group"] == "AMD, dense" and amd["validated"] is True  # MLPerf, the ROCm blog and Azure: 30 in-flight rows
    assert intel["group"] == "Intel, dense" and intel["validated"] is True  # decode: 5 rows
    assert intel["phases"]["inflight throughput"]["rows"] < intel["min_rows"]  # ... but too few throughput rows
    band = nvidia["phases"]["inflight throughput"]
    low, likely, high = (rows["h100-sxm"][k] for k in ("usd_per_1m_output_tokens_own_low", "usd_per_1m_output_tokens_own",
                                                       "usd_per_1m_output_tokens_own_high"))
    wide_low, wide_high = rows["h100-sxm"]["usd_per_1m_output_tokens_own_with_model_error"]
    assert wide_low == pytest.approx(low * min(1.0, 1.0 + band["p10_error"]))
    assert wide_high == pytest.approx(high * max(1.0, 1.0 + band["p90_error"]))
    assert wide_low <= low <= likely <= high <= wide_high
    e_low, e_high = rows["h100-sxm"]["tokens_per_kwh_with_model_error"]  # tokens per kWh: the predicted / (1 + e)
    assert e_low == pytest.approx(rows["h100-sxm"]["tokens_per_kwh_low"] / max(1.0, 1.0 + band["p90_error"]))
    assert e_high == pytest.approx(rows["h100-sxm"]["tokens_per_kwh_high"] / min(1.0, 1.0 + band["p10_error"]))
    assert e_low <= rows["h100-sxm"]["tokens_per_kwh_low"] and e_high >= rows["h100-sxm"]["tokens_per_kwh_high"]
    assert rows["gaudi3"]["usd_per_1m_output_tokens_own_with_model_error"] is None  # throughput unvalidated: no band
    amd_band = amd["phases"]["inflight throughput"]  # AMD's model error leans one way (too fast): the high end widens
    assert rows["mi300x"]["usd_per_1m_output_tokens_own_with_model_error"][1] == pytest.approx(
        rows["mi300x"]["usd_per_1m_output_tokens_own_high"] * max(1.0, 1.0 + amd_band["p90_error"]))
    assert tcobench.trust("mi300x", "llama-3.1-70b").to_dict() == amd

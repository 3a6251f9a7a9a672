"""``tcobench bench`` end to end against the scripted in-process server."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

import pytest

from tcobench.cli.bench import LEVEL_KEYS
from tcobench.cli.main import error_message
from tcobench.errors import InputError, UnitError
from tcobench.store import Store
from tests.servers.scripted import ScriptedServer

STATS = {"mean", "p50", "p90", "p95", "p99"}


def test_json_levels_have_exactly_the_level_keys_and_the_run_is_saved(bench_cli: Callable[..., object]) -> None:
    with ScriptedServer(ttft_s=0.02, tpot_s=0.002) as srv:
        r = bench_cli("--url", srv.url + "/v1", "--model", "m", "--concurrency", "1,4", "--num-requests", "12",
                      "--output-len", "8", "--warmup", "0", "--price-hour", "$3.60/h", "--slo-ttft", "1 s", "--json")
    assert r.exit_code == 0, r.stderr
    doc = r.json
    assert [lv["concurrency"] for lv in doc["levels"]] == [1, 4]
    for lv in doc["levels"]:
        assert tuple(lv) == LEVEL_KEYS
        for key in ("ttft_s", "tpot_s", "icl_s", "e2e_s", "client_lag_s"):
            assert set(lv[key]) == STATS
        assert lv["requests_ok"] == 12 and lv["requests_failed"] == 0 and lv["errors"] == {}
        assert lv["output_tokens"] == 12 * 8 and lv["token_count_source"] == "usage"
        assert 0.015 < lv["ttft_s"]["p50"] < 0.2
        # $3.60/h at T tokens/s: 3.6 / (T x 3600 / 1e6) = 1000 / T dollars per 1M tokens
        assert lv["usd_per_1m_output_tokens"] == pytest.approx(1e3 / lv["output_tokens_per_s"])
        assert lv["goodput_requests_per_s"] == pytest.approx(lv["requests_per_s"])  # every request met 1 s
    assert doc["levels"][1]["output_tokens_per_s"] > 2 * doc["levels"][0]["output_tokens_per_s"]
    assert doc["settings"]["num_requests"] == 12 and doc["settings"]["slo"]["ttft_s"] == 1.0
    saved = Store.open(str(r.db)).get(doc["run_id"])
    assert saved.command == "bench" and str(saved.provenance) == "measured"
    assert saved.outputs["levels"][0]["requests_ok"] == 12
    assert saved.inputs["url"] == srv.url and saved.inputs["pricing"]["usd_per_hour"] == 3.6


def test_no_save_leaves_the_store_empty(bench_cli: Callable[..., object]) -> None:
    with ScriptedServer() as srv:
        r = bench_cli("--url", srv.url, "--model", "m", "--num-requests", "3", "--output-len", "4", "--no-save",
                      "--json", "--quiet")
    assert r.exit_code == 0 and r.json["run_id"] is None
    assert Store.open(str(r.db)).list() == []


def test_api_key_reaches_the_server_but_never_the_output_or_the_store(bench_cli: Callable[..., object]) -> None:
    sentinel = "sk-SENTINEL-7f3a9c"
    seen: list[str] = []
    with ScriptedServer(plan=lambda n: "status:401" if n == 0 else "ok") as srv:
        srv.on_headers = seen.append  # type: ignore[attr-defined]
        r = bench_cli("--url", srv.url, "--model", "m", "--num-requests", "4", "--output-len", "4", "--warmup", "0",
                      "--api-key-env", "BENCH_TEST_KEY", "--json", env={"BENCH_TEST_KEY": sentinel})
    assert r.exit_code == 0
    assert any(sentinel in h for h in seen)  # it was sent
    assert r.json["levels"][0]["errors"] == {"http_401": 1}  # the server echoed the key in its 401 body
    assert sentinel not in r.stdout and sentinel not in r.stderr
    raw = r.db.read_bytes()
    assert sentinel.encode() not in raw
    rows = sqlite3.connect(r.db).execute("select inputs, outputs from runs").fetchall()
    assert rows and all(sentinel not in cell for row in rows for cell in row)
    assert "BENCH_TEST_KEY" in json.dumps(r.json["settings"])  # the variable's name is kept, its value never


def test_open_loop_with_chat_api_table_output(bench_cli: Callable[..., object]) -> None:
    with ScriptedServer(ttft_s=0.005, tpot_s=0.001) as srv:
        r = bench_cli("--url", srv.url, "--model", "m", "--api", "chat", "--rate", "50", "--arrival", "gamma:2",
                      "--num-requests", "20", "--output-len", "4", "--price-in", "1", "--price-out", "$5")
    assert r.exit_code == 0, r.stderr
    assert "50/s gamma:2" in r.stdout and "$5" in r.stdout and "saved as run" in r.stdout


def test_duration_bounds_a_level(bench_cli: Callable[..., object]) -> None:
    with ScriptedServer(ttft_s=0.01, tpot_s=0.001) as srv:
        r = bench_cli("--url", srv.url, "--model", "m", "--concurrency", "2", "--duration", "500ms", "--output-len", "4",
                      "--json", "--quiet")
    details = r.json["details"][0]
    assert 0.4 < details["duration_s"] < 1.5
    assert details["requests_ok"] > 10


@pytest.mark.parametrize("args, error, match", [
    (["--slo-ttft", "50"], UnitError, "--slo-ttft"),
    (["--duration", "5 GB"], UnitError, "--duration"),
    (["--concurrency", "1,x"], InputError, "--concurrency"),
    (["--arrival", "weibull", "--rate", "1"], InputError, "--arrival"),
    (["--price-hour", "2", "--price-out", "1"], InputError, "not both"),
    (["--url", "ftp://x"], InputError, "--url"),
    (["--num-requests", "0"], InputError, "--num-requests must be >= 1"),
    (["--warmup", "-1"], InputError, "--warmup must be >= 0"),
])
def test_bad_flags_fail_with_a_clear_message(bench_cli: Callable[..., object], args: list[str],
                                             error: type[InputError], match: str) -> None:
    base = ["--url", "http://127.0.0.1:9", "--model", "m", "--num-requests", "1"]
    with pytest.raises(error) as info:
        bench_cli(*base, *args)
    assert match in error_message(info.value)  # as main() prints it: a library error's parameters as this command's flags


def test_hardware_pricing_and_prediction_beside_the_measurement(bench_cli: Callable[..., object]) -> None:
    from tcobench.catalog import load_catalog
    from tcobench.api.endpoint import hourly_price

    cat = load_catalog()
    low, likely, high, _ = hourly_price(cat, cat.get_hardware("h100-sxm"), 2, "rent")
    with ScriptedServer(ttft_s=0.01, tpot_s=0.002) as srv:
        r = bench_cli("--url", srv.url + "/v1", "--model", "m", "--concurrency", "2", "--num-requests", "6",
                      "--output-len", "8", "--warmup", "0", "--hardware", "h100-sxm", "--chips", "2", "--basis", "rent",
                      "--model-spec", "llama-3.1-8b", "--json")
    assert r.exit_code == 0, r.stderr
    level, detail = r.json["levels"][0], r.json["details"][0]
    # 2 x the catalog's likely rent per chip-hour, priced at the measured rate
    assert level["usd_per_1m_output_tokens"] == pytest.approx(likely / (level["output_tokens_per_s"] * 3600 / 1e6))
    extras = json.dumps(detail)
    assert "usd_per_hour_low" in extras and "predicted" in extras
    pred = next(v for v in _walk(detail) if isinstance(v, dict) and "tpot_s" in v and "batch" in v)
    assert pred["batch"] == 2 and pred["output_len"] == 8 and pred["model"] == "llama-3.1-8b"


def test_model_spec_needs_hardware(bench_cli: Callable[..., object]) -> None:
    with pytest.raises(InputError) as info:
        bench_cli("--url", "http://127.0.0.1:9/v1", "--model", "m", "--model-spec", "llama-3.1-8b")
    assert error_message(info.value).startswith("--model-spec needs --hardware")  # as the command prints it


def _walk(doc):  # type: ignore[no-untyped-def]
    if isinstance(doc, dict):
        yield doc
        for v in doc.values():
            yield from _walk(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _walk(v)

"""``tcobench.bench`` against the scripted in-process server: the document ``tcobench bench --json`` prints,
errors naming the parameter (the flag on the command line), catalog pricing with a prediction, and Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import tcobench
from tcobench.api.endpoint import hourly_price
from tcobench.api.results import LATENCY_KEYS, LEVEL_KEYS
from tcobench.catalog import load_catalog
from tcobench.cli.main import error_message
from tcobench.errors import InputError
from tcobench.loadgen.result import RequestResult
from tcobench.loadgen.runner import Load
from tests.servers.scripted import ScriptedServer

UNREACHABLE = "http://127.0.0.1:9"  # nothing is sent: every case below fails while reading its settings


def _shape(doc: Any) -> Any:
    """``doc`` with every float (a measured time or rate) replaced by its type: what two runs share."""
    if isinstance(doc, dict):
        return {k: _shape(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_shape(v) for v in doc]
    return float if isinstance(doc, float) else doc


def test_a_call_returns_the_document_the_command_prints(bench_cli: Callable[..., Any]) -> None:
    with ScriptedServer(ttft_s=0.005, tpot_s=0.001) as srv:
        r = bench_cli("--url", srv.url + "/v1", "--model", "m", "--concurrency", "1,4", "--rate", "50", "--arrival",
                      "gamma:2", "--num-requests", "8", "--output-len", "6", "--warmup", "0", "--price-hour", "$3.60/h",
                      "--slo-ttft", "1 s", "--timeout", "30s", "--input-len", "16..32", "--seed", "3", "--json", "--quiet")
        result = tcobench.bench(srv.url + "/v1", "m", concurrency=[1, 4], rate=50, arrival="gamma:2", num_requests=8,
                                output_len=6, warmup=0, price_hour=3.6, slo_ttft=1.0, timeout="30s", input_len="16..32",
                                seed=3)
    assert r.exit_code == 0, r.stderr
    printed = r.json
    assert printed.pop("run_id") is not None
    doc = result.to_dict()
    assert doc["settings"] == printed["settings"]  # every setting, read the same from Python and from the flags
    assert _shape(doc) == _shape(printed)  # the same keys, counts and errors; only the timings differ
    assert [tuple(lv) for lv in doc["levels"]] == [LEVEL_KEYS] * 3
    assert [(lv["concurrency"], lv["rate"], lv["requests_ok"]) for lv in doc["levels"]] == [(1, None, 8), (4, None, 8),
                                                                                             (None, 50.0, 8)]
    assert result.interrupted is False and len(result.measured) == 3 and result.hardware is None


def test_rows_are_the_levels_flattened_for_a_table(monkeypatch: pytest.MonkeyPatch) -> None:
    with ScriptedServer(plan=lambda n: "status:503" if n == 1 else "ok") as srv:
        result = tcobench.bench(srv.url, "m", concurrency="1,2", num_requests=3, output_len=4, warmup=0)
    rows = result.to_rows()
    assert len(rows) == 2
    assert not any(isinstance(v, dict) for row in rows for v in row.values())
    for row, level in zip(rows, result.to_dict()["levels"], strict=True):
        assert row["ttft_s_p50"] == level["ttft_s"]["p50"] and row["client_lag_s_mean"] == level["client_lag_s"]["mean"]
        assert row["requests_ok"] == level["requests_ok"]
        assert not any(key in row for key in LATENCY_KEYS)
    assert rows[0]["errors_http_503"] == 1 and rows[0]["requests_failed"] == 1
    monkeypatch.setitem(sys.modules, "pandas", types.SimpleNamespace(DataFrame=lambda rows: ("frame", rows)))
    assert result.to_pandas() == ("frame", rows)


CASES = [  # keyword arguments, the same as flags, what the Python error says, what the command line says
    ({"concurrency": "1,x"}, ["--concurrency", "1,x"], "cannot read '1,x' in concurrency;", "in --concurrency;"),
    ({"concurrency": [4, 0]}, ["--concurrency", "4,0"], "concurrency [4, 0]: every value must be > 0",
     "--concurrency '4,0': every value must be > 0"),
    ({"rate": "fast"}, ["--rate", "fast"], "cannot read 'fast' in rate;", "in --rate;"),
    ({"duration": "5 GB"}, ["--duration", "5 GB"], "'5 GB' in duration has unit 'GB'", "in --duration has unit"),
    ({"slo_tpot": "50"}, ["--slo-tpot", "50"], "'50' in slo_tpot has no unit", "'50' in --slo-tpot has no unit"),
    ({"num_requests": 0}, ["--num-requests", "0"], "num_requests must be >= 1", "--num-requests must be >= 1"),
    ({"warmup": -1}, ["--warmup", "-1"], "warmup must be >= 0", "--warmup must be >= 0"),
    ({"output_len": -1}, ["--output-len", "-1"], "output_len must be >= 0", "--output-len must be >= 0"),
    ({"input_len": "lots"}, ["--input-len", "lots"], "in input_len; expected N", "in --input-len; expected N"),
    ({"price_hour": "2 GB"}, ["--price-hour", "2 GB"], "in price_hour has unit", "in --price-hour has unit"),
    ({"price_hour": 2, "price_out": 1}, ["--price-hour", "2", "--price-out", "1"],
     "give price_hour (self-hosted) or price_in/price_out (API), not both",
     "give --price-hour (self-hosted) or --price-in/--price-out (API), not both"),
    ({"hardware": "h100sxm"}, ["--hardware", "h100sxm"], "in hardware; did you mean 'h100-sxm'?",
     "in --hardware; did you mean 'h100-sxm'?"),
    ({"hardware": "h100-sxm", "price_hour": 2}, ["--hardware", "h100-sxm", "--price-hour", "2"],
     "give hardware (catalog price) or price_hour/price_in/price_out, not both",
     "give --hardware (catalog price) or --price-hour/--price-in/--price-out, not both"),
    ({"hardware": "h100-sxm", "model_spec": "llama-3.1-9b"}, ["--hardware", "h100-sxm", "--model-spec", "llama-3.1-9b"],
     "in model_spec; did you mean", "in --model-spec; did you mean"),
    ({"model_spec": "llama-3.1-8b"}, ["--model-spec", "llama-3.1-8b"], "model_spec needs hardware",
     "--model-spec needs --hardware"),
    ({"prompts": "a.jsonl", "sharegpt": "b.json"}, ["--prompts", "a.jsonl", "--sharegpt", "b.json"],
     "give prompts (JSONL) or sharegpt, not both", "give --prompts (JSONL) or --sharegpt, not both"),
    ({"url": "ftp://x"}, ["--url", "ftp://x"], "url 'ftp://x' is not an http(s) URL", "--url 'ftp://x' is not"),
    ({"max_failures": "150%"}, ["--max-failures", "150%"], "max_failures '150%': expected a share from 0 to 1",
     "--max-failures '150%': expected a share from 0 to 1"),
    ({"max_failures": "half"}, ["--max-failures", "half"], "max_failures 'half': expected a share",
     "--max-failures 'half': expected a share"),
]


@pytest.mark.parametrize("kwargs, args, in_python, on_the_command_line", CASES)
def test_a_bad_value_names_the_parameter_in_python_and_the_flag_on_the_command_line(
        bench_cli: Callable[..., Any], kwargs: dict[str, Any], args: list[str], in_python: str,
        on_the_command_line: str) -> None:
    call = {"url": UNREACHABLE, "model": "m", **kwargs}
    with pytest.raises(InputError) as err:
        tcobench.bench(**call)
    assert in_python in str(err.value) and "--" not in str(err.value)
    with pytest.raises(InputError) as cli_err:
        bench_cli("--url", UNREACHABLE, "--model", "m", *args)
    assert on_the_command_line in error_message(cli_err.value)  # as main() prints it


@pytest.mark.parametrize("kwargs, message", [  # what only Python can pass: the flags' types rule these out
    ({"api": "chatt"}, "api 'chatt' is not one of chat, completions; did you mean 'chat'?"),
    ({"hardware": "h100-sxm", "basis": "buy"}, "basis 'buy' is not one of rent, own"),
    ({"hardware": "h100-sxm", "chips": 0}, "chips must be >= 1, got 0"),
    ({"hardware": "h100-sxm", "tp": 1.5}, "tp must be a whole number, got 1.5"),
    ({"output_len": 1.5}, "output_len must be a whole number, got 1.5"),
    ({"warmup": 2.5}, "warmup 2.5: expected a whole number of requests"),
    ({"concurrency": [1.5]}, "cannot read [1.5] in concurrency"),
    ({"timeout": 0}, "timeout 0 must be > 0"),
])
def test_python_only_values_are_checked_and_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match="^" + message.replace("(", r"\(").replace("[", r"\[")):
        tcobench.bench(UNREACHABLE, "m", **kwargs)


def test_hardware_pricing_with_a_prediction_beside_the_measurement() -> None:
    cat = load_catalog()
    low, likely, high, _ = hourly_price(cat, cat.get_hardware("h100-sxm"), 2, "rent")
    with ScriptedServer(ttft_s=0.01, tpot_s=0.002) as srv:
        by_id = tcobench.bench(srv.url, "m", concurrency=2, num_requests=6, output_len=8, warmup=0,
                               hardware="h100-sxm", chips=2, basis="rent", model_spec="llama-3.1-8b")
        by_record = tcobench.bench(srv.url, "m", concurrency=2, num_requests=6, output_len=8, warmup=0,
                                   hardware=cat.get_hardware("h100-sxm"), chips=2, model_spec=cat.get_model("llama-3.1-8b"),
                                   catalog=cat)
    for result in (by_id, by_record):
        assert result.hardware is not None
        assert result.hardware.as_dict() == {"hardware": "h100-sxm", "chips": 2, "basis": "rent",
                                             "model_spec": "llama-3.1-8b", "tp": None, "precision": "bf16"}
        level, detail = result.to_dict()["levels"][0], result.to_dict()["details"][0]
        tps = level["output_tokens_per_s"]
        assert level["usd_per_1m_output_tokens"] == pytest.approx(likely / (tps * 3600 / 1e6))
        assert detail["usd_per_hour_low"] == pytest.approx(low) and detail["usd_per_hour_high"] == pytest.approx(high)
        pred = detail["predicted"]
        assert (pred["model"], pred["batch"], pred["output_len"]) == ("llama-3.1-8b", 2, 8)
        assert pred["tpot_s"] > 0 and pred["fits"] is True


def test_progress_is_told_each_level_and_each_request() -> None:
    seen: list[tuple[str, int | None]] = []
    done: list[RequestResult] = []

    def progress(load: Load, total: int | None) -> Callable[[RequestResult], None]:
        seen.append((load.label, total))
        return done.append

    with ScriptedServer() as srv:
        tcobench.bench(srv.url, "m", concurrency=[1, 2], num_requests=3, warmup=1, output_len=2, progress=progress)
    assert seen == [("concurrency 1", 4), ("concurrency 2", 4)]  # 3 measured + 1 warm-up each
    assert len(done) == 8 and all(r.ok for r in done)


@pytest.fixture
def interrupt_after() -> Iterator[Callable[..., None]]:
    """``interrupt_after(srv, n, sig=SIGINT)``: ``sig`` to this process once ``srv`` has had ``n`` requests, as
    Ctrl-C (or a supervisor's SIGTERM) sends."""
    timers: list[threading.Thread] = []

    def arm(srv: ScriptedServer, n: int, sig: signal.Signals = signal.SIGINT) -> None:
        def wait_then_interrupt() -> None:
            deadline = time.monotonic() + 30
            while srv.posts < n and time.monotonic() < deadline:
                time.sleep(0.02)
            if srv.posts >= n:
                os.kill(os.getpid(), sig)
            else:  # the run never got going: end it instead of waiting out its 1000 requests
                srv.kill()

        timers.append(threading.Thread(target=wait_then_interrupt, daemon=True))
        timers[-1].start()

    yield arm
    for t in timers:
        t.join(timeout=35)


def _check_interrupted(result: tcobench.BenchResult) -> None:
    assert result.interrupted is True and result.to_dict()["interrupted"] is True
    assert len(result.measured) == 1  # the second level never started
    level, detail = result.to_dict()["levels"][0], result.to_dict()["details"][0]
    assert level["requests_ok"] >= 8 and detail["requests_cancelled"] >= 1
    assert "cancelled" not in level["errors"]  # stopping is not a server failure


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_ctrl_c_sigterm_and_sighup_return_what_was_measured(interrupt_after: Callable[..., None],
                                                           sig: signal.Signals) -> None:
    ran: list[int] = []

    def callers_handler(signum: int, frame: object) -> None:  # noted, not raised: a SIGTERM must not end pytest
        ran.append(signum)

    before = {s: signal.signal(s, callers_handler) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        with ScriptedServer(ttft_s=0.01, tpot_s=0.02) as srv:
            interrupt_after(srv, 12, sig)
            result = tcobench.bench(srv.url, "m", concurrency="2,4", num_requests=1000, output_len=10, warmup=0)
        assert all(signal.getsignal(s) is callers_handler for s in before)  # put back after the run
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
    assert ran == []  # the caller's handler did not run during the run: the run's own did
    _check_interrupted(result)
    assert result.interrupted_by == sig.name and result.to_dict()["interrupted_by"] == sig.name


def test_a_caller_running_an_event_loop_gets_the_run_on_a_thread_of_its_own() -> None:
    async def in_a_notebook() -> tcobench.BenchResult:
        return tcobench.bench(srv.url, "m", concurrency=2, num_requests=4, output_len=4, warmup=0)

    with ScriptedServer() as srv:
        result = asyncio.run(in_a_notebook())
    assert result.to_dict()["levels"][0]["requests_ok"] == 4 and result.interrupted is False


def test_keyboard_interrupt_while_the_run_is_on_its_own_thread_stops_it(
        interrupt_after: Callable[..., None]) -> None:
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT does not raise KeyboardInterrupt in this process")

    async def in_a_notebook() -> tcobench.BenchResult:
        return tcobench.bench(srv.url, "m", concurrency="2,4", num_requests=1000, output_len=10, warmup=0)

    loop = asyncio.new_event_loop()  # a running loop that leaves SIGINT alone, as a notebook kernel's does
    try:
        with ScriptedServer(ttft_s=0.01, tpot_s=0.02) as srv:
            interrupt_after(srv, 12)
            result = loop.run_until_complete(in_a_notebook())
    finally:
        loop.close()
    _check_interrupted(result)
    assert result.interrupted_by == "SIGINT"


@pytest.mark.parametrize(("kw", "flag", "match"), [
    ({"warmup": 10**20}, "--warmup", "must be <= 1,000,000"),
    ({"concurrency": 10**9}, "--concurrency", "at most 65,536 requests in flight"),
])
def test_huge_bench_work_is_refused_before_it_starts(kw, flag, match) -> None:  # type: ignore[no-untyped-def]
    """A warm-up or a concurrency no single client can carry is refused, named, before any request (it used to start
    silently and never print)."""
    import tcobench
    from tcobench.cli.main import error_message

    with pytest.raises(InputError, match=match) as err:
        tcobench.bench("http://127.0.0.1:9/v1", "m", **kw)
    assert error_message(err.value).startswith(flag)

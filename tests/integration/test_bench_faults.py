"""Every fault is classified and counted, the run completes, and measured requests are kept.

The faults come from the scripted server (tests/servers/scripted.py); Ctrl-C is a real SIGINT to a
real ``tcobench bench`` process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tcobench.store import Store
from tests.servers.scripted import ScriptedServer
from tests.servers.vllm import free_port

BASE = ["--model", "m", "--output-len", "6", "--warmup", "0", "--json", "--quiet"]


def _level(r: object) -> dict:  # type: ignore[type-arg]
    return r.json["levels"][0]  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize("fault, kind", [
    ("reset:2", "connection_reset"),
    ("status:400", "http_400"),
    ("status:503", "http_503"),
    ("malformed", "malformed_sse"),
    ("error_event", "server_error_event"),
    ("no_done", "incomplete_stream"),
    ("bad_status", "protocol_error"),  # before: connection_reset
])
def test_faults_are_classified_and_the_good_requests_kept(bench_cli: Callable[..., object], fault: str, kind: str) -> None:
    with ScriptedServer(ttft_s=0.002, tpot_s=0.001, plan=lambda n: fault if n % 3 == 1 else "ok") as srv:
        r = bench_cli("--url", srv.url, "--concurrency", "1", "--num-requests", "9", *BASE)
    lv = _level(r)
    assert r.exit_code == 0  # type: ignore[attr-defined]
    assert lv["errors"] == {kind: 3}
    assert (lv["requests_ok"], lv["requests_failed"]) == (6, 3)
    assert lv["output_tokens"] == 6 * 6
    assert lv["ttft_s"]["p50"] > 0.001


def test_a_pooled_connection_the_server_dropped_is_retried_once_on_a_new_one(bench_cli: Callable[..., object]) -> None:
    # every third POST is dropped unanswered on its keep-alive connection (prewarmed or reused): the client
    # sends it again on a new connection, which the next plan entry serves; nothing is lost or counted twice
    with ScriptedServer(ttft_s=0.002, tpot_s=0.001, plan=lambda n: "drop" if n % 3 == 1 else "ok") as srv:
        r = bench_cli("--url", srv.url, "--concurrency", "1", "--num-requests", "8", *BASE)
        faults = [s.fault for s in srv.served]
    lv = _level(r)
    assert r.exit_code == 0, r.stderr  # type: ignore[attr-defined]
    assert (lv["requests_ok"], lv["requests_failed"], lv["errors"]) == (8, 0, {})
    assert faults.count("drop") >= 3 and len(faults) == 8 + faults.count("drop")


def test_a_drop_on_a_fresh_connection_is_not_retried(bench_cli: Callable[..., object]) -> None:
    # a new connection closed unanswered is the server's failure, not a stale connection: classified, once
    with ScriptedServer(ttft_s=0.002, tpot_s=0.001, plan=lambda n: "drop") as srv:
        r = bench_cli("--url", srv.url, "--concurrency", "1", "--num-requests", "3", *BASE)
        posts = len(srv.served)
    lv = _level(r)
    assert (lv["requests_ok"], lv["errors"]) == (0, {"connection_reset": 3})
    # the first request went out on the prewarmed (pooled) connection and once more on a new one; the pool
    # was then empty, so the other two went out once each, on new connections
    assert posts == 4


def test_connection_refused_when_nothing_listens(bench_cli: Callable[..., object]) -> None:
    r = bench_cli("--url", f"http://127.0.0.1:{free_port()}", "--concurrency", "2", "--num-requests", "4", *BASE)
    lv = _level(r)
    assert lv["errors"] == {"connection_refused": 4} and lv["requests_ok"] == 0
    assert lv["ttft_s"] is None and lv["output_tokens_per_s"] is None  # not measured, not 0.0


def test_stalled_stream_times_out_and_the_run_goes_on(bench_cli: Callable[..., object]) -> None:
    with ScriptedServer(ttft_s=0.001, plan=lambda n: "stall" if n == 0 else "ok") as srv:
        t = time.monotonic()
        r = bench_cli("--url", srv.url, "--concurrency", "2", "--num-requests", "6", "--timeout", "300ms", *BASE)
        took = time.monotonic() - t
    lv = _level(r)
    assert lv["errors"] == {"timeout": 1} and lv["requests_ok"] == 5
    assert took < 5


def test_429_retry_after_is_counted_and_honoured(bench_cli: Callable[..., object]) -> None:
    with ScriptedServer(plan=lambda n: "status:429:0.3" if n < 2 else "ok") as srv:
        r = bench_cli("--url", srv.url, "--concurrency", "1", "--num-requests", "5", *BASE)
        sent = [s.received_ns for s in srv.served]
    lv = _level(r)
    assert lv["errors"] == {"http_429": 2} and lv["requests_ok"] == 3
    gaps = [(b - a) / 1e9 for a, b in zip(sent, sent[1:], strict=False)]
    assert gaps[0] >= 0.29 and gaps[1] >= 0.29  # the worker waited as told before its next request
    assert gaps[2] < 0.25


def test_server_killed_mid_run_keeps_what_was_measured(bench_cli: Callable[..., object]) -> None:
    with ScriptedServer(ttft_s=0.005, tpot_s=0.005) as srv:
        threading.Timer(0.4, srv.kill).start()
        r = bench_cli("--url", srv.url, "--concurrency", "2", "--num-requests", "60", *BASE)
    lv = _level(r)
    # the run completes, printed and saved; most of its requests failed (at most ~22 fit in the 0.4 s before the
    # kill), above the default --max-failures of 50%: exit 3 (before: 0)
    assert r.exit_code == 3 and r.json["run_id"] is not None  # type: ignore[attr-defined]
    assert lv["requests_ok"] > 0 and lv["requests_failed"] > 0
    assert lv["requests_ok"] + lv["requests_failed"] == 60
    assert set(lv["errors"]) <= {"connection_refused", "connection_reset"}
    assert lv["errors"].get("connection_refused", 0) > 0
    assert lv["ttft_s"] is not None


def test_ctrl_c_stops_cleanly_and_keeps_measured_requests(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite"
    with ScriptedServer(ttft_s=0.01, tpot_s=0.02) as srv:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tcobench", "--db", str(db), "bench", "--url", srv.url, "--model", "m",
             "--concurrency", "2,4", "--num-requests", "1000", "--output-len", "10", "--warmup", "0", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 30
        while srv.posts < 12 and time.monotonic() < deadline:  # let some requests finish first
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err.decode()
    doc = json.loads(out)
    assert doc["interrupted"] is True and len(doc["levels"]) == 1  # the second level never started
    lv, detail = doc["levels"][0], doc["details"][0]
    assert lv["requests_ok"] >= 8 and detail["requests_cancelled"] >= 1
    assert "cancelled" not in lv["errors"]  # stopping is not a server failure
    saved = Store.open(str(db)).get(doc["run_id"])
    assert saved.outputs["interrupted"] is True and saved.outputs["levels"][0]["requests_ok"] == lv["requests_ok"]

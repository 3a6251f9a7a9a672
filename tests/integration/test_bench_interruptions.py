"""What ``tcobench bench`` keeps when something stops it (docs/bench.md, "Exit codes and interruptions"): a store
that cannot be opened fails before any request is sent; a save that fails at the end still prints the results and
keeps them in a file; SIGTERM and SIGHUP to a real process stop it as Ctrl-C does. Real SQLite and PostgreSQL, the
scripted server (tests/servers/scripted.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tcobench.store import Store, resolve_url
from tests.servers.scripted import ScriptedServer
from tests.servers.vllm import free_port

QUICK = ["--model", "m", "--output-len", "4", "--warmup", "0", "--quiet"]


@pytest.mark.parametrize("kind", ["sqlite-not-a-database", "sqlite-folder-is-a-file", "postgres-no-such-database",
                                  "postgres-nothing-listening"])
def test_a_store_that_cannot_be_opened_fails_before_any_request_is_sent(cli, tmp_path: Path, kind: str,
                                                                         request: pytest.FixtureRequest) -> None:
    if kind == "sqlite-not-a-database":
        db = tmp_path / "runs.sqlite"
        db.write_text("not a database\n" * 100)
    elif kind == "sqlite-folder-is-a-file":
        (tmp_path / "file").write_text("")
        db = tmp_path / "file" / "runs.sqlite"
    elif kind == "postgres-no-such-database":
        db = request.getfixturevalue("postgres_url") + "_missing"
    else:
        db = f"postgresql://tcobench:pw@127.0.0.1:{free_port()}/tcobench"
    with ScriptedServer() as srv:
        r = cli("--db", str(db), "bench", "--url", srv.url, "--num-requests", "20", *QUICK)
        posts = srv.posts
    assert (r.code, posts, r.out) == (1, 0, "")  # nothing sent, nothing printed but the error
    assert r.err.startswith("StoreError: cannot open results store") and len(r.err.strip().splitlines()) == 1, r.err
    assert "(chosen by --db or TCOBENCH_DB)" in r.err and "nothing was sent (--no-save runs without saving)" in r.err
    with ScriptedServer() as srv:  # the same store is never opened with --no-save
        assert cli("--db", str(db), "bench", "--url", srv.url, "--num-requests", "2", "--no-save", *QUICK).code == 0


@pytest.mark.parametrize("backend, as_json", [("sqlite", True), ("sqlite", False), ("postgres", True)])
def test_a_save_that_fails_at_the_end_still_prints_the_results_and_keeps_them_in_a_file(
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, backend: str,
        as_json: bool) -> None:
    db = str(tmp_path / "runs.sqlite") if backend == "sqlite" else request.getfixturevalue("fresh_postgres")
    monkeypatch.chdir(tmp_path)
    engine = sa.create_engine(resolve_url(db))

    def plan(n: int) -> str:
        if n == 0:  # the store opened fine before the run; now it loses its table, as a store can fail mid-run
            with engine.begin() as conn:
                conn.execute(sa.text("DROP TABLE runs"))
        return "ok"

    with ScriptedServer(plan=plan) as srv:
        r = cli("--db", db, "bench", "--url", srv.url, "--num-requests", "5", *QUICK, *(["--json"] if as_json else []))
    engine.dispose()
    assert r.code == 1, r.err
    assert "StoreError: cannot save run to" in r.err and "the results above were not saved; they are in " in r.err
    kept = Path(r.err.rsplit("they are in ", 1)[1].split()[0].strip())
    assert kept.parent == tmp_path and kept.name.startswith("tcobench-bench-")
    doc = json.loads(kept.read_text())
    assert doc["levels"][0]["requests_ok"] == 5 and doc["run_id"] is None
    if as_json:
        assert json.loads(r.out) == doc
    else:
        assert "c=1" in r.out and "saved as run" not in r.out


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_stop_a_real_process_and_keep_what_was_measured(
        tmp_path: Path, request: pytest.FixtureRequest, sig: signal.Signals, code: int) -> None:
    # SIGTERM on PostgreSQL, SIGHUP on SQLite: both stores, both signals, one process each
    db = request.getfixturevalue("fresh_postgres") if sig == signal.SIGTERM else str(tmp_path / "runs.sqlite")
    with ScriptedServer(ttft_s=0.01, tpot_s=0.02) as srv:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tcobench", "--db", db, "bench", "--url", srv.url, "--model", "m", "--concurrency",
             "2,4", "--num-requests", "1000", "--output-len", "10", "--warmup", "0", "--json", "--label", sig.name],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 30
        while srv.posts < 12 and time.monotonic() < deadline:  # let some requests finish first
            time.sleep(0.05)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err.decode()
    assert f"Interrupted by {sig.name}: kept the requests measured so far." in err.decode()
    doc = json.loads(out)
    assert doc["interrupted"] is True and doc["interrupted_by"] == sig.name and len(doc["levels"]) == 1
    lv, detail = doc["levels"][0], doc["details"][0]
    assert lv["requests_ok"] >= 8 and detail["requests_cancelled"] >= 1 and "cancelled" not in lv["errors"]
    saved = Store.open(db).get(doc["run_id"])
    assert saved.label == sig.name and saved.outputs["interrupted_by"] == sig.name
    assert saved.outputs["levels"][0]["requests_ok"] == lv["requests_ok"]
    assert saved.outputs["levels"][0]["requests_cancelled"] == detail["requests_cancelled"]


@pytest.mark.parametrize("load, plan", [
    (["--concurrency", "2"], lambda n: "stall" if n == 0 else "ok"),  # one worker's stream stalls at once
    (["--rate", "20", "--arrival", "constant"], lambda n: "stall" if n % 3 == 0 else "ok"),
])
def test_duration_is_a_hard_deadline_even_when_streams_stall(bench_cli, load: list[str], plan) -> None:  # type: ignore[no-untyped-def]
    # --timeout is left at its 300 s: before, the level waited for the stalled streams' timeouts
    with ScriptedServer(ttft_s=0.005, tpot_s=0.005, plan=plan) as srv:
        t = time.monotonic()
        r = bench_cli("--url", srv.url, *load, "--duration", "1s", *QUICK, "--json")
        took = time.monotonic() - t
    assert r.exit_code == 0, r.stderr
    assert took < 6
    lv, detail = r.json["levels"][0], r.json["details"][0]
    assert 0.9 < detail["duration_s"] < 1.5  # ended at the deadline
    assert detail["requests_cancelled"] >= 1 and lv["requests_ok"] >= 5
    assert lv["errors"] == {} and lv["requests_failed"] == 0  # cancelled at the deadline: counted, not failures
    assert r.json["interrupted"] is False


@pytest.mark.parametrize("plan, limit, code", [
    (lambda n: "status:503", None, 3),  # every request fails: before, exit 0
    (lambda n: "status:503", "100%", 0),  # 100%: the check is off
    (lambda n: "bad_status" if n % 3 == 0 else "ok", "0.2", 3),  # 2 of 6 failed (33%), above 20%
    (lambda n: "bad_status" if n % 3 == 0 else "ok", None, 0),  # the same run, within the default 50%
])
def test_max_failures_sets_exit_code_3_after_printing_and_saving(bench_cli, plan, limit: str | None, code: int) -> None:  # type: ignore[no-untyped-def]
    with ScriptedServer(plan=plan) as srv:
        r = bench_cli("--url", srv.url, "--num-requests", "6", *QUICK, "--json",
                      *(["--max-failures", limit] if limit else []))
    assert r.exit_code == code, r.stderr
    doc = r.json
    assert doc["too_many_failures"] is (code == 3) and doc["run_id"] is not None  # printed and saved either way
    assert doc["settings"]["max_failures"] == {None: 0.5, "100%": 1.0, "0.2": 0.2}[limit]
    assert Store.open(str(r.db)).get(doc["run_id"]).outputs["levels"][0]["requests_failed"] == \
        doc["levels"][0]["requests_failed"]
    if code == 3:
        assert "Too many failures at c=1: " in r.stderr and "above --max-failures" in r.stderr
    else:
        assert "Too many failures" not in r.stderr


def test_a_level_whose_every_request_stalled_past_its_deadline_fails_the_run(bench_cli) -> None:  # type: ignore[no-untyped-def]
    with ScriptedServer(ttft_s=0.005, plan=lambda n: "stall") as srv:
        r = bench_cli("--url", srv.url, "--concurrency", "2", "--duration", "500ms", *QUICK, "--json")
    assert r.exit_code == 3, r.stderr
    assert r.json["details"][0]["requests_cancelled"] == 2 and r.json["levels"][0]["requests_ok"] == 0
    assert "no request finished (2 cancelled at the deadline)" in r.stderr

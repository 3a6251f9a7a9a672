"""``bench`` spread over a real dask.distributed cluster of 2 worker processes, started by the tests: the parts add
up to the level (requests recorded = the sum over the workers = what the server received), the open loop's parts
send exactly the single-process schedule, and a worker killed mid-level loses only the requests it had not reported,
which the result names (--json, table, saved run). Against the scripted server and against vLLM's CPU build."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

distributed = pytest.importorskip("distributed", reason="the extra tcobench[distributed] is not installed")

import tcobench  # noqa: E402
from tcobench.loadgen.api import Api  # noqa: E402
from tcobench.loadgen.arrivals import Arrival, offsets  # noqa: E402
from tcobench.loadgen.metrics import compute  # noqa: E402
from tcobench.loadgen.prompts import LengthDist, RandomPrompts  # noqa: E402
from tcobench.loadgen.runner import Load, Plan  # noqa: E402
from tcobench.loadgen.spread import Endpoint, Hidden, spread_level  # noqa: E402
from tcobench.search.executor import connect  # noqa: E402
from tests.servers.scripted import ScriptedServer  # noqa: E402

pytestmark = pytest.mark.slow
PROMPTS = RandomPrompts(LengthDist.parse("16"), seed=0)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  worker_dashboard_address=None, silence_logs=40) as c:
        yield c


def endpoint(url: str) -> Endpoint:
    return Endpoint(Hidden(url), "m", Api.CHAT, 30.0, 64, True, "OPENAI_API_KEY", False, PROMPTS)


def kept_events(dask_scheduler: Any) -> dict[str, int]:
    """How many messages of each tcobench topic the scheduler keeps."""
    return {k: len(v) for k, v in dask_scheduler.get_events().items() if k.startswith("tcobench-")}


def test_the_open_loop_parts_send_the_single_process_schedule(cluster: Any) -> None:
    ex = connect(scheduler=cluster.scheduler_address)
    try:
        with ScriptedServer(ttft_s=0.005, tpot_s=0.001) as srv:
            load, plan = Load(rate=200.0, arrival=Arrival("poisson")), Plan(num_requests=150, warmup=10, output_len=4)
            run = spread_level(ex, endpoint(srv.url), load, plan, first_index=0, seed=7, stop=threading.Event())
            posts = srv.posts
        kept = ex.client.run_on_scheduler(kept_events)  # type: ignore[union-attr]
    finally:
        ex.close()
    assert kept == {}  # the scheduler keeps none of the records it passed on (without the truncation: 26 here, up to 1000 a level)
    assert ex.workers == 2 and run.client_requests == (80, 80) and not run.lost
    assert [r.index for r in run.results] == list(range(160)) and posts == 160  # recorded = sum = received
    assert [r.warmup for r in run.results] == [True] * 10 + [False] * 150
    # one seeded schedule, every other arrival on each worker: the intended send times are the single process's
    schedule = [int(t * 1e9) for t, _ in zip(offsets(Arrival("poisson"), 200.0, 7), range(160), strict=False)]
    assert [r.intended_ns - run.start_ns for r in run.results] == schedule
    level = compute(run)
    assert level.requests_ok == 150 and level.clients == 2 and level.requests_lost == 0
    assert level.client_lag_s is not None and level.client_lag_s.p50 < 0.005  # both parts started on time


def test_bench_on_two_workers_counts_every_request(cli: Callable[..., Any]) -> None:
    with ScriptedServer(ttft_s=0.01, tpot_s=0.002) as srv:
        r = cli("bench", "--url", srv.url, "--model", "m", "--concurrency", "5", "--rate", "40", "--num-requests",
                "30", "--warmup", "2", "--output-len", "4", "--input-len", "16", "--workers", "2", "--json", "--quiet",
                "--no-save")
        posts = srv.posts
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    for level, detail in zip(doc["levels"], doc["details"], strict=True):
        assert level["requests_ok"] == 30 and level["clients"] == 2 and level["requests_lost"] == 0
        assert sum(detail["client_requests"]) == 32 and min(detail["client_requests"]) > 0
    assert doc["details"][0]["client_requests"] == [18 + 1, 12 + 1]  # concurrency 3 + 2: requests and warm-ups in proportion
    assert posts == 64


def test_a_killed_worker_loses_only_its_unreported_requests(cluster: Any, bench_cli: Callable[..., Any]) -> None:
    """Closed loop, 2 requests in flight per worker for 4 s; one worker's process is killed about 1 s in (then a
    second level, 1 request in flight per worker). The other
    worker's requests are all recorded; the dead one's records up to its last report are kept, and what it lost is
    named in --json, the table and the saved run."""
    client = distributed.Client(cluster.scheduler_address, set_as_default=False)
    try:
        pids = client.run(os.getpid)
        victim = sorted(pids)[1]  # the part numbered 1 (odd requests) runs on the second worker by address

        def kill(srv: ScriptedServer) -> None:
            deadline = time.monotonic() + 60
            while srv.posts < 40 and time.monotonic() < deadline:  # well into the level (about 1 s of it)
                time.sleep(0.01)
            os.kill(pids[victim], signal.SIGKILL)

        with ScriptedServer(ttft_s=0.02, tpot_s=0.005, tokens=8) as srv:
            threading.Thread(target=kill, args=(srv,), daemon=True).start()
            r = bench_cli("--url", srv.url, "--model", "m", "--concurrency", "4,2", "--duration", "4s", "--warmup", "0",
                          "--output-len", "8", "--input-len", "16", "--scheduler", cluster.scheduler_address, "--quiet")
            bodies = list(srv.bodies)
        client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker: later tests use 2
    finally:
        client.close()
    assert r.exit_code == 0, r.stderr
    assert "2 (1 lost)" in r.stdout and f"lost at c=4: worker {victim} died; at least" in r.stdout
    with sqlite3.connect(r.db) as db:  # the saved run: the level's details, as --json's "details"
        level = detail = json.loads(db.execute("select outputs from runs").fetchone()[0])["levels"][0]
        after = json.loads(db.execute("select outputs from runs").fetchone()[0])["levels"][1]
    # the next level runs on both workers again (the nanny restarted the killed one), nothing lost
    assert after["clients"] == 2 and after["requests_lost"] == 0 and min(after["client_requests"]) > 5
    assert level["clients"] == 2 and len(level["lost_clients"]) == 1
    lost = level["lost_clients"][0]
    assert lost["worker"] == victim and "died" in lost["reason"]
    text = {PROMPTS[k].as_text(): k for k in range(4000)}
    sent = [text.get(json.loads(b)["messages"][0]["content"]) for b in bodies]
    received = [k for k in sent if k is not None]  # the first level's (the second's prompts are numbered from 10^6)
    assert len(received) > len(sent) / 2
    recorded = detail["client_requests"]
    live = [k for k in received if k % 2 == 0]
    dead = [k for k in received if k % 2 == 1]
    # the live worker: every request it sent is recorded (finished, or cancelled at the level's end)
    assert recorded[0] == len(live) > 20
    # the dead worker: what it reported is kept; what it did not is at least the count reported lost, and at most
    # that plus what it could send in one report interval (2 in flight, each ~60 ms)
    unreported = len(dead) - recorded[1]
    assert recorded[1] > 5 and 0 <= level["requests_lost"] <= unreported <= level["requests_lost"] + 4
    assert level["requests_ok"] + level["requests_failed"] + level["requests_cancelled"] == sum(recorded)


@pytest.mark.server
def test_bench_on_two_workers_against_vllm(cluster: Any, vllm_server: Any) -> None:
    """vLLM's CPU build: the requests the server completed are the requests recorded, the sum over the workers."""
    from tests.integration.test_bench_vllm import settled_metrics
    from tests.servers.vllm import MODEL_NAME

    before = vllm_server.metrics()
    res = tcobench.bench(vllm_server.url, MODEL_NAME, api="completions", concurrency=4, num_requests=8, warmup=2,
                         input_len=16, output_len=16, scheduler=cluster.scheduler_address)
    level = res.measured[0].level
    after = settled_metrics(vllm_server, before, {"vllm:request_success_total": 10})
    assert level.clients == 2 and level.requests_lost == 0 and not level.lost_clients
    assert level.requests_ok == 8 and level.requests_warmup == 2 and sum(level.client_requests) == 10
    assert after["vllm:request_success_total"] - before.get("vllm:request_success_total", 0.0) == 10
    assert level.output_tokens == 8 * 16 and level.token_count_source == "usage"


def test_the_key_stays_in_each_process_environment(cluster: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers read the API key from their own environment: a local cluster started after it was set sends it;
    a cluster whose workers lack it refuses to run unauthenticated, naming the flag, not the key."""
    key = "sk-test-0123456789abcdefghijklmnopqrstuv"
    monkeypatch.setenv("TCOBENCH_TEST_KEY", key)
    seen: list[str] = []
    with ScriptedServer() as srv:
        srv.on_headers = seen.append
        res = tcobench.bench(srv.url, "m", num_requests=4, warmup=0, output_len=2, concurrency=2, workers=2,
                             api_key_env="TCOBENCH_TEST_KEY")
        with pytest.raises(tcobench.InputError, match="api_key_env.*not set on worker") as err:
            tcobench.bench(srv.url, "m", num_requests=2, warmup=0, output_len=2, scheduler=cluster.scheduler_address,
                           api_key_env="TCOBENCH_TEST_KEY")  # the module's cluster started before the variable was set
    assert seen and all(h == f"Bearer {key}" for h in seen)
    assert key not in json.dumps(res.to_dict()) and key not in str(err.value)


def test_ctrl_c_stops_every_worker_and_keeps_what_they_measured(tmp_path: Any) -> None:
    """SIGINT to the client: the stop reaches the workers (through the cluster), the level ends within seconds of a
    20 s duration, and what both workers measured is printed and saved; exit 130 as for one process."""
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    with ScriptedServer(ttft_s=0.01, tpot_s=0.002) as srv:
        proc = subprocess.Popen([sys.executable, "-m", "tcobench", "--db", str(tmp_path / "runs.sqlite"), "bench",
                                 "--url", srv.url, "--model", "m", "--concurrency", "4", "--duration", "20s",
                                 "--output-len", "8", "--workers", "2", "--quiet"], cwd=repo, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={**os.environ, "PYTHONPATH": str(repo / "src")})
        deadline = time.monotonic() + 60
        while srv.posts < 50 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert time.monotonic() - sent < 10
    assert "tcobench bench (interrupted)" in out and "Interrupted by SIGINT" in err
    with sqlite3.connect(tmp_path / "runs.sqlite") as db:
        level = json.loads(db.execute("select outputs from runs").fetchone()[0])["levels"][0]
    assert level["clients"] == 2 and level["interrupted"] is True and level["requests_ok"] >= 40
    assert min(level["client_requests"]) > 10 and level["requests_lost"] == 0

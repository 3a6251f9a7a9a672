"""A level cut into parts for several client processes: the parts add up to the level (counts, concurrency, the very
requests and send times of one process's open loop), the merge keeps every record reported and names what a dead
part lost, credentials stay hidden, and the default path never imports Dask. On a real cluster:
tests/integration/test_bench_distributed.py."""

from __future__ import annotations

import asyncio
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import tcobench
from tcobench.errors import InputError
from tcobench.loadgen.api import Api
from tcobench.loadgen.arrivals import Arrival
from tcobench.loadgen.metrics import compute
from tcobench.loadgen.prompts import LengthDist, Prompt, RandomPrompts
from tcobench.loadgen.result import RequestResult
from tcobench.loadgen.runner import ClientUse, LevelRun, Load, Part, Plan, run_level
from tcobench.loadgen.spread import Endpoint, Hidden, PartDone, split, spread_level

REPO = Path(__file__).resolve().parents[3]
PROMPTS = RandomPrompts(LengthDist.parse("4"), seed=1)


@pytest.mark.parametrize(("load", "plan", "n", "conc", "reqs", "warm"), [
    (Load(concurrency=5), Plan(num_requests=30, warmup=2), 2, [3, 2], [18, 12], [1, 1]),
    (Load(concurrency=7), Plan(num_requests=10, warmup=7), 3, [3, 2, 2], [4, 3, 3], [3, 2, 2]),
    (Load(concurrency=1), Plan(num_requests=10), 4, [1], [10], [0]),  # fewer requests in flight than workers
    (Load(concurrency=4), Plan(num_requests=1), 2, [2], [1], [0]),  # a part with no request is left out
    (Load(concurrency=6), Plan(duration_s=5.0, warmup=3), 4, [2, 2, 1, 1], [None] * 4, [1, 1, 1, 0]),
])
def test_a_closed_loop_splits_into_parts_that_add_up(load: Load, plan: Plan, n: int, conc: list[int],
                                                     reqs: list[int | None], warm: list[int]) -> None:
    parts = split(load, plan, n)
    assert [ld.concurrency for ld, _, _ in parts] == conc
    assert [p.num_requests for _, p, _ in parts] == reqs
    assert [p.warmup for _, p, _ in parts] == warm
    assert all(p.duration_s == plan.duration_s for _, p, _ in parts)


def test_an_open_loop_gives_every_part_the_whole_schedule() -> None:
    load, plan = Load(rate=100.0), Plan(num_requests=50, warmup=5)
    assert split(load, plan, 3) == [(load, plan, Part(i, 3)) for i in range(3)]


class FakeClient:
    """Answers at once: enough to see which requests a part sends and when it meant to send them."""

    async def send(self, index: int, prompt: Prompt, max_tokens: int | None, *, intended_ns: int,
                   warmup: bool = False) -> RequestResult:
        await asyncio.sleep(0)
        return RequestResult(index, warmup, intended_ns, intended_ns, intended_ns + 1, (intended_ns + 1,), 1)


def sent(load: Load, plan: Plan, part: Part, start: int) -> list[tuple[int, bool, int]]:
    run = asyncio.run(run_level(FakeClient(), PROMPTS, load, plan, part=part, start_ns=start, seed=3))  # type: ignore[arg-type]
    return [(r.index, r.warmup, r.intended_ns - start) for r in run.results]


def test_open_loop_parts_send_exactly_the_single_process_requests() -> None:
    load, plan = Load(rate=5000.0, arrival=Arrival("poisson")), Plan(num_requests=40, warmup=4)
    start = tcobench_now() + 10_000_000
    whole = sent(load, plan, Part(), start)
    parts = [sent(load, plan, Part(i, 3), start) for i in range(3)]
    assert sorted(x for p in parts for x in p) == whole and len(whole) == 44
    assert [len(p) for p in parts] == [15, 15, 14]


def test_closed_loop_parts_number_their_requests_apart() -> None:
    start = tcobench_now()
    parts = [sent(ld, pl, pt, start) for ld, pl, pt in split(Load(concurrency=3), Plan(num_requests=20, warmup=3), 2)]
    indices = [k for p in parts for k, _, _ in p]
    assert len(indices) == len(set(indices)) == 23
    assert sum(w for p in parts for _, w, _ in p) == 3


def tcobench_now() -> int:
    from tcobench.loadgen.client import now_ns

    return now_ns()


@dataclass
class Outcome:
    worker: str
    result: PartDone | None
    error: str | None


class FakeSpreader:
    """Two parts that never run: part 0 streams two records and returns one more, part 1 streams one record saying
    it had sent four, then its worker 'dies'."""

    def live_workers(self) -> int:
        return 2

    def together(self, fn: Callable[..., Any], items: Sequence[Any], context: Any,
                 on_message: Callable[[int, bytes], None], stop: threading.Event) -> list[Outcome]:
        t0 = items[0].client_start_ns
        rec = [RequestResult(k, False, t0 + k, t0 + k, t0 + 100 + k, (t0 + 50 + k,), 1) for k in range(4)]
        on_message(0, pickle.dumps((2, [rec[0], rec[2]])))
        on_message(1, pickle.dumps((4, [rec[1]])))
        done = PartDone((rec[3],), t0 + 200, ClientUse(0.1, 1.0), False)
        return [Outcome("tcp://a:1", done, None), Outcome("tcp://b:2", None, "the worker died (KilledWorker)")]


def test_the_merge_keeps_what_was_reported_and_names_what_a_dead_part_lost() -> None:
    seen: list[int] = []
    endpoint = Endpoint(Hidden("http://u:secret@h:1"), "m", Api.CHAT, 1.0, 8, True, "K", False, PROMPTS)
    run = spread_level(FakeSpreader(), endpoint, Load(concurrency=2), Plan(num_requests=4), first_index=0, seed=0,
                       stop=threading.Event(), progress=lambda r: seen.append(r.index))
    assert [r.index for r in run.results] == [0, 1, 2, 3] and sorted(seen) == [0, 1, 2, 3]  # streamed and returned
    assert run.client_requests == (3, 1) and len(run.clients) == 1
    (lost,) = run.lost
    assert (lost.worker, lost.requests_lost) == ("tcp://b:2", 3) and "died" in lost.reason
    level = compute(run)
    assert (level.requests_ok, level.clients, level.requests_lost) == (4, 2, 3)
    # the metrics of the merge are those of one process's records: the same computation on the same records
    assert level == compute(LevelRun(run.load, run.results, run.start_ns, run.end_ns, clients=run.clients,
                                     lost=run.lost, client_requests=run.client_requests))


def test_credentials_travel_hidden() -> None:
    h = Hidden("http://user:hunter2@host:8000/?api_key=sk-abcdef")
    endpoint = Endpoint(h, "m", Api.CHAT, 1.0, 8, True, "K", False, PROMPTS)
    assert "hunter2" not in repr(endpoint) and "sk-abcdef" not in repr(endpoint) and "hunter2" not in str(h)
    assert pickle.loads(pickle.dumps(h)).value == h.value  # what the worker sends with


def test_workers_and_scheduler_are_checked_before_anything_starts() -> None:
    with pytest.raises(InputError, match="give one of them"):
        tcobench.bench("http://127.0.0.1:9", "m", workers=2, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(InputError, match="worker processes from 1"):
        tcobench.bench("http://127.0.0.1:9", "m", workers=0)


def test_the_default_bench_never_imports_dask_distributed() -> None:
    code = ("import sys\nimport pint\nbefore = {m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')}\n"
            "import tcobench, tcobench.cli.bench, tcobench.loadgen.spread\n"
            "from tests.servers.scripted import ScriptedServer\n"
            "with ScriptedServer() as srv:\n"
            "    r = tcobench.bench(srv.url, 'm', num_requests=3, output_len=2)\n"
            "assert r.measured[0].level.requests_ok == 3\n"
            "after = {m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')}\n"
            "print(sorted(after - before))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         env={"PYTHONPATH": f"{REPO / 'src'}:{REPO}"}, check=True).stdout
    assert out.strip() == "[]"

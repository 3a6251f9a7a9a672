"""A client that is itself the bottleneck is caught: with its core taken by a busy thread that holds the GIL (a
tiny CPU budget for its event loop), a level is marked client-bound in --json, the table and the saved run; the
same level with the client left alone is not."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import tcobench
from tests.servers.scripted import ScriptedServer

ARGS = dict(concurrency=4, num_requests=40, output_len=8, input_len=16, warmup=0)


@pytest.fixture
def starved() -> Iterator[None]:
    """A thread that spins in Python: the GIL passes to the event loop only every switch interval (5 ms)."""
    done = threading.Event()

    def spin() -> None:
        n = 0
        while not done.is_set():
            n += 1

    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    t = threading.Thread(target=spin, daemon=True)
    t.start()
    try:
        yield
    finally:
        done.set()
        t.join()
        sys.setswitchinterval(interval)


def test_a_client_left_alone_is_not_client_bound() -> None:
    with ScriptedServer(ttft_s=0.02, tpot_s=0.002) as srv:
        lv = tcobench.bench(srv.url, "m", **ARGS).measured[0].level  # type: ignore[arg-type]
    assert lv.client_bound is False and lv.client_bound_reason is None
    assert lv.client_loop_s is not None and lv.client_loop_s.count > 10


def test_a_starved_client_marks_the_level(bench_cli: Callable[..., Any], starved: None) -> None:
    with ScriptedServer(ttft_s=0.02, tpot_s=0.002) as srv:
        r = bench_cli("--url", srv.url, "--model", "m", "--concurrency", "4", "--num-requests", "12", "--output-len",
                      "4", "--input-len", "16", "--warmup", "0", "--json", "--quiet")
        table = bench_cli("--url", srv.url, "--model", "m", "--concurrency", "4", "--num-requests", "12",
                          "--output-len", "4", "--input-len", "16", "--warmup", "0", "--quiet", "--no-save")
    assert r.exit_code == 0, r.stderr
    level = r.json["levels"][0]
    assert level["client_bound"] is True
    reason = level["client_bound_reason"]  # the busy thread takes the core, and the loop waits for the GIL: either
    assert ("of a CPU core" in reason or "event loop took" in reason) and "--workers" in reason
    assert r.json["details"][0]["client_bound"] is True and r.json["details"][0]["client_loop_s"] is not None
    assert "BOUND" in table.stdout and "client-bound at c=4:" in table.stdout

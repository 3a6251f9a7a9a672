"""predict under load (--rate, --concurrency, --arrivals): the percentiles as a user sees them, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tcobench

BASE = ("predict", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--input-len", "1000", "--output-len", "200")


def test_rate_prints_percentiles_and_json_holds_them(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli(*BASE, "--rate", "10", "--requests", "300", "--slo-ttft", "200ms", "--json")
    assert r.code == 0, r.err
    s = json.loads(r.out)["serving"]
    for key in ("ttft_s", "tpot_s", "itl_s", "e2e_s"):
        assert 0 < s[key]["p50"] <= s[key]["p90"] <= s[key]["p99"], key
    assert s["requests"] == 300 and s["offered_rate"] == 10 and s["saturated"] is False
    assert s["goodput_requests_per_s"] is not None and s["slo"]["ttft_s"] == 0.2
    text = cli(*BASE, "--rate", "10", "--requests", "300", "--slo-ttft", "200ms")
    assert text.code == 0, text.err
    assert "under load: 10 requests/s, poisson arrivals, 300 requests simulated" in text.out
    assert "goodput (TTFT <= 200 ms)" in text.out


def test_the_python_call_returns_what_json_prints(cli) -> None:  # type: ignore[no-untyped-def]
    p = tcobench.predict("llama-3.1-8b", "h100-sxm", input_len=1000, output_len=200, rate=10, requests=300,
                         slo_ttft="200ms")
    assert p.serving is not None
    doc = json.loads(cli(*BASE, "--rate", "10", "--requests", "300", "--slo-ttft", "200ms", "--json").out)
    assert json.loads(json.dumps(p.to_dict()["serving"])) == doc["serving"]


def test_a_rate_past_saturation_says_the_queue_grows(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli(*BASE, "--rate", "500", "--requests", "2000", "--slo-ttft", "1s")
    assert r.code == 0, r.err
    assert "saturated: the queue grows without bound" in r.out
    assert "first miss: the request sent at" in r.out


def test_concurrency_and_a_trace(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli(*BASE, "--concurrency", "8", "--requests", "100", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["serving"]["concurrency"] == 8
    trace = tmp_path / "trace.csv"
    trace.write_text("time_s,input_tokens,output_tokens\n0,500,100\n0.1,2000,50\n0.15,100,300\n")
    r = cli(*BASE, "--arrivals", str(trace), "--json")
    assert r.code == 0, r.err
    s = json.loads(r.out)["serving"]
    assert s["requests"] == 3 and "trace trace.csv" in s["traffic"]


@pytest.mark.parametrize(("args", "message"), [
    (("--rate", "nan"), "--rate 'nan' is not a number"),
    (("--rate", "inf"), "--rate 'inf' is not a number"),
    (("--rate", "-2"), "--rate -2.0 is out of range"),
    (("--rate", "0"), "--rate 0.0 is out of range"),
    (("--rate", "5", "--slo-ttft", "0ms"), "--slo-ttft"),
    (("--rate", "5", "--concurrency", "4"), "give --rate (an open loop) or --concurrency (a closed loop), not both"),
    (("--rate", "5", "--arrivals", "gamma:0"), "--arrivals 'gamma:0': the coefficient of variation 0.0 is out of range"),
    (("--rate", "5", "--arrivals", "poison"), "did you mean 'poisson'?"),
    (("--arrivals", "poisson"), "--arrivals describes a serving simulation: give --rate"),
    (("--concurrency", "4", "--arrivals", "gamma:2"), "--arrivals 'gamma:2' is an open loop's arrival process"),
])
def test_bad_load_input_exits_2_naming_the_flag_and_value(cli, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    r = cli(*BASE, *args)
    assert r.code == 2, (r.out, r.err)
    assert message in r.err and len(r.err.strip().splitlines()) == 1, r.err


@pytest.mark.parametrize(("text", "message"), [
    ("0,10,10\n2,10,10\n1,10,10\n", "line 3: time 1 is before the previous line's 2"),
    ("0,10,10\n1,-5,10\n", "line 2: input tokens '-5' is not a whole number"),
    ("0,10,10\n1,10,-1\n", "line 2: output tokens '-1' is not a whole number"),
])
def test_a_bad_trace_exits_2_naming_the_file_line_and_value(cli, tmp_path: Path, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    trace = tmp_path / "t.csv"
    trace.write_text(text)
    r = cli(*BASE, "--arrivals", str(trace))
    assert r.code == 2, (r.out, r.err)
    assert "t.csv" in r.err and message in r.err, r.err

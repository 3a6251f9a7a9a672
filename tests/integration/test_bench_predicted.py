"""bench's terminal table puts perf's TTFT and TPOT beside the measured ones when a model and hardware are given."""

from __future__ import annotations

from collections.abc import Callable

from tests.servers.scripted import ScriptedServer


def test_table_shows_predicted_beside_measured_only_with_a_model_spec(bench_cli: Callable[..., object]) -> None:
    with ScriptedServer(ttft_s=0.02, tpot_s=0.002) as srv:
        common = ("--url", srv.url, "--model", "m", "--concurrency", "1,2", "--num-requests", "4", "--output-len", "8",
                  "--warmup", "0", "--quiet", "--no-save", "--hardware", "h100-sxm")
        with_spec = bench_cli(*common, "--model-spec", "llama-3.1-8b")
        plain = bench_cli(*common)
    for r in (with_spec, plain):
        assert r.exit_code == 0, r.stderr  # type: ignore[attr-defined]
    header = next(line for line in with_spec.stdout.splitlines() if "TTFT p50 ms" in line)  # type: ignore[attr-defined]
    cols = header.split()
    # measured TPOT, then the predicted pair, in that order, left of ICL
    assert "pred" in cols and header.index("TPOT p50 ms") < header.index("pred TTFT ms") < header.index("pred TPOT ms") \
        < header.index("ICL p99 ms")
    rows = [line for line in with_spec.stdout.splitlines() if line.lstrip().startswith("c=")]  # type: ignore[attr-defined]
    # two levels in the measured table, then the same two in the table of their simulated load (perf/serving.py)
    assert len(rows) == 4 and all(len(line.split()) == len(rows[0].split()) for line in rows[:2])
    assert "predicted: llama-3.1-8b on h100-sxm in bf16" in with_spec.stdout  # type: ignore[attr-defined]
    assert "pred TTFT ms" not in plain.stdout  # type: ignore[attr-defined]

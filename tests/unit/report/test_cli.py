"""``tcobench report`` end to end on a store of captured runs: HTML, PNG/SVG figures, JSON, errors."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from tcobench.store import Store


def test_html_report_of_the_latest_runs(cli, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.html"
    r = cli("--db", str(store.engine.url.database), "report", "-o", str(out))
    assert r.code == 0, r.err
    assert r.out.startswith(f"wrote {out} (cost comparison, throughput vs interactivity, roofline, model accuracy against published "
                            "results, endpoint benchmarks, audit of claims")
    html = out.read_text()
    assert "run 5" in html and "run 3" not in html  # --latest picks the newest bench run only
    assert html.startswith("<!DOCTYPE html>")


def test_selected_runs_only(cli, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli("--db", str(store.engine.url.database), "report", "--run", "4", "-o", str(tmp_path / "a.html"), "--json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["runs"] == [4] and [s["id"] for s in doc["sections"]] == ["audit"] and doc["figures"] == []


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_png_and_svg_figures_one_file_each(cli, store: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = str(store.engine.url.database)
    r = cli("--db", db, "report", "--run", "1", "--run", "5", "--format", "png", "--out-dir", str(tmp_path / "png"), "--json")
    assert r.code == 0, r.err
    files = [Path(f) for f in json.loads(r.out)["files"]]
    assert [f.name for f in files] == ["cost-run-1.png", "pareto-run-1.png", "roofline-run-1-b200.png", "bench-run-5-ttft.png",
                                       "bench-run-5-tpot.png", "bench-run-5-load.png"]
    for f in files:
        w, h = _png_size(f.read_bytes())
        assert (w, h) == (1050, 540)  # 7 x 3.6 in at 150 dpi
    r = cli("--db", db, "report", "--run", "2", "--format", "svg", "--out-dir", str(tmp_path / "svg"))
    assert r.code == 0, r.err
    svg = (tmp_path / "svg" / "roofline-run-2-h100-sxm.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "prefill operators" in svg


def test_errors_are_one_line_and_exit_2(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty = str(tmp_path / "empty.sqlite")
    r = cli("--db", empty, "report", "-o", str(tmp_path / "x.html"))
    assert r.code == 2 and r.err.startswith("InputError: no runs to report in sqlite:///") and "Traceback" not in r.err
    r = cli("--db", empty, "report", "--run", "7")
    assert r.code == 2 and "no run with id 7" in r.err
    r = cli("--db", empty, "report", "--out-dir", str(tmp_path))
    assert r.code == 2 and "--out-dir is for --format png|svg" in r.err

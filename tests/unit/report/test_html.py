"""The HTML page: structure against a golden file, escaping of hostile strings, self-containment."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest

from tcobench.catalog import load_catalog
from tcobench.records import Run
from tcobench.report import build_report, render_html
from tests.unit.report.conftest import check_golden
from tests.unit.report.outline import outline

FIXED = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return load_catalog()


def page(runs: list[Run], catalog) -> str:  # type: ignore[no-untyped-def]
    return render_html(build_report(runs, catalog, store="sqlite:///runs.sqlite", tool_version="0.1.0", generated=FIXED))


def test_structure_matches_the_golden_file(runs: list[Run], catalog, update_golden: bool) -> None:  # type: ignore[no-untyped-def]
    check_golden("all-sections.txt", outline(page(runs, catalog)), update_golden)


def test_each_section_appears_only_when_its_data_exists(by_command: dict[str, list[Run]], catalog) -> None:  # type: ignore[no-untyped-def]
    ids = lambda html: re.findall(r'<section class="report" id="([a-z]+)"', html)
    assert ids(page(by_command["audit"], catalog)) == ["audit"]
    assert ids(page(by_command["bench"], catalog)) == ["bench"]
    assert ids(page(by_command["predict"], catalog)) == ["roofline"]
    assert ids(page(by_command["compare"], catalog)) == ["cost", "pareto", "roofline"]  # roofline of the cheapest deployment
    assert ids(page(by_command["predict"] + by_command["compare"], catalog)) == ["cost", "pareto", "roofline"]


def _with_model(run: Run, name: str) -> Run:
    return dataclasses.replace(run, inputs={**run.inputs, "model": name}, label=name)


def test_a_script_in_a_model_name_or_claim_shows_as_text(by_command: dict[str, list[Run]], catalog) -> None:  # type: ignore[no-untyped-def]
    bench = _with_model(by_command["bench"][0], HOSTILE)
    audit = by_command["audit"][0]
    claims = [dict(c) for c in audit.outputs["claims"]]
    claims[0]["statement"] = HOSTILE
    claims[0]["trace"][0]["inputs"][0]["note"] = HOSTILE
    audit = dataclasses.replace(audit, outputs={"claims": claims}, label=HOSTILE)
    html = page([bench, audit], catalog)
    assert "<script" not in html.lower()
    assert "<img" not in html.lower() and "onerror=alert" not in html.replace("&#34;", '"').split("&lt;img")[0]
    # shown, escaped: in headings, readings, the trace, the provenance table and the SVG chart titles
    assert html.count("&lt;script&gt;") >= 6
    assert 'id="fig-bench-run-3-ttft"' in html


def test_the_page_is_self_contained(runs: list[Run], catalog) -> None:  # type: ignore[no-untyped-def]
    html = page(runs, catalog)
    assert "<script" not in html and "<link" not in html and "@import" not in html and "@font-face" not in html
    assert not re.search(r'\b(src|srcset)\s*=\s*"(?!data:)', html), "no external resource may be referenced"
    assert not re.search(r"url\((?!#)", html), "CSS may only reference in-document fragments"
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert html.count("<svg") == 10  # cost, pareto, roofline (of the predict run), validation, and ttft, tpot, load for each of two bench runs


def test_audit_rows_open_to_their_derivation_trace(by_command: dict[str, list[Run]], catalog) -> None:  # type: ignore[no-untyped-def]
    audit = by_command["audit"][0]
    html = page([audit], catalog)
    claims = audit.outputs["claims"]
    assert html.count("<details>") == len(claims)
    first = next(c for c in claims if c["id"] == "seed-deepspeed-175b-throughput")
    assert first["trace"][0]["formula"] in html.replace("&amp;", "&")
    assert "211.9 token/s" in html  # the derived result of its last step


def test_provenance_footer_names_runs_versions_and_sources(runs: list[Run], catalog) -> None:  # type: ignore[no-untyped-def]
    html = page(runs, catalog)
    footer = html[html.index('<footer id="provenance">'):]
    for r in runs:
        assert f"<td>{r.id}</td><td>{r.command}</td>" in footer
        assert r.created.strftime("%Y-%m-%d %H:%M:%S") in footer
    assert "tcobench 0.1.0" in footer
    assert "gpt-3-paper" in footer  # a source the audit's trace used
    assert "hn-chiplet-cloud-2023" in footer  # a claim's own source

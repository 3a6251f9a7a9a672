"""Issue 19, one test per reported case: bad input is refused where it enters with one line naming it (exit 2), a
failure of the system is one line (exit 1), an interruption is 130; never a traceback, never a silent nan."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tcobench import checks, units
from tcobench.errors import InputError, UnitError

ROOT = Path(__file__).resolve().parents[2]
PREDICT = ("predict", "--model", "llama-2-7b", "--hardware", "h100-sxm")
COMPARE = ("compare", "--model", "llama-2-7b", "--hardware", "h100-sxm", "--workload", "chat")
PLAN = ("plan", "--model", "llama-2-7b", "--hardware", "h100-sxm", "--workload", "chat")
SWEEP = ("sweep", "--model", "llama-2-7b", "--hardware", "h100-sxm", "--precision", "bf16")
BENCH = ("bench", "--model", "m", "--num-requests", "1", "--no-save")


def one_line(err: str, *names: str) -> str:
    """The one stderr line of a failed command, checked to be 'ErrorType: message' naming each of ``names``."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    kind, _, message = lines[0].partition(": ")
    assert kind.isidentifier() and message, lines[0]
    for name in names:
        assert name in message, (name, lines[0])
    return message


# -- tracebacks that are now one line ------------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "names"), [
    ((*PREDICT, "--slo-tpot", "50 ms("), ["--slo-tpot", "'50 ms('", "bracket"]),
    ((*PREDICT, "--slo-tpot", "５０ms"), ["--slo-tpot", "not ASCII"]),
    ((*COMPARE, "--slo-ttft", "2 s)"), ["--slo-ttft"]),
    ((*PLAN, "--qps", "nan"), ["--qps", "'nan'"]),
    ((*PLAN, "--qps", "inf"), ["--qps", "'inf'"]),
    (("runs", "show", "99999999999999999999999"), ["RUN_ID", "out of range"]),
    ((*SWEEP, "--batch", "1:10000000000"), ["--batch", "10000000000"]),
    ((*SWEEP, "--batch", "1:300000000"), ["--batch", "at most 1,000,000"]),
    ((*BENCH, "--url", "http://127.0.0.1:99999"), ["--url", "Port out of range"]),
    ((*BENCH, "--url", "http://127.0.0.1:abc"), ["--url", "'abc'"]),
    ((*BENCH, "--url", "http://[::1"), ["--url", "IPv6"]),
    ((*BENCH, "--url", "http://127.0.0.1:9", "--rate", "inf"), ["--rate", "'inf'"]),
], ids=["unbalanced-bracket", "fullwidth-digits", "closing-bracket", "qps-nan", "qps-inf", "run-id-overflow",
        "sweep-10-billion", "sweep-300-million", "url-port-range", "url-port-text", "url-ipv6", "rate-inf"])
def test_former_tracebacks_are_one_line_naming_the_input(cli, args: tuple[str, ...], names: list[str]) -> None:
    r = cli(*args)
    assert r.code == 2, r.err
    one_line(r.err, *names)


def test_a_url_path_outside_latin_1_is_percent_encoded_not_a_crash() -> None:
    from tcobench.loadgen.client import base_url

    assert base_url("http://127.0.0.1:9/пути/v1") == "http://127.0.0.1:9/%D0%BF%D1%83%D1%82%D0%B8"


@pytest.mark.parametrize("where", ["--db", "--output", "-o"])
def test_an_output_in_a_folder_that_cannot_be_created_is_one_line(cli, tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    target = str(blocker / "sub" / "out.csv")  # a folder inside a file: cannot be created
    args = {"--db": ("--db", target, "runs", "list"), "--output": (*SWEEP, "--output", target),
            "-o": ("runs", "export", "-o", target)}[where]
    r = cli(*args)
    assert r.code in (1, 2), r.err
    one_line(r.err, target)


def test_a_full_disk_on_stdout_is_one_line_exit_1(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "XDG_DATA_HOME": str(tmp_path)}
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", "tcobench", "catalog", "list", "hardware"], stdout=full,
                           stderr=subprocess.PIPE, text=True, env=env, timeout=120)
    assert r.returncode == 1, r.stderr
    assert one_line(r.stderr).startswith("No space left") and "Exception ignored" not in r.stderr


INTERRUPT_AT_LOAD = """
import sys
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == "tcobench.catalog":
            raise KeyboardInterrupt
        return None
sys.meta_path.insert(0, Interrupt())
from tcobench.cli.main import main   # light: the catalog is not imported yet
main(["catalog", "list", "hardware"])
"""


def test_ctrl_c_while_the_program_loads_is_an_interruption(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "XDG_DATA_HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-c", INTERRUPT_AT_LOAD], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 130 and r.stderr.strip() in ("Interrupted.", "Aborted."), r.stderr  # click says Aborted


def test_importing_the_command_line_loads_neither_catalog_nor_store() -> None:
    code = ("import sys; import tcobench.cli.main; "
            "print(sorted(m for m in ('tcobench.catalog', 'tcobench.store', 'pydantic', 'sqlalchemy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert out.stdout.strip() == "[]"


# -- bad input that was accepted with exit 0 -----------------------------------------------------------------------
@pytest.mark.parametrize(("args", "names"), [
    ((*COMPARE, "--basis", "rent", "--price-hour", "nan"), ["--price-hour", "'nan'"]),
    ((*COMPARE, "--basis", "own", "--price-chip", "-1"), ["--price-chip", "-1", ">= 0"]),
    ((*PREDICT, "--batch", "auto", "--slo-ttft", "-5ms"), ["--slo-ttft", "> 0"]),
    ((*PREDICT, "--batch", "auto", "--slo-tpot", "0ms"), ["--slo-tpot", "> 0"]),
    (("compare", "--model", "llama-2-7b", "--hardware", "", "--workload", "chat"), ["--hardware", "names nothing"]),
    (("compare", "--model", "llama-2-7b", "--hardware", ",,,", "--workload", "chat"), ["--hardware", "names nothing"]),
    ((*COMPARE, "--precision", ","), ["--precision", "names nothing"]),
    ((*PREDICT, "--tp", "４"), ["--tp", "whole number"]),
    ((*COMPARE, "--utilisation", "nan"), ["--utilisation"]),
    ((*COMPARE, "--electricity", "-$0.1/kWh"), ["--electricity", ">= 0"]),
], ids=["price-hour-nan", "price-chip-negative", "slo-ttft-negative", "slo-tpot-zero", "hardware-empty",
        "hardware-commas", "precision-commas", "fullwidth-tp", "utilisation-nan", "electricity-negative"])
def test_bad_input_that_was_accepted_is_refused(cli, args: tuple[str, ...], names: list[str]) -> None:
    r = cli(*args)
    assert r.code == 2, (r.code, r.out[-300:], r.err)
    one_line(r.err, *names)


def test_a_price_of_minus_zero_is_zero(cli) -> None:  # found by test_input_fuzz: '-0' printed costs as '$-0'
    r = cli(*COMPARE, "--basis", "own", "--price-chip=-0")
    assert r.code == 0 and "$-" not in r.out, r.err


def test_price_hour_takes_a_unit_and_gives_finite_costs(cli) -> None:
    r = cli(*COMPARE, "--basis", "rent", "--price-hour", "$2.49/h", "--json")
    assert r.code == 0, r.err
    row = json.loads(r.out)["rows"][0]
    costs = [row[f"usd_per_1m_output_tokens_rent{end}"] for end in ("", "_low", "_high")]
    assert all(c is not None and 0 < c < 1e6 for c in costs)


@pytest.mark.parametrize("text", ["0.02 USD/ktoken(", "0.02 USD/ktoken)", "1 s s(", "[1] s", "2.49 USD/h extra!"])
def test_trailing_garbage_in_a_quantity_is_refused(text: str) -> None:
    with pytest.raises(UnitError, match="cannot read"):
        units.parse(text, "USD/token" if "USD/ktoken" in text else "USD/s" if "USD/h" in text else "s")


CHIP = """
[source.t]
title = "test"

[hardware.chip0]
name = "Chip zero"
vendor = "test"
kind = "gpu"
peak_dense = {{ bf16 = {{ value = "1000 TFLOP/s", source = "t" }} }}
memory = {{ capacity = {{ value = "80 GB", source = "t" }}, bandwidth = {{ value = "{bandwidth}", source = "t" }} }}
scale_up = {{ bandwidth = {{ value = "450 GB/s", direction = "per-direction", source = "t" }}, domain = {{ value = {domain}, source = "t" }} }}
"""


@pytest.mark.parametrize(("bandwidth", "domain", "key"), [("0 TB/s", 8, "memory.bandwidth"),
                                                          ("3 TB/s", 0, "scale_up.domain"),
                                                          ("-3 TB/s", 8, "memory.bandwidth")])
def test_a_chip_with_a_zero_figure_fails_lint_and_predict(cli, tmp_path: Path, bandwidth: str, domain: int,
                                                          key: str) -> None:
    path = tmp_path / "chip.toml"
    path.write_text(CHIP.format(bandwidth=bandwidth, domain=domain))
    lint = cli("catalog", "lint", str(path))
    assert lint.code == 2 and f"hardware.chip0.{key}" in lint.err
    r = cli("--catalog", str(path), *PREDICT[:3], "--hardware", "chip0")
    assert r.code == 2 and "inf" not in r.out and "nan" not in r.out
    one_line(r.err, key)


def test_a_good_chip_file_still_predicts_finite_numbers(cli, tmp_path: Path) -> None:
    path = tmp_path / "chip.toml"
    path.write_text(CHIP.format(bandwidth="3 TB/s", domain=8))
    r = cli("--catalog", str(path), *PREDICT[:3], "--hardware", "chip0", "--json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert 0 < doc["ttft_s"] < 10 and 0 < doc["mbu_decode"] <= 1


LLAMA = {"model_type": "llama", "num_hidden_layers": 32, "hidden_size": 4096, "num_attention_heads": 32,
         "intermediate_size": 11008, "vocab_size": 32000, "max_position_embeddings": 4096}


@pytest.mark.parametrize(("change", "names"), [
    ({"num_hidden_layers": True}, ["num_hidden_layers = true", "whole number"]),
    ({"vocab_size": 1e30}, ["vocab_size = 1e+30"]),
    ({"hidden_size": 4096.0}, ["hidden_size = 4096.0"]),
    ({"hidden_act": "silly"}, ["unknown activation 'silly'", "did you mean 'silu'"]),
    ({"model_type": ["llama"]}, ["model_type ['llama'] is not a string"]),
    ({"num_hidden_layers": 10**17}, ["layers"]),
    ({"tie_word_embeddings": "yes"}, ["tie_word_embeddings", "true or false"]),
], ids=["layers-bool", "vocab-float", "hidden-float", "unknown-act", "model-type-list", "layers-huge", "flag-text"])
def test_hf_config_values_of_the_wrong_type_or_size_are_refused(cli, tmp_path: Path, change: dict[str, object],
                                                                names: list[str]) -> None:
    path = tmp_path / "m" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps({**LLAMA, **change}))
    r = cli("predict", "--model", str(path), "--hardware", "h100-sxm")
    assert r.code == 2, r.err
    one_line(r.err, str(path), *names)


def test_a_catalog_model_with_a_float_layer_count_is_refused(cli, tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[source.t]\ntitle = "t"\n[model.m1]\nname = "m1"\nfamily = "llama"\nsource = "t"\nlayers = 1e17\n'
                    'hidden = 4096\nheads = 32\nffn = "gated"\nffn_hidden = 11008\nvocab = 32000\nmax_context = 4096\n')
    r = cli("catalog", "lint", str(path))
    assert r.code == 2 and "model.m1.layers = 1e+17" in r.err


@pytest.mark.parametrize("what", ["catalog", "claims", "config"])
def test_a_file_that_is_not_utf8_names_the_file_and_the_byte(cli, tmp_path: Path, what: str) -> None:
    path = tmp_path / ("config.json" if what == "config" else "x.toml")
    path.write_bytes({"catalog": b'[source.t]\ntitle = "t\xff"\n', "claims": b'[source.t]\ntitle = "\xe9"\n',
                      "config": b'{"model_type": "llama", "hidden_act": "s\xe9lu"}'}[what])
    args = {"catalog": ("--catalog", str(path), "catalog", "show", "h100-sxm"), "claims": ("audit", str(path)),
            "config": ("predict", "--model", str(path), "--hardware", "h100-sxm")}[what]
    r = cli(*args)
    assert r.code == 2, r.err
    line = [ln for ln in r.err.splitlines() if "UTF-8" in ln]
    assert line and str(path) in line[0] and "byte 0x" in line[0] and "offset" in line[0], r.err


CLAIM = """
[source.t]
title = "t"

[claim.c]
statement = "s"
source = "t"
date = "{date}"
kind = "rebased-ratio"
claimed = {claimed}
unit = "1"
inputs = {{ baseline = "{baseline}", corrected_baseline = "0.001 USD/ktoken" }}
"""


@pytest.mark.parametrize(("date", "claimed", "baseline", "names"), [
    ("2023-07", "0", "0.02 USD/ktoken", ["claim.c.claimed"]),
    ("2023-07", "94", "0 USD/ktoken", ["claim.c.inputs.baseline", "positive"]),
    ("2023-07", "94", "0.02 USD/ktoken(", ["claim.c.inputs.baseline", "bracket"]),
    ("2024-13-45", "94", "0.02 USD/ktoken", ["claim.c.date", "not a calendar date"]),
    ("2023-07", "nan", "0.02 USD/ktoken", ["claim.c.claimed"]),
], ids=["claimed-zero", "zero-baseline", "garbage-unit", "bad-date", "claimed-nan"])
def test_a_malformed_claim_is_reported_and_exits_2(cli, tmp_path: Path, date: str, claimed: str, baseline: str,
                                                   names: list[str]) -> None:
    path = tmp_path / "claims.toml"
    path.write_text(CLAIM.format(date=date, claimed=claimed, baseline=baseline))
    r = cli("audit", str(path))
    assert r.code == 2 and "Traceback" not in r.err, r.err
    lines = [ln for ln in r.err.strip().splitlines() if all(n in ln for n in names)]
    assert len(lines) == 1 and lines[0].split(": ")[0].isidentifier(), r.err


def test_a_well_formed_claim_still_audits(cli, tmp_path: Path) -> None:
    path = tmp_path / "claims.toml"
    path.write_text(CLAIM.format(date="2023-07", claimed="94", baseline="0.02 USD/ktoken"))
    r = cli("audit", str(path), "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["claims"][0]["verdict"] in ("overstated", "consistent", "understated")


@pytest.mark.parametrize(("text", "problem"), [("2024-13-45", "calendar"), ("2023-02-29", "calendar"),
                                               ("2024-1-5", "YYYY"), ("２０２４", "YYYY")])
def test_dates_must_be_on_the_calendar(text: str, problem: str) -> None:
    assert problem in (checks.date_problem(text) or "")


def test_leap_day_and_partial_dates_are_dates() -> None:
    assert checks.date_problem("2024-02-29") is None and checks.date_problem("2024-07") is None


# -- huge work -----------------------------------------------------------------------------------------------------
def test_a_huge_sweep_is_refused_at_once_with_its_estimate(cli) -> None:
    r = cli(*SWEEP, "--tp", "1:1000", "--batch", "1:100000", "--input-len", "1:1000")
    assert r.code == 2
    message = one_line(r.err, "100,000,000,000 points", "points/s", "--yes")
    assert "about" in message


def test_a_sweep_prints_its_estimate_and_progress_lines_off_a_terminal(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import tcobench.cli.sweep as cmd

    monkeypatch.setattr(cmd, "SAY_ESTIMATE_S", 0.0)
    monkeypatch.setattr(cmd, "LINE_EVERY_S", 0.0)
    r = cli(*SWEEP, "--batch", "1:4096", "--input-len", "128:1024:x2", "--chunk", "4096")
    assert r.code == 0, r.err
    lines = r.err.strip().splitlines()
    assert lines[0].startswith("sweep: 65,536 points, about ") and "timed on a sample of 4,096" in lines[0]
    assert len(lines) >= 3 and all("points)" in ln and "left" in ln for ln in lines[1:])


def test_sweep_chunks_and_axes_are_bounded() -> None:
    from tcobench.search.sweep import MAX_AXIS, parse_axis

    assert len(parse_axis(f"1:{MAX_AXIS}", "batch")) == MAX_AXIS
    with pytest.raises(InputError, match="at most 1,000,000"):
        parse_axis(f"1:{MAX_AXIS + 1}", "batch")
    with pytest.raises(InputError, match="batch"):
        parse_axis("1:64:0.5", "batch")  # a step of half a sequence
    with pytest.raises(InputError, match="batch"):
        parse_axis("1" * 5000, "batch")


def test_a_confirmed_sweep_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import tcobench
    from tcobench.api import tasks

    monkeypatch.setattr(tasks, "CONFIRM_POINTS", 100)
    seen = []
    with pytest.raises(InputError, match="pass yes to run it"):
        tcobench.sweep("llama-2-7b", "h100-sxm", precision="bf16", batch="1:256", on_estimate=seen.append)
    res = tcobench.sweep("llama-2-7b", "h100-sxm", precision="bf16", batch="1:256", yes=True)
    assert res.evaluated == 4 * 256 and seen and seen[0].points == 4 * 256


def test_sweep_memory_stays_bounded_by_the_chunk() -> None:
    """A 100-million-point grid over a 1,000,000-value axis (the most an axis may hold), stopped after 2 and then after
    20 chunks: peak memory grows by less than a few chunks' worth (about 1 kB a point) from 2 to 20 chunks, whatever
    the grid's size, and stays far below what the grid would need (about 100 GB). Measured as growth, not as an
    absolute figure: the process's starting size varies with what else is installed and loaded."""
    code = """
import resource, tcobench
class Stop(Exception): pass
def run(chunks):
    seen = [0]
    def progress(n, total):
        seen[0] += n
        if seen[0] >= chunks * 65536: raise Stop
    try:
        tcobench.sweep("llama-2-7b", "h100-sxm", precision="bf16", tp="1", batch="1:1000000", input_len="1:100",
                       yes=True, progress=progress)
    except Stop:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(run(2), run(20))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert out.returncode == 0, out.stderr
    after_2, after_20 = (int(x) for x in out.stdout.split()[-2:])
    assert after_20 - after_2 < 200_000, (after_2, after_20)  # kB: 18 more chunks add less than 0.2 GB
    assert after_20 < 1_500_000  # kB: 1.5 GB, against ~100 GB for the whole grid (measured ~140 MB)


def test_the_exit_code_table_in_the_docs_matches_the_error_classes() -> None:
    import re

    from tcobench import errors

    page = (ROOT / "docs" / "architecture.md").read_text()
    rows = dict(re.findall(r"^\| (\d+) \| (.*) \|$", page, re.M))
    assert set(rows) == {"0", "1", "2", "130"}
    for name in ("InputError", "UnitError", "CatalogError", "UnknownIdError", "DeploymentError", "MissingInputError",
                 "StoreError", "InstallError"):
        code = getattr(errors, name).exit_code
        assert f"`{name}`" in rows[str(code)], (name, code)


@pytest.mark.parametrize(("args", "names"), [
    ((*COMPARE, "--basis", "rent", "--price-hour", "1e308"), ["--price-hour", "<= 1e+12"]),
    ((*COMPARE, "--electricity", "$1e300/kWh"), ["--electricity", "'$1e300/kWh'", "USD/J"]),
    ((*PLAN, "--qps", "1e300"), ["--qps", "<= 1e+09"]),
], ids=["price-overflow", "electricity-overflow", "qps-absurd"])
def test_numbers_past_any_real_one_are_refused_before_they_overflow(cli, args: tuple[str, ...],
                                                                     names: list[str]) -> None:
    r = cli(*args)  # a price of 1e308 made a cost of inf ('$inf' or a RuntimeWarning in sweep)
    assert r.code == 2, r.err
    one_line(r.err, *names)


def test_a_url_query_outside_latin1_is_percent_encoded_not_a_crash() -> None:
    """Found by the URL fuzz once: a query is kept and sent (it may carry an api-version), so it is encoded as the
    path is; the request line goes out as Latin-1 bytes."""
    from tcobench.loadgen.client import base_url

    got = base_url("http://127.0.0.1:8000/v1?x=пример&api-version=2024-06-01")
    got.encode("latin-1")
    assert got == "http://127.0.0.1:8000?x=%D0%BF%D1%80%D0%B8%D0%BC%D0%B5%D1%80&api-version=2024-06-01"

"""The entry point: a library error names parameters from Python and flags from the CLI; a missing command is an error."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tcobench.catalog import load_catalog
from tcobench.cli.main import COMMANDS
from tcobench.errors import TcobenchError
from tcobench.loadgen.arrivals import Arrival
from tcobench.loadgen.client import base_url
from tcobench.loadgen.runner import Plan
from tcobench.store import resolve_url

BENCH = ("bench", "--url", "http://127.0.0.1:9", "--model", "m", "--no-save")
NOPE = "/nonexistent/tcobench-catalog"

# (the library call, what Python says, the same mistake on the command line, what the CLI says)
CASES: list[tuple[Callable[[], object], str, tuple[str, ...], str]] = [
    (lambda: base_url("ftp://{x}"), "url 'ftp://{x}' is not an http(s) URL",
     (*BENCH, "--url", "ftp://{x}"), "InputError: --url 'ftp://{x}' is not an http(s) URL"),
    (lambda: Plan(num_requests=0), "num_requests must be >= 1, got 0",
     (*BENCH, "--num-requests", "0"), "InputError: --num-requests must be >= 1, got 0"),
    (lambda: Arrival.parse("weibull"), "cannot read 'weibull' in arrival;",
     (*BENCH, "--rate", "1", "--arrival", "weibull"), "InputError: cannot read 'weibull' in --arrival;"),
    (lambda: resolve_url("mysql://u@h/db"), "db/TCOBENCH_DB: backend 'mysql' is not supported",
     ("--db", "mysql://u@h/db", "runs", "list"), "InputError: --db/TCOBENCH_DB: backend 'mysql' is not supported"),
    (lambda: load_catalog([NOPE]), f"catalog path '{NOPE}' does not exist (from TCOBENCH_CATALOG or catalog_paths)",
     ("--catalog", NOPE, "catalog", "show", "h100-sxm"),
     f"CatalogError: catalog path '{NOPE}' does not exist (from TCOBENCH_CATALOG or --catalog)"),
]


@pytest.mark.parametrize("call, python, args, shown", CASES, ids=["url", "num-requests", "arrival", "db", "catalog"])
def test_an_error_names_the_parameter_in_python_and_the_flag_in_the_cli(
        cli, call: Callable[[], object], python: str, args: tuple[str, ...], shown: str) -> None:
    with pytest.raises(TcobenchError) as info:
        call()
    assert python in str(info.value) and "--" not in str(info.value)
    r = cli(*args)
    assert r.code == 2 and r.err.startswith(shown) and len(r.err.strip().splitlines()) == 1, r.err



@pytest.mark.parametrize("args", [("--help",), ("ghost",), ("ghost", "--help")])
def test_a_command_whose_module_is_missing_is_an_error_not_a_gap(cli, monkeypatch: pytest.MonkeyPatch,
                                                                  args: tuple[str, ...]) -> None:
    monkeypatch.setitem(COMMANDS, "ghost", "tcobench.cli.ghost:ghost")
    r = cli(*args)
    assert r.code == 1 and r.out == ""
    assert r.err == ("InstallError: command 'ghost' cannot load: its module tcobench.cli.ghost is missing; "
                     "reinstall tcobench\n")


def test_help_lists_every_command(cli) -> None:
    r = cli("--help")
    assert r.code == 0, r.err
    listed = r.out.split("Commands:")[1].split()
    assert set(COMMANDS) <= set(listed)


def test_a_reader_that_goes_away_is_not_a_traceback() -> None:
    """`tcobench validate | head -1`: the pipe closes long before the output ends; the command stops quietly."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "tcobench", "validate"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # as head does after its first line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) in (0, 141)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err

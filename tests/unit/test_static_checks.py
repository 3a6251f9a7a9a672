"""The code stays type-checked (mypy strict, pyproject's [tool.mypy]) and free of pyflakes/bugbear findings.

These run the checkers the test extras install; a finding fails with the checker's own report.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_src_is_mypy_strict_clean(tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="mypy comes with the test extras: pip install -e '.[test]'")
    out = _run("mypy", "--cache-dir", str(tmp_path / "mypy-cache"), "src")
    assert out.returncode == 0, out.stdout + out.stderr


def test_no_pyflakes_or_bugbear_findings() -> None:
    pytest.importorskip("ruff", reason="ruff comes with the test extras: pip install -e '.[test]'")
    out = _run("ruff", "check", "--no-cache", "--select", "F,E9,B", "src", "tests", "scripts", "benchmarks")
    assert out.returncode == 0, out.stdout + out.stderr

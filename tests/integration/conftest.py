"""Fixtures for the endpoint benchmark's integration tests.

- ``vllm_server``: vLLM's CPU build serving a tiny locally made model on 127.0.0.1, started once per
  session and only when a test asks for it. Its Python comes from ``$TCOBENCH_VLLM_PYTHON`` or
  ``<repo>/.venv-vllm`` (made by ``scripts/setup-vllm.sh``).
- ``llamacpp_server``: llama-cpp-python's server on a tiny generated GGUF, the same way
  (``$TCOBENCH_LLAMACPP_PYTHON`` or ``<repo>/.venv-llamacpp``, made by ``scripts/setup-llamacpp.sh``).
  A real-server test skips, saying so, only when its environment is missing and
  ``TCOBENCH_REQUIRE_SERVERS`` is unset; scripts/test sets it, so in CI a missing server fails.
- ``bench_cli``: runs ``tcobench --db <tmp> bench ...`` in-process and returns the result.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # tests.servers is a helper package beside the tests, not installed
    sys.path.insert(0, str(REPO))

from tests.servers.llamacpp import LlamaCppServer, build_gguf, llamacpp_python
from tests.servers.vllm import VllmServer, build_model, vllm_python


def _missing(what: str) -> None:
    if os.environ.get("TCOBENCH_REQUIRE_SERVERS"):
        pytest.fail(f"{what} (TCOBENCH_REQUIRE_SERVERS is set)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def vllm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VllmServer]:
    python = vllm_python()
    if python is None:
        _missing("vLLM CPU build not installed: run scripts/setup-vllm.sh (or set TCOBENCH_VLLM_PYTHON)")
    root = tmp_path_factory.mktemp("vllm")
    model = build_model(python, root / "model")
    server = VllmServer(python, model, root / "vllm.log").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def llamacpp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaCppServer]:
    python = llamacpp_python()
    if python is None:
        _missing("llama-cpp-python not installed: run scripts/setup-llamacpp.sh (or set TCOBENCH_LLAMACPP_PYTHON)")
    root = tmp_path_factory.mktemp("llamacpp")
    model = build_gguf(python, root / "tiny.gguf")
    server = LlamaCppServer(python, model, root / "llamacpp.log").start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class BenchResult:
    exit_code: int
    stdout: str
    stderr: str
    db: Path

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def bench_cli(tmp_path: Path) -> Callable[..., BenchResult]:
    db = tmp_path / "runs.sqlite"

    def run(*args: str, env: dict[str, str] | None = None) -> BenchResult:
        from tcobench.cli.main import cli

        result = CliRunner().invoke(cli, ["--db", str(db), "bench", *args], env=env, catch_exceptions=False)
        return BenchResult(result.exit_code, result.stdout, result.stderr, db)

    return run

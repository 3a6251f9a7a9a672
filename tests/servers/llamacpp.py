"""Start and stop llama-cpp-python's OpenAI-compatible server on 127.0.0.1 serving a tiny GGUF.

It serves one request at a time (a lock around the model), so concurrent requests queue and the
wait shows in their TTFT. ``--interrupt_requests False``: otherwise a new request aborts the stream
in flight. One thread: more than one on 2 shared cores was slower (../shared/notes/real-servers.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.servers.process import ServerProcess, build_with, venv_python

MODEL_NAME = "tiny-llama"


def llamacpp_python() -> Path | None:
    """``$TCOBENCH_LLAMACPP_PYTHON``, else ``<repo>/.venv-llamacpp/bin/python`` (scripts/setup-llamacpp.sh)."""
    return venv_python("TCOBENCH_LLAMACPP_PYTHON", ".venv-llamacpp")


def build_gguf(python: Path, out: Path) -> Path:
    return build_with(python, "tiny_gguf.py", out, 120)


class LlamaCppServer(ServerProcess):
    name = "llama-cpp-python"
    ready_path = "/v1/models"

    def __init__(self, python: Path, model: Path, log: Path) -> None:
        super().__init__(log)
        self.python, self.model = python, model

    def start(self, timeout_s: float = 120.0) -> LlamaCppServer:
        cmd = [str(self.python), "-m", "llama_cpp.server", "--model", str(self.model), "--model_alias", MODEL_NAME,
               "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "1024", "--n_threads", "1",
               "--n_threads_batch", "1", "--interrupt_requests", "False"]
        self.launch(cmd, {**os.environ}, timeout_s)
        return self

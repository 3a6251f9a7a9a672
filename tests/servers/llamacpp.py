"""Start and stop llama-cpp-python's OpenAI-compatible server on 127.0.0.1 serving a tiny GGUF.

It serves one request at a time (a lock around the model), so concurrent requests queue and the
wait shows in their TTFT. ``--interrupt_requests False``: otherwise a new request aborts the stream
in flight. One thread: more than one on 2 shared cores was slower (../shared/notes/real-servers.md).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.servers.process import ServerProcess

REPO = Path(__file__).resolve().parents[2]
MODEL_NAME = "tiny-llama"


def llamacpp_python() -> Path | None:
    """``$TCOBENCH_LLAMACPP_PYTHON``, else ``<repo>/.venv-llamacpp/bin/python`` (scripts/setup-llamacpp.sh)."""
    env = os.environ.get("TCOBENCH_LLAMACPP_PYTHON")
    path = Path(env) if env else REPO / ".venv-llamacpp" / "bin" / "python"
    return path if path.exists() else None


def build_gguf(python: Path, out: Path) -> Path:
    from tcobench.loadgen.prompts import WORDS

    words = out.parent / "words.txt"
    words.write_text("\n".join(WORDS))
    subprocess.run([str(python), str(Path(__file__).with_name("tiny_gguf.py")), str(out), str(words)],
                   check=True, capture_output=True, timeout=120)
    return out


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

"""Start and stop vLLM's CPU build on 127.0.0.1 serving the tiny model (tests and benchmarks)."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

from tests.servers.process import ServerProcess, build_with, venv_python, free_port  # noqa: F401 (free_port: imported from here by tests)

MODEL_NAME = "tiny-llama"


def vllm_python() -> Path | None:
    """``$TCOBENCH_VLLM_PYTHON``, else ``<repo>/.venv-vllm/bin/python`` (made by scripts/setup-vllm.sh)."""
    return venv_python("TCOBENCH_VLLM_PYTHON", ".venv-vllm")


def build_model(python: Path, out: Path) -> Path:
    return build_with(python, "tiny_model.py", out, 300)


class VllmServer(ServerProcess):
    name = "vLLM"

    def __init__(self, python: Path, model_dir: Path, log: Path, *, max_num_seqs: int = 16) -> None:
        super().__init__(log)
        self.python, self.model_dir, self.max_num_seqs = python, model_dir, max_num_seqs

    def start(self, timeout_s: float = 300.0) -> VllmServer:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "VLLM_CPU_KVCACHE_SPACE": "1",
               "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1",
               # leave one core to the API server and the client: with the engine's OpenMP threads on
               # both cores of a 2-core machine, the API process starves and streams arrive in bursts
               "VLLM_CPU_NUM_OF_RESERVED_CPU": os.environ.get("VLLM_CPU_NUM_OF_RESERVED_CPU", "1")}
        cmd = [str(self.python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(self.model_dir),
               "--served-model-name", MODEL_NAME, "--load-format", "dummy", "--host", "127.0.0.1",
               "--port", str(self.port), "--max-model-len", "512", "--max-num-seqs", str(self.max_num_seqs),
               "--dtype", "float32", "--enforce-eager"]
        self.launch(cmd, env, timeout_s)
        return self

    def metrics(self) -> dict[str, float]:
        """Prometheus counters from /metrics, summed over labels: {"vllm:generation_tokens_total": ...}."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as r:
            text = r.read().decode()
        out: dict[str, float] = {}
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            name_labels, _, value = line.rpartition(" ")
            name = name_labels.split("{", 1)[0]
            try:
                out[name] = out.get(name, 0.0) + float(value)
            except ValueError:
                continue
        return out

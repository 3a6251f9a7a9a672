"""Start and stop vLLM's CPU build on 127.0.0.1 serving the tiny model (tests and benchmarks)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODEL_NAME = "tiny-llama"


def vllm_python() -> Path | None:
    """``$TCOBENCH_VLLM_PYTHON``, else ``<repo>/.venv-vllm/bin/python`` (made by scripts/setup-vllm.sh)."""
    env = os.environ.get("TCOBENCH_VLLM_PYTHON")
    path = Path(env) if env else REPO / ".venv-vllm" / "bin" / "python"
    return path if path.exists() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_model(python: Path, out: Path) -> Path:
    from tcobench.loadgen.prompts import WORDS

    words = out.parent / "words.txt"
    words.write_text("\n".join(WORDS))
    subprocess.run([str(python), str(Path(__file__).with_name("tiny_model.py")), str(out), str(words)],
                   check=True, capture_output=True, timeout=300)
    return out


class VllmServer:
    def __init__(self, python: Path, model_dir: Path, log: Path, *, max_num_seqs: int = 16) -> None:
        self.python, self.model_dir, self.log, self.max_num_seqs = python, model_dir, log, max_num_seqs
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"vLLM exited with {self.proc.returncode} during start-up:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"vLLM did not answer /health within {timeout_s:.0f} s:\n{self.tail()}")

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

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)  # our own process group (start_new_session)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

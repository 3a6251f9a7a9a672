"""A real inference server run as a child process on 127.0.0.1 (vLLM, llama.cpp): start, wait, log, stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """Subclasses give ``name``, ``ready_path`` and call ``launch(cmd, env)``."""

    name = "server"
    ready_path = "/health"

    def __init__(self, log: Path) -> None:
        self.log = log
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self, cmd: list[str], env: dict[str, str], timeout_s: float) -> None:
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} during start-up:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {self.ready_path} within {timeout_s:.0f} s:\n{self.tail()}")

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


def venv_python(env_var: str, venv: str) -> Path | None:
    """``$<env_var>``, else ``<repo>/<venv>/bin/python`` (made by the matching scripts/setup-*.sh); None if absent."""
    env = os.environ.get(env_var)
    path = Path(env) if env else Path(__file__).resolve().parents[2] / venv / "bin" / "python"
    return path if path.exists() else None


def build_with(python: Path, script: str, out: Path, timeout_s: float) -> Path:
    """Run tests/servers/<script> in the server's own Python to write a tiny model at ``out``, using the
    prompt vocabulary tcobench's random prompts draw from."""
    from tcobench.loadgen.prompts import WORDS

    words = out.parent / "words.txt"
    words.write_text("\n".join(WORDS))
    subprocess.run([str(python), str(Path(__file__).with_name(script)), str(out), str(words)],
                   check=True, capture_output=True, timeout=timeout_s)
    return out

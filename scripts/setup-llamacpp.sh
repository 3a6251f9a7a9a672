#!/usr/bin/env bash
# Create <repo>/.venv-llamacpp with llama-cpp-python's server and the gguf writer, for the second
# real-server test of `tcobench bench` (tests/integration/test_bench_llamacpp.py).
#
# Idempotent: exits 0 at once when the venv is already complete. llama-cpp-python compiles llama.cpp
# from source (about 5 minutes on 2 cores); CMAKE_BUILD_PARALLEL_LEVEL uses every core for it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TCOBENCH_LLAMACPP_VENV:-$ROOT/.venv-llamacpp}"
VERSION="0.3.36"
STAMP="$VENV/.tcobench-llamacpp-$VERSION"
PY="${PYTHON:-python3}"

if [[ -f "$STAMP" && -x "$VENV/bin/python" ]]; then
    echo "setup-llamacpp: $VENV ready (llama-cpp-python $VERSION)"
    exit 0
fi

echo "setup-llamacpp: creating $VENV with llama-cpp-python[server]==$VERSION (compiles llama.cpp, ~5 min)"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# CPU only, no BLAS: the tiny test model needs nothing more, and the build stays short
CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF}" \
    "$VENV/bin/python" -m pip install --quiet "llama-cpp-python[server]==$VERSION" gguf
"$VENV/bin/python" -c "import llama_cpp, gguf, uvicorn; print('setup-llamacpp: llama_cpp', llama_cpp.__version__)"
touch "$STAMP"

#!/usr/bin/env bash
# Every artengine benchmark on the GPU in one run, printed as one table with the card's name and the
# fraction of its bf16 peak (about 5 minutes on an H100-class card). Arguments go to bench/bench_gpu.py:
#   bench/gpu.sh                          # CUDA, full sizes
#   bench/gpu.sh --device cpu --quick     # the same code at tiny sizes on a CPU (CI smoke, tests/test_bench_smoke.py)
#   bench/gpu.sh --json results.json      # also keep the table as JSON
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
exec "$PY" bench/bench_gpu.py "$@"

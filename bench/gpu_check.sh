#!/usr/bin/env bash
# GPU checks for seqzoo, one script under 8 minutes on a CUDA machine (see bench/gpu_check.py):
#   bench/gpu_check.sh [--json results.json]     every check; needs CUDA
#   bench/gpu_check.sh --cpu-smoke               the CPU-runnable parts on tiny sizes (CI runs this)
# PYTHON picks the interpreter (default: the repository's .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
exec timeout 480 "$PYTHON" bench/gpu_check.py "$@"

#!/usr/bin/env bash
# Prove the declared lower bounds: a fresh venv with torch 2.13.0 first, then exactly the lowest
# version every core and plugin dependency declares (ci/lowest_versions.py), the core and the
# first-party plugins without the dev extra (only pytest, hypothesis and the floor of the `plot`
# extra, matplotlib, which the plot tests use), and the non-slow suite of the core. `pip check`
# confirms the floors satisfy every declared requirement.
# Usage: ci/min_versions.sh   (PYTHON=python3.X and TORCH=torch==X.Y override the interpreter and torch)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-python3}
TORCH=${TORCH:-torch==2.13.0}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/seqzoo-min.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

cd "$REPO"
pins=$("$PY" ci/lowest_versions.py pyproject.toml plugins/*/pyproject.toml --extra plot)
echo "min-versions: $TORCH $pins"
"$PY" -m venv "$WORK/venv"
V="$WORK/venv/bin"
"$V/python" -m pip install -q "$TORCH"
# shellcheck disable=SC2086  # one argument per pin
"$V/python" -m pip install -q $pins "pytest>=8" "hypothesis>=6.100"
editable=(-e .)
for plugin in plugins/*/; do editable+=(-e "$plugin"); done
"$V/python" -m pip install -q --no-deps "${editable[@]}"
"$V/python" -m pip check
"$V/python" -m pip list --format=freeze | grep -Ei '^(torch|click|safetensors|numpy|huggingface.hub|pluggy|tqdm|matplotlib)=='
"$V/python" -m pytest -q -m "not slow" -p no:cacheprovider tests

#!/usr/bin/env bash
# Install seqzoo the way a user does and use it: build the wheels of the core and of every
# first-party plugin, install them into a fresh venv with no extras (torch 2.13.0 first, so pip
# does not pull a CUDA build), then, from a folder outside the checkout:
#   zoo list; a 3-step `zoo train` of every task; `zoo run` and `zoo eval` of every bundled
#   (pkg://) pretrained model; `zoo push` / `zoo pull` / `zoo run hf://...` against tests/hubserver.py
#   on 127.0.0.1.
# Any failure, and any traceback or warning on stderr, fails the script. No dev extra is installed:
# it brings matplotlib and with it numpy, which once hid that numpy was an undeclared dependency.
# Usage: ci/user_install.sh   (PYTHON=python3.X and TORCH=torch==X.Y override the interpreter and torch)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-python3}
TORCH=${TORCH:-torch==2.13.0}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/seqzoo-user.XXXXXX")
HUB_PID=""
cleanup() {
  if [ -n "$HUB_PID" ]; then kill "$HUB_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# check CMD...: run it; it must succeed with no traceback and no warning on stderr.
check() {
  local err="$WORK/stderr"
  if ! "$@" >"$WORK/stdout" 2>"$err"; then
    cat "$WORK/stdout" "$err" >&2
    echo "user-install: FAILED: $*" >&2
    exit 1
  fi
  if grep -Eiq 'traceback|warning' "$err"; then
    cat "$err" >&2
    echo "user-install: traceback or warning on stderr: $*" >&2
    exit 1
  fi
  echo "ok: $*"
}

echo "user-install: building wheels"
"$PY" -m venv "$WORK/build"
projects=("$REPO")
for plugin in "$REPO"/plugins/*/; do projects+=("$plugin"); done
"$WORK/build/bin/python" -m pip wheel -q --no-deps -w "$WORK/wheels" "${projects[@]}"

echo "user-install: installing $(cd "$WORK/wheels" && echo *.whl) with $TORCH"
"$PY" -m venv "$WORK/user"
U="$WORK/user/bin"
"$U/python" -m pip install -q "$TORCH"
"$U/python" -m pip install -q "$WORK"/wheels/*.whl
"$U/python" -m pip check

cd "$WORK"  # away from the checkout: only what was installed can be imported
export ZOO_CACHE="$WORK/cache" HF_HOME="$WORK/hf" HF_HUB_DISABLE_TELEMETRY=1
check "$U/zoo" list

tasks=$("$U/zoo" list tasks --json | "$U/python" -c 'import json, sys; print(*(t["name"] for t in json.load(sys.stdin)["tasks"]))')
for task in $tasks; do
  check "$U/zoo" train "$task" gru --steps 3 --out "runs/$task"
done

# name<TAB>task<TAB>example input (the "(try X)" of the summary) of every bundled entry
"$U/zoo" list pretrained --json | "$U/python" -c '
import json, re, sys
for p in json.load(sys.stdin)["pretrained"]:
    if p["source"].startswith("pkg://"):
        m = re.search(r"\(try (?:\"([^\"]*)\"|([^)]*))\)", p["summary"])
        print(p["name"], p["task"], (m.group(1) or m.group(2)) if m else "a", sep="\t")
' > "$WORK/bundled.tsv"
shakespeare="$REPO/../shared/data/tinyshakespeare.txt"
while IFS=$'\t' read -r name task example; do
  check "$U/zoo" run "$name" "$example"
  if [ "$task" = charlm ]; then  # trained on a corpus that is not shipped: evaluate where it is
    if [ -f "$shakespeare" ]; then
      check "$U/zoo" eval "$name" --set "data=$shakespeare"
    else
      echo "skip: zoo eval $name (no $shakespeare)"
    fi
  else
    check "$U/zoo" eval "$name"
  fi
done < "$WORK/bundled.tsv"

echo "user-install: push and pull against tests/hubserver.py"
export HF_TOKEN=hf_user_install_check
"$PY" "$REPO/tests/hubserver.py" > "$WORK/hub.out" &
HUB_PID=$!
for _ in $(seq 50); do grep -q HF_ENDPOINT= "$WORK/hub.out" 2>/dev/null && break; sleep 0.2; done
HF_ENDPOINT=$(sed -n 's/^HF_ENDPOINT=//p' "$WORK/hub.out")
export HF_ENDPOINT
check "$U/zoo" push runs/adder tester/adder-user-install
commit=$(sed -n 's/.*commit: \([0-9a-f]\{40\}\).*/\1/p' "$WORK/stdout" | head -1)
[ -n "$commit" ] || { echo "user-install: no commit in the push output" >&2; exit 1; }
check "$U/zoo" pull "hf://tester/adder-user-install@$commit"
check "$U/zoo" run "hf://tester/adder-user-install@$commit" "81+113"
echo "user-install: all checks passed"

"""Shell completion of task, model and pretrained names through the real ``zoo`` script (torch-free)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from zoo.plugins import current


def complete(*words: str) -> tuple[list[str], str]:
    env = {**os.environ, "_ZOO_COMPLETE": "bash_complete", "COMP_WORDS": " ".join(["zoo", *words]),
           "COMP_CWORD": str(len(words))}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "zoo"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    imported = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    return [line.split(",", 1)[1] for line in done.stdout.splitlines()], " ".join(sorted(imported))


@pytest.mark.skipif(not {"charlm", "count"} <= set(current().tasks) or "lstm" not in current().models,
                    reason="needs the first-party plugins")
def test_completion_of_names_without_torch() -> None:
    tasks, imported = complete("train", "c")
    assert tasks == sorted(t for t in current().tasks if t.startswith("c")) and "charlm" in tasks
    assert "torch" not in imported.split()
    assert "lstm" in complete("train", "charlm", "l")[0]
    assert complete("compare", "count", "g")[0] == sorted(m for m in current().models if m.startswith("g"))
    assert complete("run", "adder-")[0] == sorted(p for p in current().catalogue() if p.startswith("adder-"))
    assert "lstm" in complete("info", "ls")[0]

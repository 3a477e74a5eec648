"""A resumed run whose budget is already used up says so on stderr, even without progress output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ZOO = str(Path(sys.executable).with_name("zoo"))


def test_resuming_a_finished_run_says_the_budget_was_reached(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.run([ZOO, "train", "count", "rnn", "--steps", "3", "--out", str(tmp_path / "run")],
                           capture_output=True, text=True, timeout=120, env=env)
    assert first.returncode == 0, first.stderr
    again = subprocess.run([ZOO, "train", "--resume", str(tmp_path / "run")],
                           capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL)
    assert again.returncode == 0, again.stderr
    assert f"{tmp_path / 'run'} already reached its budget (3 of 3 steps); nothing to train" in again.stderr

"""What an ordinary install needs: declared dependencies, and a missing one failing before training."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ZOO = Path(sys.executable).with_name("zoo")


def test_a_missing_numpy_fails_before_training_and_writes_nothing(tmp_path: Path) -> None:
    # A numpy that cannot be imported, exactly as when it is not installed.
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "numpy.py").write_text('raise ModuleNotFoundError("No module named \'numpy\'", name="numpy")\n')
    env = {**os.environ, "PYTHONPATH": str(blocker)}
    out = tmp_path / "run"
    result = subprocess.run([str(ZOO), "train", "adder", "gru", "--steps", "5", "--out", str(out)],
                            capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[-1] == (
        "error: cannot save models: No module named 'numpy'; install it first (pip install numpy)")
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not out.exists()  # refused before the run folder, let alone training


def test_numpy_is_a_declared_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {d.split(">")[0].split("=")[0].split("[")[0].strip().lower() for d in project["dependencies"]}
    assert "numpy" in names  # safetensors' torch path imports it while saving

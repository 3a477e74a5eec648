"""``zoo info RUN_DIR``: a real run folder described from its files, through the real script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import zoo
from zoo.plugins import current


def info(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zoo", "info", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(not {"count"} <= set(current().tasks) or "gru" not in current().models,
                    reason="needs the count and rnn plugins")
def test_info_describes_a_run_folder(tmp_path: Path) -> None:
    result = zoo.train("count", "gru", settings=["pattern=0,1,2,1", "hidden_size=8"], steps=20, eval_every=10,
                       out=tmp_path / "run", progress=False)
    data = json.loads(info(str(result.run_dir), "--json").stdout)
    assert data["schema_version"] == 1 and data["kind"] == "run"
    assert (data["task"], data["model"]) == ("count", "gru")
    assert data["task_settings"]["pattern"] in ([0, 1, 2, 1], ["0", "1", "2", "1"])  # the pattern it learned
    assert data["model_settings"]["hidden_size"] == 8
    assert data["training"]["settings"]["steps"] == 20
    assert data["metrics"] == {k: pytest.approx(v) for k, v in result.metrics.items()}
    assert data["logged_steps"] == 20 and data["resumable"] is True
    text = info(str(result.run_dir)).stdout
    assert text.startswith(f"run {result.run_dir}") and "task: count" in text and "hidden_size=8" in text
    assert f"zoo train --resume {result.run_dir}" in text


def test_info_on_a_folder_that_is_no_run(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for target in (tmp_path / "empty", tmp_path / "missing"):
        done = info(str(target))
        assert done.returncode == 2 and done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1

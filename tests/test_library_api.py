"""The Python API as a library user meets it: ``zoo.load`` of a Path, run options refused as the
CLI refuses them, ``zoo.evaluate`` / ``Loaded.evaluate``, ``save_pretrained`` and one resolver.

Uses the bundled pretrained adder-gru (shipped in the adder plugin's package data), so nothing
trains here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import zoo
from zoo.plugins import current

pytestmark = pytest.mark.skipif("adder-gru" not in current().catalogue(), reason="the adder plugin is not installed")


def test_load_accepts_a_path_and_a_string_alike() -> None:
    model = zoo.load("adder-gru")
    assert isinstance(model.path, Path)
    again = zoo.load(model.path)  # a Path, as zoo.train's result.run_dir is
    assert again.run("81+113") == model.run("81+113") == f"{81 + 113}\n"
    with pytest.raises(zoo.ZooError, match="no such model directory"):
        zoo.load(model.path / "missing")


def test_run_refuses_an_option_the_task_does_not_take() -> None:
    model = zoo.load("adder-gru")
    assert "beam" not in model.task.run_options
    with pytest.raises(zoo.ZooError, match=r"^task 'adder' does not take beam$"):
        model.run("1+1", beam=3)
    with pytest.raises(zoo.ZooError, match="unknown run option"):
        model.run("1+1", bream=3)
    cli = subprocess.run([sys.executable, "-m", "zoo", "run", "adder-gru", "1+1", "--beam", "3"],
                         capture_output=True, text=True)
    assert cli.returncode == 2 and cli.stderr.strip() == "error: task 'adder' does not take --beam"


def test_evaluate_reproduces_the_registry_metrics_without_touching_the_model() -> None:
    entry = current().pretrained("adder-gru")
    result = zoo.evaluate("adder-gru")
    assert result.recorded == dict(entry.metrics) and result.tolerance == entry.tolerance
    assert result.reproduced, result.rows
    result.check()

    model = zoo.load("adder-gru")
    task, recipe = model.task, model.recipe
    own = model.evaluate()
    assert model.task is task and model.recipe is recipe  # no in-place edits of the loaded model
    for name, value in entry.metrics.items():
        assert own.measured[name] == pytest.approx(value, abs=entry.tolerance)


def test_a_changed_model_is_not_reproduced(tmp_path: Path) -> None:
    import torch

    model = zoo.load("adder-gru")
    with torch.no_grad():
        for p in model.net.parameters():
            p.zero_()
    folder = model.save_pretrained(tmp_path / "zeroed")
    result = zoo.evaluate(folder)
    assert not result.reproduced
    with pytest.raises(zoo.ZooError, match="measured") as failure:
        result.check()
    assert getattr(failure.value, "exit_code", 2) == 1


def test_save_pretrained_writes_a_model_directory_that_loads(tmp_path: Path) -> None:
    from safetensors import safe_open

    model = zoo.load("adder-gru")
    folder = model.save_pretrained(tmp_path / "copy")
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    assert json.loads((folder / "config.json").read_text()) == model.config
    with safe_open(str(folder / "model.safetensors"), framework="pt") as f:
        # safetensors before 0.8 also records tied weights' aliases there ({"head.weight": "embed.weight"})
        assert f.metadata()["format"] == "pt"
    assert zoo.load(folder).run("200+55").strip() == "255"


def test_pull_and_load_resolve_a_reference_the_same_way(tmp_path: Path) -> None:
    from zoo.loading import resolve

    pulled = subprocess.run([sys.executable, "-m", "zoo", "pull", "adder-gru"], capture_output=True, text=True)
    assert pulled.returncode == 0, pulled.stderr
    assert Path(pulled.stdout.strip()) == resolve("adder-gru")
    # a local folder named like a pretrained entry wins in both, as it does for zoo run
    local = zoo.load("adder-gru").save_pretrained(tmp_path / "adder-gru")
    here = subprocess.run([sys.executable, "-m", "zoo", "pull", "adder-gru"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert Path(here.stdout.strip()) == Path("adder-gru") and (tmp_path / "adder-gru") == local
    bare = subprocess.run([sys.executable, "-m", "zoo", "pull", "someone/model"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert bare.returncode == 2 and "hf://someone/model" in bare.stderr and "Traceback" not in bare.stderr


def test_the_core_types_tasks_as_task() -> None:
    """assemble, artifacts and the engine loop annotate tasks as ``Task``, not ``Any``."""
    import inspect

    from zoo import artifacts, assemble
    from zoo.engine.api import Job
    from zoo.engine.loop import Trainer

    assert inspect.signature(assemble.make_task).return_annotation == "Task"
    assert inspect.signature(assemble.make_network).parameters["task"].annotation == "Task"
    assert inspect.signature(artifacts.save_model_dir).parameters["task"].annotation == "Task"
    assert inspect.signature(Trainer.__init__).parameters["task"].annotation == "Task"
    assert Job.__annotations__["task"] == "Task"
    assert zoo.Loaded.__annotations__["task"] == "Task"

"""``zoo train`` through the installed script (first-party charlm task and rnn models)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from safetensors.torch import load_file

from zoo.cli import cli
from zoo.config import fields_of
from zoo.plugins import current

ZOO = str(Path(sys.executable).with_name("zoo"))
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}  # 2 shared cores: spinning OpenMP threads hurt
SMALL = ["--set", "window=16", "--hidden-size", "16", "--batch-size", "8", "--warmup", "2", "--device", "cpu"]


def zoo(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([ZOO, *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=240)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def _option_entries(help_text: str) -> dict[str, str]:
    """``--flag`` -> its help entry with wrapped lines joined."""
    entries: dict[str, str] = {}
    current_flag = None
    for line in help_text.splitlines():
        stripped = line.strip()
        if stripped.startswith("--"):
            current_flag = stripped.split()[0]
            entries[current_flag] = stripped
        elif current_flag and line.startswith("      ") and stripped:
            entries[current_flag] += " " + stripped
        else:
            current_flag = None
    return entries


def test_help_lists_every_field_of_the_task_and_the_model():
    result = CliRunner().invoke(cli, ["train", "charlm", "gru", "--help"])
    assert result.exit_code == 0, result.output
    entries = _option_entries(result.output)
    task_defaults = current().task("charlm").load().model_defaults  # e.g. charlm's hidden_size 256
    for comp in (current().task("charlm"), current().model("gru")):
        for info in fields_of(comp.config):
            entry = entries.get(f"--{info.name.replace('_', '-')}")
            assert entry is not None, f"--help misses {info.name}"
            assert info.help[:30] in entry
            if comp.kind == "model" and info.name in task_defaults:
                default = f"default for charlm: {task_defaults[info.name]!r}, else {info.default!r}"
            else:
                default = f"default: {info.default!r}"
            assert f"[{info.type_name}; {default}" in entry, entry
    for flag in ("--device", "--steps", "--epochs", "--time", "--precision", "--resume", "--json", "--set"):
        assert flag in entries
    assert "Defaults of task 'charlm'" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["charlm", "gru", "--set", "nosuch=1"], "unknown setting 'nosuch'"),
        (["charlm", "gru", "--hidden-size", "many"], "expected an integer"),
        (["charlm", "nosuch"], "unknown model 'nosuch'"),
        ([], "expected TASK and MODEL"),
        (["charlm", "gru", "--device", "quantum"], "unknown device 'quantum'"),
        (["charlm", "gru", "--time", "soon"], "bad time budget"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(args, message):
    result = CliRunner().invoke(cli, ["train", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_cuda_or_fp16_on_a_cpu_machine_is_a_clear_error(tmp_path, monkeypatch):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    monkeypatch.chdir(tmp_path)
    for args, message in ((["--device", "cuda"], "CUDA is not available"),
                          (["--device", "cpu", "--precision", "fp16"], "fp16 needs a CUDA device")):
        result = CliRunner().invoke(cli, ["train", "charlm", "gru", *args])
        assert result.exit_code == 2 and result.stderr.startswith("error: ") and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # a refused run leaves no empty run folder behind


def test_train_json_run_directory_and_native_options(tmp_path):
    proc = zoo("train", "charlm", "gru", *SMALL, "--steps", "12", "--eval-every", "6", "--log-every", "3",
               "--json", cwd=tmp_path)
    out = proc.stdout.strip().splitlines()
    assert len(out) == 1, "with --json, stdout holds only the JSON line"
    summary = json.loads(out[0])
    assert summary["schema_version"] == 1
    run = tmp_path / summary["run_dir"]
    assert summary["run_dir"].startswith("runs/charlm-gru-") and summary["steps"] == 12
    assert set(summary["metrics"]) >= {"val_loss", "train_loss"}
    human = proc.stderr.splitlines()
    assert any(line.startswith("step 3 loss=") for line in human), "plain log lines (on stderr) when not a terminal"
    assert any(line.startswith("done: 12 steps") for line in human)
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["config"]["hidden_size"] == 16 and config["task"]["config"]["window"] == 16
    assert config["versions"]["plugins"] == {"seqzoo-charlm": current().task("charlm").provider.version,
                                             "seqzoo-rnn": current().model("gru").provider.version}
    assert config["training"]["steps"] == 12 and config["training"]["data_fingerprint"]
    assert (run / "model.safetensors").is_file() and (run / "metrics.jsonl").is_file()


def _wait_for_step(run: Path, step: int, proc: subprocess.Popen[str], limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        metrics = run / "metrics.jsonl"
        if metrics.exists() and any(json.loads(x)["step"] >= step for x in metrics.read_text().splitlines() if x):
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError("training made no progress")


@pytest.mark.slow
def test_ctrl_c_to_zoo_train_checkpoints_and_resume_matches_an_uninterrupted_run(tmp_path):
    """The real script, a real SIGINT: exit 130, a resume hint, and identical final weights.

    (SIGTERM takes the same path; tests/test_engine.py sends both in-process.)
    """
    common = [*SMALL, "--steps", "150", "--eval-every", "100", "--log-every", "5", "--seed", "7"]
    whole_run = subprocess.Popen([ZOO, "train", "charlm", "gru", *common, "--out", "whole"], cwd=tmp_path,
                                 env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    proc = subprocess.Popen([ZOO, "train", "charlm", "gru", *common, "--out", "cut"], cwd=tmp_path, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_step(tmp_path / "cut", 10, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "resume with: zoo train --resume cut" in err
    stopped_at = json.loads((tmp_path / "cut" / "resume.json").read_text())["step"]
    assert 10 <= stopped_at < 150
    zoo("train", "--resume", "cut", "--device", "cpu", cwd=tmp_path)
    assert whole_run.wait(timeout=240) == 0, whole_run.communicate()[1]
    resumed = load_file(str(tmp_path / "cut" / "model.safetensors"))
    whole = load_file(str(tmp_path / "whole" / "model.safetensors"))
    assert resumed.keys() == whole.keys()
    assert all((resumed[k] == whole[k]).all() for k in whole), f"weights differ after resuming at {stopped_at}"

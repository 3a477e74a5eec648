"""Property: whatever is damaged in a run folder, zoo run / eval / train --resume never show a
traceback. Hypothesis mutates a real run folder (config.json values and types, the safetensors
header and bytes, resume.json, the checkpoint files); every command must end with exit 0, 1 or 2
and, when it fails, one ``error:`` line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zoo.cli import cli

ZOO = str(Path(sys.executable).with_name("zoo"))
JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 300), st.sampled_from([10**6, 10**12, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.lists(st.integers(0, 3), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
COMMANDS = {
    "run": lambda d: ["run", str(d), "1+2"],
    "eval": lambda d: ["eval", str(d)],
    "resume": lambda d: ["train", "--resume", str(d), "--steps", "3", "--eval-every", "100"],
}


@pytest.fixture(scope="module")
def valid_run(tmp_path_factory) -> Path:
    import zoo

    out = tmp_path_factory.mktemp("valid") / "run"
    zoo.train("adder", "gru", settings=["hidden_size=4", "bits=4", "eval_size=64"], steps=2, eval_every=2, out=out)
    (out / ".zoo-lock").unlink()
    return out


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in a JSON tree (objects and lists)."""
    out = [prefix] if prefix else []
    if isinstance(tree, dict):
        for k, v in tree.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out += _paths(v, (*prefix, i))
    return out


def _mutate_json(file: Path, data: st.DataObject) -> None:
    tree = json.loads(file.read_text())
    path = data.draw(st.sampled_from(_paths(tree)), label=f"{file.name} key")
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and data.draw(st.booleans(), label="delete"):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(JSON_VALUES, label="value")
    file.write_text(json.dumps(tree))


def _mutate_bytes(file: Path, data: st.DataObject) -> None:
    raw = bytearray(file.read_bytes())
    header_end = 8 + int.from_bytes(raw[:8], "little")
    how = data.draw(st.sampled_from(["truncate", "flip header", "flip data", "length"]), label=f"{file.name} damage")
    if how == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1), label="keep")]
    elif how == "length":
        raw[:8] = data.draw(st.integers(0, 2**64 - 1), label="header length").to_bytes(8, "little")
    else:
        lo, hi = (8, header_end - 1) if how == "flip header" else (header_end, len(raw) - 1)
        at = data.draw(st.integers(lo, max(lo, hi)), label="offset")
        raw[at] = data.draw(st.integers(0, 255), label="byte")
    file.write_bytes(bytes(raw))


def damage(folder: Path, data: st.DataObject) -> None:
    record = json.loads((folder / "resume.json").read_text())
    targets = {
        "config.json": lambda: _mutate_json(folder / "config.json", data),
        "resume.json": lambda: _mutate_json(folder / "resume.json", data),
        "model.safetensors": lambda: _mutate_bytes(folder / "model.safetensors", data),
        "checkpoint model": lambda: _mutate_bytes(folder / "checkpoint" / record["files"]["model"], data),
        "checkpoint state": lambda: _mutate_bytes(folder / "checkpoint" / record["files"]["state"], data),
    }
    targets[data.draw(st.sampled_from(sorted(targets)), label="damaged file")]()


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), command=st.sampled_from(sorted(COMMANDS)))
def test_a_damaged_run_folder_never_gives_a_traceback(valid_run, data, command):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        shutil.copytree(valid_run, folder)  # copies: the weights' hard link is not shared here
        damage(folder, data)
        result = CliRunner().invoke(cli, COMMANDS[command](folder))
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{command}: {type(result.exception).__name__}: {result.exception}")
        assert result.exit_code in (0, 1, 2), result.output
        assert "Traceback" not in result.output
        if result.exit_code == 2:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr


def test_a_damaged_run_folder_through_the_real_script(valid_run, tmp_path):
    """One case end to end in a subprocess: a header that claims more bytes than the file has."""
    folder = tmp_path / "run"
    shutil.copytree(valid_run, folder)
    weights = folder / "model.safetensors"
    raw = bytearray(weights.read_bytes())
    weights.unlink()
    raw[:8] = (len(raw) * 2).to_bytes(8, "little")
    weights.write_bytes(bytes(raw))
    for args in (["run", str(folder), "1+2"], ["eval", str(folder)]):
        proc = subprocess.run([ZOO, *args], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert proc.stderr.startswith("error: ") and "model.safetensors: truncated" in proc.stderr

"""Two CPU processes under torch.distributed (gloo) train like one process with the same global batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
ARGS = ["train", "charlm", "gru", "--set", "window=16", "--hidden-size", "16", "--batch-size", "8",
        "--warmup", "2", "--device", "cpu", "--steps", "20", "--eval-every", "10", "--log-every", "5", "--json"]


def _last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_two_gloo_processes_match_one_process_with_the_same_global_batch(tmp_path):
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "zoo"]
    runs = {  # side by side: the test takes the time of the slower one
        "two": subprocess.Popen([*launcher, *ARGS, "--out", "two"], cwd=tmp_path, env=ENV,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
        "one": subprocess.Popen([str(Path(sys.executable).with_name("zoo")), *ARGS, "--out", "one"],
                                cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
    }
    (two_out, two_err), (one_out, one_err) = (runs[k].communicate(timeout=300) for k in ("two", "one"))
    assert runs["two"].returncode == 0, two_err[-3000:]
    assert runs["one"].returncode == 0, one_err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "two"], "files are written by rank 0 only"
    assert two_err.count("done: 20 steps") == 1, "only rank 0 reports (human lines on stderr with --json)"
    assert len(two_out.strip().splitlines()) == 1, "one JSON line on stdout, from rank 0"
    a, b = _last_json(two_out), _last_json(one_out)
    assert a["steps"] == b["steps"] == 20
    # DDP averages the two half-batch gradients: the same arithmetic as one full batch, up to
    # float rounding in the reduction order.
    assert abs(a["metrics"]["train_loss"] - b["metrics"]["train_loss"]) < 1e-4
    assert abs(a["metrics"]["val_loss"] - b["metrics"]["val_loss"]) < 1e-4
    wa, wb = load_file(str(tmp_path / "two" / "model.safetensors")), load_file(str(tmp_path / "one" / "model.safetensors"))
    assert all(torch.allclose(wa[k], wb[k], atol=1e-5) for k in wb)
    record = json.loads((tmp_path / "two" / "resume.json").read_text())
    assert record["world_size"] == 2
    carried = load_file(str(tmp_path / "two" / "checkpoint" / record["files"]["state"]))
    carry = [t for k, t in carried.items() if k.startswith("carry")]
    assert carry and all(t.shape[0] == 2 for t in carry), "each rank's TBPTT state is kept for resuming"

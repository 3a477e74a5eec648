"""bench/gpu_check.sh stays runnable without a GPU: its CPU-runnable parts pass, CUDA ones say SKIP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # real training and the engine-overhead bench, on tiny sizes

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "gpu_check.sh"


def test_the_cpu_smoke_run_passes_and_skips_only_what_needs_cuda(tmp_path) -> None:
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([str(SCRIPT), "--cpu-smoke", "--json", str(tmp_path / "r.json")],
                          capture_output=True, text=True, env=env, timeout=400)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "r.json").read_text())
    verdicts = {name: r["result"] for name, r in results.items()}
    assert verdicts == {
        "cuda_vs_cpu": "SKIP", "autocast_bf16": "PASS", "autocast_fp16": "SKIP",
        "fused_vs_generic_lstm": "PASS", "fused_vs_generic_gru": "PASS", "ddp_one_process": "PASS",
        "scan_vs_gru": "PASS", "engine_vs_hand": "PASS", "quality_3min": "SKIP",
    }
    assert results["engine_vs_hand"]["same_final_weights"] is True


def test_without_cuda_and_without_the_smoke_flag_it_says_so_in_one_line() -> None:
    env = {**os.environ, "PYTHON": sys.executable, "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([str(SCRIPT)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == "error: no CUDA device here; run with --cpu-smoke for the CPU-runnable parts"

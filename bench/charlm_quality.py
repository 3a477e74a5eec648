"""Quality of `zoo train charlm MODEL` under a wall-clock budget: validation loss on tinyshakespeare.

Runs the real command with the task's default settings, only pointing it at the corpus and
setting the budget:

    zoo train charlm lstm --set data=../shared/data/tinyshakespeare.txt --time 125s --json

and reports the final validation loss (nats and bits per character, evaluated statefully over
the whole validation split) against the target of 1.45 nats/char. The default budget, 125 s, is
what nanoGPT's CPU recipe (4 layers, 4 heads, 128 dims, block 64, batch 12, 2,000 iterations)
takes on a quiet 2-core AMD EPYC (fp32 matmul about 126 GFLOP/s on 2 threads), where it reaches
1.886; on another machine pass that machine's nanoGPT time with --time. The load average is
recorded with the figure, since a busy machine trains fewer steps.

    .venv/bin/python bench/charlm_quality.py [--model lstm] [--time 125s] [--data FILE] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_name, matmul_gflops

SHAKESPEARE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tinyshakespeare.txt"
TARGET = 1.45


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lstm", help="any installed model (lstm, gru, transformer, ...)")
    parser.add_argument("--time", default="125s", help="wall-clock training budget (your machine's nanoGPT time)")
    parser.add_argument("--data", default=str(SHAKESPEARE), help="corpus (never committed to the repo)")
    parser.add_argument("--out", help="run directory (default: a temporary one)")
    parser.add_argument("--set", dest="settings", action="append", default=[],
                        help="extra name=value setting (the benchmark figure uses none)")
    parser.add_argument("--seed", type=int, default=0, help="zoo train --seed (the figure quotes several)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not Path(args.data).is_file():
        raise SystemExit(f"no corpus at {args.data} (pass --data FILE)")

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="charlm-quality-")) / "run"
    zoo = str(Path(sys.executable).with_name("zoo"))
    cmd = [zoo, "train", "charlm", args.model, "--set", f"data={args.data}",
           *[x for s in args.settings for x in ("--set", s)],
           "--time", args.time, "--seed", str(args.seed), "--out", str(out), "--json"]
    gflops = matmul_gflops()  # on torch's default threads, as the training run uses
    load_before = os.getloadavg()
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {done.returncode}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    config = json.loads((Path(result["run_dir"]) / "config.json").read_text(encoding="utf-8"))

    metrics = result["metrics"]
    report = {
        "command": " ".join(["zoo", *cmd[1:]]),
        "val_loss": round(metrics["val_loss"], 4),
        "val_bpc": round(metrics["val_bpc"], 4),
        "target": TARGET,
        "reached": metrics["val_loss"] <= TARGET,
        "steps": result.get("steps"),
        "train_seconds": result.get("seconds"),
        "wall_seconds": round(wall, 1),
        "model_config": config["model"]["config"],
        "task_config": config["task"]["config"],
        "training": config.get("training", {}),
        "machine": f"{cpu_name()}, {platform.machine()}, {os.cpu_count()} cpus",
        "matmul_gflops_fp32": round(gflops),
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        "run_dir": result["run_dir"],
    }
    if args.json:
        print(json.dumps(report))
        return
    verdict = "reached" if report["reached"] else "NOT reached"
    print(f"{report['command']}")
    print(f"val_loss {report['val_loss']:.4f} nats/char ({report['val_bpc']:.4f} bits/char): "
          f"target {TARGET} {verdict}")
    print(f"{report['steps']} steps in {report['train_seconds']} s (wall {report['wall_seconds']} s)")
    print(f"{report['machine']}, fp32 matmul {report['matmul_gflops_fp32']} GFLOP/s")
    print(f"load average before {report['load_avg_before']}, after {report['load_avg_after']}")


if __name__ == "__main__":
    main()

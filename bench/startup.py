"""Start-up cost: wall time of `zoo list` against `python -c "import torch"`, side by side.

Both commands run in fresh processes, alternating, so machine load hits them alike; the report
gives the median of N runs of each and their ratio. `zoo list` loads every installed plugin but
must not import torch, so it should cost a small fraction of the torch import.

    .venv/bin/python bench/startup.py [--runs 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path


def wall(cmd: list[str]) -> float:
    """Seconds for one run of ``cmd`` (output discarded; a failure stops the benchmark)."""
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command (median reported)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    zoo = str(Path(sys.executable).with_name("zoo"))
    commands = {"zoo list": [zoo, "list"], "import torch": [sys.executable, "-c", "import torch"]}
    for cmd in commands.values():  # warm the file cache so the first timed run is not an outlier
        wall(cmd)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            times[name].append(wall(cmd))

    medians = {name: statistics.median(ts) for name, ts in times.items()}
    report = {
        "runs": args.runs,
        "median_s": {name: round(m, 4) for name, m in medians.items()},
        "min_s": {name: round(min(ts), 4) for name, ts in times.items()},
        "ratio": round(medians["zoo list"] / medians["import torch"], 3),
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, {platform.platform()}",
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"{args.runs} alternating runs each (median, min):")
    for name in commands:
        print(f"  {name:<13} {medians[name]:.3f} s   {min(times[name]):.3f} s")
    print(f"  zoo list / import torch = {report['ratio']:.3f}")
    print(f"  {report['machine']}, load average {report['load_avg']}")


if __name__ == "__main__":
    main()

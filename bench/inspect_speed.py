"""How long ``zoo inspect`` takes on 10,000 characters of the bundled charlm-lstm, whole command.

Runs the real ``zoo`` script in a subprocess (start-up, loading, the pass over the text, the
internals, the output) for the terminal table and for ``--html``, ``--rounds`` times each, and
prints the median wall time (target: under 5 s) with the machine's load, and the median CPU time
(user + system): the command runs torch on one thread, so on an idle machine its wall time is
about its CPU time, and the CPU figure stays meaningful when other work shares the cores. The text is the first
10,000 characters of tinyshakespeare (``<repo>/../shared/data/tinyshakespeare.txt``) when present,
else a repeated built-in paragraph.

    .venv/bin/python bench/inspect_speed.py --rounds 3
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = next((c for c in (REPO.parent / "shared" / "data" / "tinyshakespeare.txt",  # a clone beside shared/
                           REPO.parents[1] / "shared" / "data" / "tinyshakespeare.txt")  # a git worktree one deeper
               if c.is_file()), REPO.parent / "shared" / "data" / "tinyshakespeare.txt")
FALLBACK = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"


def text(chars: int) -> str:
    source = CORPUS.read_text(encoding="utf-8") if CORPUS.is_file() else FALLBACK * (chars // len(FALLBACK) + 1)
    return source[:chars]


def timed(args: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of the command."""
    zoo = Path(sys.executable).with_name("zoo")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([str(zoo), *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chars", type=int, default=10_000)
    parser.add_argument("--model", default="charlm-lstm")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "text.txt"
        path.write_text(text(args.chars), encoding="utf-8")
        page = Path(tmp) / "page.html"
        runs = {"table": ["inspect", args.model, "--text", str(path)],
                "html": ["inspect", args.model, "--text", str(path), "--html", str(page)]}
        times: dict[str, list[float]] = {k: [] for k in runs}
        cpu: dict[str, list[float]] = {k: [] for k in runs}
        print(f"{args.chars} characters from {'tinyshakespeare' if CORPUS.is_file() else 'the fallback text'}; "
              f"load average before: {os.getloadavg()[0]:.2f}")
        for r in range(args.rounds):
            for name, cmd in runs.items():
                wall, used = timed(cmd)
                times[name].append(wall)
                cpu[name].append(used)
                print(f"round {r} {name}: {wall:.2f} s wall, {used:.2f} s CPU", flush=True)
        size = page.stat().st_size
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    for name, values in times.items():
        print(f"{name}: median {statistics.median(values):.2f} s wall, {statistics.median(cpu[name]):.2f} s CPU "
              f"over {len(values)} runs")
    print(f"page size: {size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()

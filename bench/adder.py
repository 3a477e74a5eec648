"""Time to 100% exact match on held-out 8-bit sums, per first-party model, and generalisation.

Each model trains on the adder task with the task's defaults until every held-out 8-bit sum is
right (the engine stops at the target); this records the steps and seconds that took (median over
seeds, evaluations included) and the exact match of the same network on 16- and 32-bit sums.

    python bench/adder.py                      # rnn, lstm, gru; seeds 0-4
    python bench/adder.py --seeds 3 --models gru
    python bench/adder.py --budget 600         # also: generalisation after 600 steps, no early stop

Prints a markdown table for the ``## adder`` section of docs/benchmarks.md, with the load average:
seconds are only comparable on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

import zoo

TARGET_SECONDS = 5.0


@dataclass
class Run:
    steps: int
    seconds: float
    reached: bool
    metrics: dict[str, float]


def measure(model: str, seed: int, settings: list[str], budget: int | None = None) -> Run:
    """Train to the target (the task's defaults), or for exactly ``budget`` steps: evaluating only
    at the last step leaves the engine no earlier chance to stop."""
    fixed = {"steps": budget, "eval_every": budget} if budget else {}
    with tempfile.TemporaryDirectory() as tmp:
        result = zoo.train("adder", model, settings=settings, seed=seed, out=Path(tmp) / "run", **fixed)
    return Run(result.steps, result.seconds, result.metrics.get("exact_match") == 1.0, result.metrics)


def row(model: str, runs: list[Run]) -> str:
    reached = [r for r in runs if r.reached]
    if not reached:
        return f"| {model} | 0/{len(runs)} | - | - | - | - | - |"
    secs = [r.seconds for r in reached]
    wide = {w: [r.metrics.get(f"exact_match_{w}", float("nan")) for r in reached] for w in (16, 32)}
    return (
        f"| {model} | {len(reached)}/{len(runs)} | {statistics.median(r.steps for r in reached):.0f} "
        f"| {statistics.median(secs):.2f} | {max(secs):.2f} "
        f"| {statistics.median(wide[16]):.3f} (min {min(wide[16]):.3f}) "
        f"| {statistics.median(wide[32]):.3f} (min {min(wide[32]):.3f}) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["rnn", "lstm", "gru"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--set", dest="settings", action="append", default=[], help="task/model name=value")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (tiny models: 1 is fastest)")
    parser.add_argument("--budget", type=int, default=None, help="also train this many steps, no early stop")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    budgets = [None, args.budget] if args.budget else [None]
    for budget in budgets:
        lines = [
            "| model | 100% on held-out 8-bit | steps (median) | seconds (median) | seconds (max) "
            "| exact match, 16 bits | exact match, 32 bits |",
            "|---|---|---|---|---|---|---|",
        ]
        for model in args.models:
            runs = [measure(model, seed, args.settings, budget) for seed in range(args.seeds)]
            for seed, r in enumerate(runs):
                print(f"# {model} seed {seed}: {r.steps} steps, {r.seconds:.2f}s, 100%: {r.reached}, "
                      f"16 bits {r.metrics.get('exact_match_16')}, 32 bits {r.metrics.get('exact_match_32')}",
                      flush=True)
            lines.append(row(model, runs))
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        how = f"a fixed {budget} steps" if budget else f"until 100% (target: within {TARGET_SECONDS:g} s)"
        print(f"\nadder, {' '.join(args.settings) or 'task defaults'}, trained {how}; seeds 0-{args.seeds - 1}; "
              f"torch threads {args.threads}; load average {load} on {os.cpu_count()} CPUs\n")
        print("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

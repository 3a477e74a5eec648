"""How training time grows with the length of the pattern to memorise (the count task).

For each model and each random pattern length (5, 10, 20, 40 by default; tokens from 0-9, the
task's defaults otherwise) this finds the first step at which free-running continuation is 100%
right, by evaluating after every step, then times a second identical run that evaluates only at
that step, so the seconds count training rather than the per-step evaluations. Evaluation does not
touch the training random state, so both runs follow the same trajectory.

    python bench/count_length.py                       # rnn, lstm, gru; 3 seeds each
    python bench/count_length.py --lengths 5 10 --seeds 1 --plot docs/count_length.png

Prints a markdown table (median over seeds: the pattern and the initial weights change with the
seed) for the ``## count`` section of docs/benchmarks.md, and draws the plot with matplotlib.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

import torch

import zoo

STEPS = 3000  # the budget (also shapes the learning-rate schedule, so both runs share it)


def train(model: str, length: int, seed: int, eval_every: int) -> zoo.engine.TrainResult:
    settings = [f"length={length}", f"seed={seed}"]
    with tempfile.TemporaryDirectory() as tmp:
        return zoo.train("count", model, settings=settings, seed=seed, steps=STEPS, eval_every=eval_every,
                         out=Path(tmp) / "run")


def steps_and_seconds(model: str, length: int, seed: int) -> tuple[int, float] | None:
    """Steps to 100% continuation accuracy and the seconds they take; None if never reached."""
    found = train(model, length, seed, eval_every=1)
    if found.stopped != "target":
        return None
    timed = train(model, length, seed, eval_every=found.steps)
    if timed.stopped != "target" or timed.steps != found.steps:
        raise RuntimeError(f"{model} length {length} seed {seed}: the timed run diverged from the first")
    return found.steps, timed.seconds


def plot(results: dict[str, dict[int, list[tuple[int, float]]]], path: Path, note: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for model, by_length in results.items():
        lengths = [n for n, runs in by_length.items() if runs]
        for ax, i in zip(axes, (0, 1), strict=True):
            values = [[run[i] for run in by_length[n]] for n in lengths]
            mid = [statistics.median(v) for v in values]
            err = [[m - min(v) for m, v in zip(mid, values, strict=True)],
                   [max(v) - m for m, v in zip(mid, values, strict=True)]]
            ax.errorbar(lengths, mid, yerr=err, marker="o", capsize=3, label=model)
    for ax, label in zip(axes, ("steps to 100%", "seconds to 100%"), strict=True):
        ax.set_xlabel("pattern length")
        ax.set_ylabel(label)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sorted({n for by in results.values() for n in by}))
        ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("count: memorising a random repeating pattern (median, min-max over seeds)")
    fig.text(0.5, 0.01, note, ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["rnn", "lstm", "gru"])
    parser.add_argument("--lengths", nargs="+", type=int, default=[5, 10, 20, 40])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (tiny models: 1 is fastest)")
    parser.add_argument("--plot", type=Path, default=None, help="write the plot here (PNG)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results: dict[str, dict[int, list[tuple[int, float]]]] = {}
    lines = ["| model | " + " | ".join(f"length {n}" for n in args.lengths) + " |",
             "|---|" + "---|" * len(args.lengths)]
    for model in args.models:
        results[model] = {}
        cells = []
        for length in args.lengths:
            runs = [steps_and_seconds(model, length, seed) for seed in range(args.seeds)]
            print(f"# {model} length {length}: {runs}", flush=True)
            done = [r for r in runs if r is not None]
            results[model][length] = done
            missing = f" ({len(runs) - len(done)} of {len(runs)} not reached)" if len(done) < len(runs) else ""
            cells.append(
                f"{statistics.median(r[0] for r in done):.0f} steps, {statistics.median(r[1] for r in done):.2f} s{missing}"
                if done else "not reached"
            )
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    note = (f"count task defaults, random patterns over 10 symbols, seeds 0-{args.seeds - 1}; torch threads "
            f"{args.threads}; load average {load} on {os.cpu_count()} CPUs")
    print(f"\n{note}\n")
    print("\n".join(lines))
    if args.plot:
        plot(results, args.plot, note)
        print(f"\nplot: {args.plot}")


if __name__ == "__main__":
    main()

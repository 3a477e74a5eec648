"""How training time grows with the length of the pattern to memorise (the count task).

For each model, each random pattern length (5, 10, 20, 40 by default) and each alphabet (tokens
from 0-9, the task's default, and binary 0-1, where the network must remember more context to know
its place in the period; the task's defaults otherwise) this finds the first step at which free-running continuation is 100%
right, by evaluating after every step, then times a second identical run that evaluates only at
that step, so the seconds count training rather than the per-step evaluations. Evaluation does not
touch the training random state, so both runs follow the same trajectory.

    python bench/count_length.py                       # rnn, lstm, gru; 3 seeds each
    python bench/count_length.py --plot docs/count_length.png   # what docs/benchmarks.md shows
    python bench/count_length.py --lengths 5 10 --seeds 1 --symbols 10

Prints a markdown table (median over seeds: the pattern and the initial weights change with the
seed) for the ``## count`` section of docs/benchmarks.md, and draws the plot with matplotlib.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import tempfile
from pathlib import Path

import torch

import zoo

STEPS = 3000  # the budget (also shapes the learning-rate schedule, so both runs share it)


def train(model: str, length: int, symbols: int, seed: int, eval_every: int) -> zoo.engine.TrainResult:
    settings = [f"length={length}", f"symbols={symbols}", f"seed={seed}"]
    with tempfile.TemporaryDirectory() as tmp:
        return zoo.train("count", model, settings=settings, seed=seed, steps=STEPS, eval_every=eval_every,
                         out=Path(tmp) / "run")


def steps_and_seconds(model: str, length: int, symbols: int, seed: int) -> tuple[int, float] | None:
    """Steps to 100% continuation accuracy and the seconds they take; None if never reached."""
    found = train(model, length, symbols, seed, eval_every=1)
    if found.stopped != "target":
        return None
    timed = train(model, length, symbols, seed, eval_every=found.steps)
    if timed.stopped != "target" or timed.steps != found.steps:
        raise RuntimeError(f"{model} length {length} symbols {symbols} seed {seed}: the timed run diverged")
    return found.steps, timed.seconds


Results = dict[tuple[str, int], dict[int, list[tuple[int, float]]]]
"""(model, symbols) -> pattern length -> (steps, seconds) of each seed that reached 100%."""


def plot(results: Results, path: Path, note: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    colours = {}
    for (model, symbols), by_length in results.items():
        colour = colours.setdefault(model, f"C{len(colours)}")
        style = "-" if symbols == max(s for _, s in results) else "--"
        lengths = [n for n, runs in by_length.items() if runs]
        for ax, i in zip(axes, (0, 1), strict=True):
            values = [[run[i] for run in by_length[n]] for n in lengths]
            mid = [statistics.median(v) for v in values]
            err = [[m - min(v) for m, v in zip(mid, values, strict=True)],
                   [max(v) - m for m, v in zip(mid, values, strict=True)]]
            ax.errorbar(lengths, mid, yerr=err, marker="o", capsize=3, color=colour, linestyle=style,
                        label=f"{model}, {symbols} symbols")
    for ax, label in zip(axes, ("steps to 100%", "seconds to 100%"), strict=True):
        ax.set_xlabel("pattern length")
        ax.set_ylabel(label)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sorted({n for by in results.values() for n in by}))
        ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("count: memorising a random repeating pattern (median, min-max over seeds)")
    fig.text(0.5, 0.01, note, ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def cell(done: list[tuple[int, float]], tried: int) -> str:
    """Median steps and seconds of the seeds that reached 100%, saying how many did not."""
    if not done:
        return "not reached"
    missing = f" ({tried - len(done)} of {tried} not reached)" if len(done) < tried else ""
    return f"{statistics.median(r[0] for r in done):.0f} steps, {statistics.median(r[1] for r in done):.2f} s{missing}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["rnn", "lstm", "gru"])
    parser.add_argument("--lengths", nargs="+", type=int, default=[5, 10, 20, 40])
    parser.add_argument("--symbols", nargs="+", type=int, default=[10, 2], help="alphabet sizes")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (tiny models: 1 is fastest)")
    parser.add_argument("--plot", type=Path, default=None, help="write the plot here (PNG)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results: Results = {}
    lines = ["| model | symbols | " + " | ".join(f"length {n}" for n in args.lengths) + " |",
             "|---|---|" + "---|" * len(args.lengths)]
    for symbols, model in itertools.product(args.symbols, args.models):
        results[model, symbols] = {}
        cells = []
        for length in args.lengths:
            runs = [steps_and_seconds(model, length, symbols, seed) for seed in range(args.seeds)]
            print(f"# {model} symbols {symbols} length {length}: {runs}", flush=True)
            done = results[model, symbols][length] = [r for r in runs if r is not None]
            cells.append(cell(done, len(runs)))
        lines.append(f"| {model} | {symbols} | " + " | ".join(cells) + " |")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    note = (f"count task defaults, random patterns, seeds 0-{args.seeds - 1}; torch threads "
            f"{args.threads}; load average {load} on {os.cpu_count()} CPUs")
    print(f"\n{note}\n")
    print("\n".join(lines))
    if args.plot:
        plot(results, args.plot, note)
        print(f"\nplot: {args.plot}")


if __name__ == "__main__":
    main()

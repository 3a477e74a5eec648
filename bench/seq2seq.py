"""Seq2seq benchmark: held-out exact-match of rnn/lstm/gru encoder-decoders, with and without
attention, on antonyms, reverse, addition and dates, and the wall-clock time to reach a target.

Each cell is one real ``zoo.train`` run under a wall-clock budget (the engine's cosine schedule
spans the budget) that stops early once held-out exact-match reaches the cell's target. The
machine's load average is recorded beside every cell: on a shared CPU the seconds are inflated.

    .venv/bin/python bench/seq2seq.py                       # the full grid (about 25 minutes)
    .venv/bin/python bench/seq2seq.py --models gru --attention none,dot,general,additive \
        --data dates,reverse --steps 300                    # choosing the default attention
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

import zoo
from zoo import layout

# data -> (settings, exact-match target, default budget in seconds, evaluate every N steps)
CELLS: dict[str, tuple[list[str], float, float, int]] = {
    "antonyms": (["data=antonyms", "hidden_size=64"], 1.0, 30.0, 20),
    "reverse": (["data=reverse", "min_chars=1", "max_chars=10"], 0.99, 60.0, 200),
    "addition": (["data=addition", "digits=3"], 0.99, 60.0, 200),
    "dates": (["data=dates"], 0.99, 60.0, 200),
}


def run_cell(
    model: str, attention: str, data: str, budget: float, seed: int, steps: int | None = None
) -> dict[str, object]:
    """Train one cell and say how far it got, and when it reached its target if it did.

    ``steps`` replaces the wall-clock budget by a step budget: the fair way to compare variants
    whose speed the machine's load would otherwise decide.
    """
    settings, target, _, eval_every = CELLS[data]
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="seq2seq-bench-") as tmp:
        result = zoo.train(
            "seq2seq", model, settings=[*settings, f"attention={attention}", f"target={target}"],
            steps=steps or 10**9, time=None if steps else budget, eval_every=eval_every, seed=seed, out=Path(tmp) / "run",
        )
        log = result.run_dir / layout.METRICS
        evals = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    best = max((row["exact_match"] for row in evals if row.get("kind") == "eval"),
               default=result.metrics.get("exact_match", 0.0))
    return {
        "model": model, "attention": attention, "data": data, "target": target, "budget_s": budget, "budget_steps": steps,
        "exact_match": result.metrics.get("exact_match", 0.0), "best_exact_match": best,
        "token_accuracy": result.metrics.get("token_accuracy", 0.0),
        "reached": result.stopped == "target", "seconds": round(result.seconds, 1), "steps": result.steps,
        "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2),
    }


def row(cell: dict[str, object]) -> str:
    budget = f"{cell['budget_steps']} steps" if cell["budget_steps"] else f"{cell['budget_s']:.0f} s"
    reached = f"**{cell['seconds']} s**" if cell["reached"] else f"not in {budget}"
    return (f"| {cell['data']} | {cell['model']} | {cell['attention']} | {cell['exact_match']:.3f} | "
            f"{cell['token_accuracy']:.3f} | {cell['target']} | {reached} | {cell['steps']} | "
            f"{cell['load_before']} / {cell['load_after']} |")


HEADER = ("| data | model | attention | exact-match | token acc. | target | time to target | steps | load (1-min avg, before / after) |\n"
          "|---|---|---|---|---|---|---|---|---|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="rnn,lstm,gru")
    parser.add_argument("--attention", default="none,dot", help="comma-separated: none, dot, general, additive")
    parser.add_argument("--data", default="antonyms,reverse,addition,dates")
    parser.add_argument("--budget", type=float, help="seconds per cell (default: per data set, see CELLS)")
    parser.add_argument("--steps", type=int, help="a step budget per cell instead of seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1 on a shared CPU)")
    parser.add_argument("--json", type=Path, help="also append one JSON line per cell to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"started {time.strftime('%Y-%m-%d %H:%M:%S')}, {os.cpu_count()} CPUs, threads={args.threads}")
    print(HEADER, flush=True)
    for data in args.data.split(","):
        for model in args.models.split(","):
            for attention in args.attention.split(","):
                budget = args.budget if args.budget is not None else CELLS[data][2]
                cell = run_cell(model, attention, data, budget, args.seed, args.steps)
                print(row(cell), flush=True)
                if args.json:
                    with args.json.open("a") as f:
                        f.write(json.dumps(cell) + "\n")


if __name__ == "__main__":
    main()

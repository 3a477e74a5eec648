"""What ``--sample-every`` costs ``zoo train charlm lstm``: the same run with and without samples.

Both sides train the identical run (same recipe, seed and batches; evaluation only at the end);
one also samples every ``--sample-every`` steps. They alternate for ``--rounds`` rounds in one
process; the figure is the ratio of the median time per step with samples to the median without
(target: at most 1.02), and the median of each round's ratio, which a drifting load disturbs less. The defaults sample as often per step as four times the charlm default
(every 500 steps of ~2,000): a bound on the default's cost, in a quarter of the time.

A second, steadier figure: the time of one sample call on the trained network times the number
of samples, as a share of the run without samples.

    .venv/bin/python bench/sample_overhead.py --rounds 3 --steps 500 --sample-every 125
    .venv/bin/python bench/sample_overhead.py --threads 1     # on a busy machine
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import zoo
from zoo.engine.samples import sample


def one_run(args: argparse.Namespace, sample_every: int, out: Path) -> float:
    """Seconds per step of one run (the engine's own training clock, samples included)."""
    result = zoo.train("charlm", "lstm", steps=args.steps, seed=0, out=out, eval_every=10**9,
                       sample_every=sample_every)
    return result.seconds / result.steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--sample-every", type=int, default=125)
    parser.add_argument("--threads", type=int, default=0,
                        help="torch CPU threads for both sides (0: torch's default); 1 on a busy machine")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with_samples, without = [], []
    with tempfile.TemporaryDirectory() as tmp:
        last = Path(tmp) / "off-0"
        for r in range(args.rounds):
            order = [(0, without), (args.sample_every, with_samples)]
            for every, times in order if r % 2 == 0 else order[::-1]:
                out = Path(tmp) / f"{'on' if every else 'off'}-{r}"
                times.append(one_run(args, every, out))
                print(f"round {r} sample_every={every}: {times[-1] * 1000:.2f} ms/step", flush=True)
                if not every:
                    last = out
        loaded = zoo.load(str(last))
        start = time.perf_counter()
        text = sample(loaded.task, loaded.net)
        one = time.perf_counter() - start
    ratio = statistics.median(with_samples) / statistics.median(without)
    paired = statistics.median(a / b for a, b in zip(with_samples, without, strict=True))
    samples = args.steps // args.sample_every
    share = samples * one / (statistics.median(without) * args.steps)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"median ms/step without samples {statistics.median(without) * 1000:.2f}, "
          f"with {statistics.median(with_samples) * 1000:.2f}: ratio {ratio:.4f}; "
          f"median of the rounds' ratios {paired:.4f} (steadier when the load drifts)")
    print(f"one sample ({len(text or '')} chars) {one * 1000:.0f} ms; {samples} samples = {share:.2%} of the run")


if __name__ == "__main__":
    main()

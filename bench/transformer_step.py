"""Transformer sampling speed: the chunk-of-one step against the dedicated ``Transformer.step``.

Loads a trained charlm Transformer run and samples single-stream with ``zoo_charlm.task.generate``
(temperature 0.8), swapping the backbone between the old code (``transformer.py`` as of
``--old-ref``, whose ``step`` ran ``forward`` on a chunk of one) and the current one, with the same
weights. Each round times ``--length`` characters on the old path and ``--long`` characters on
the new one, in alternating order; the new path's rate is reported over characters
0-``--length`` and over the last ``--length`` (no slow-down with the length generated). Medians of
``--rounds`` rounds, one thread. A model to measure (64 wide, 2 layers, memory 64, 20 steps):

    OMP_NUM_THREADS=1 .venv/bin/zoo train charlm transformer --steps 20 --set d_model=64 \\
        --set layers=2 --set memory=64 --out /tmp/tstep-run
    OMP_NUM_THREADS=1 .venv/bin/python bench/transformer_step.py --model /tmp/tstep-run
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_name

OLD_REF = "b876dd1c46c7e4d5ba63a0e07019493ad68476e6"
"""main before the dedicated step: transformer.py as written in 3b18bd1."""
SOURCE = "plugins/modern/zoo_modern/transformer.py"


def old_module(ref: str):
    """The transformer module as of ``ref``, imported under another name."""
    root = Path(__file__).resolve().parents[1]
    text = subprocess.run(["git", "show", f"{ref}:{SOURCE}"], cwd=root, check=True, capture_output=True, text=True)
    path = Path(tempfile.mkdtemp()) / "old_transformer.py"
    path.write_text(text.stdout)
    spec = importlib.util.spec_from_file_location("old_transformer", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_transformer"] = module
    spec.loader.exec_module(module)
    return module


def rates(net, prompt, length: int, marks: list[int], seed: int) -> tuple[list[float], list[int]]:
    """Characters per second between consecutive ``marks`` (character counts), and the ids sampled."""
    import torch
    from zoo_charlm.task import generate

    gen = torch.Generator().manual_seed(seed)
    times, ids = [], []
    start = time.perf_counter()
    for i, t in enumerate(generate(net, prompt, length, 0.8, None, gen), 1):
        ids.append(int(t[0]))
        if i in marks:
            times.append(time.perf_counter())
    edges = [start, *times]
    counts = [0, *marks]
    return [(counts[j + 1] - counts[j]) / (edges[j + 1] - edges[j]) for j in range(len(marks))], ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="trained charlm Transformer run directory")
    parser.add_argument("--old-ref", default=OLD_REF, help="git revision of the old transformer.py")
    parser.add_argument("--length", type=int, default=1_000, help="characters per timed stretch")
    parser.add_argument("--long", type=int, default=6_000, help="characters of the new path's long run")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import torch

    import zoo

    torch.set_num_threads(1)
    loaded = zoo.load(args.model)
    task, net = loaded.task, loaded.net
    old_transformer = old_module(args.old_ref).Transformer
    old_net = task.build(lambda size: old_transformer(size, net.backbone.config))  # the same net, old backbone
    old_net.load_state_dict(net.state_dict())
    old_net.eval()
    nets = {"old": old_net, "new": net}
    prompt = task.encode("ROMEO:" if set("ROMEO:") <= set(task.chars) else task.chars[0])[None]

    for name in nets:  # warm-up
        rates(nets[name], prompt, 100, [100], seed=1)
    old, early, late, same = [], [], [], []
    for r in range(args.rounds):
        order = ["old", "new"] if r % 2 == 0 else ["new", "old"]
        for name in order:
            if name == "old":
                (rate,), old_ids = rates(old_net, prompt, args.length, [args.length], seed=r)
                old.append(rate)
            else:
                marks = [args.length, args.long - args.length, args.long]
                (first, _, last), new_ids = rates(net, prompt, args.long, marks, seed=r)
                early.append(first)
                late.append(last)
        same.append(old_ids == new_ids[: args.length])

    before, after, tail = (statistics.median(v) for v in (old, early, late))
    print(f"model {args.model} ({loaded.config['model']['config']}), one thread, {cpu_name()}")
    print(f"old step (forward on a chunk of one): {before:,.0f} chars/s  rounds {[round(v) for v in old]}")
    print(f"new step, chars 0-{args.length:,}: {after:,.0f} chars/s  rounds {[round(v) for v in early]}")
    print(f"new step, chars {args.long - args.length:,}-{args.long:,}: {tail:,.0f} chars/s  "
          f"rounds {[round(v) for v in late]}")
    print(f"speed-up {after / before:.1f}x; late/early {tail / after:.2f}; "
          f"same {args.length:,} characters sampled by both paths: {same}")
    print(f"load average {[round(x, 2) for x in os.getloadavg()]}")


if __name__ == "__main__":
    main()

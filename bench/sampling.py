"""Sampling speed of charlm: characters per second from a trained lstm on the CPU.

Samples 10,000 characters single-stream (``zoo run``'s path: ``Task.run``, one network step per
character) and 10,000 characters in each of 64 streams side by side (``zoo_charlm.task.generate``).
Give a trained run directory with ``--model``; without one, a model is first trained for
``--train-time`` on tinyshakespeare with the default settings (only its shape matters for speed).

    .venv/bin/python bench/sampling.py [--model RUN_DIR] [--length 10000] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

SHAKESPEARE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tinyshakespeare.txt"


def trained_model(args: argparse.Namespace) -> Path:
    """The run directory to sample from, training a small one first when none is given."""
    if args.model:
        return Path(args.model)
    import zoo

    if not Path(args.data).is_file():
        raise SystemExit(f"no corpus at {args.data}: pass --data FILE or --model RUN_DIR")
    result = zoo.train("charlm", "lstm", settings=[f"data={args.data}"], time=args.train_time,
                       out=args.out, progress=False)
    return Path(result.run_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="trained charlm run directory (default: train one first)")
    parser.add_argument("--data", default=str(SHAKESPEARE), help="corpus for the model trained here")
    parser.add_argument("--train-time", default="30s", help="training budget when no --model is given")
    parser.add_argument("--out", default="runs/bench-sampling", help="where to put the model trained here")
    parser.add_argument("--length", type=int, default=10_000, help="characters to sample per stream")
    parser.add_argument("--streams", type=int, default=64, help="streams of the batched measurement")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    import torch
    from zoo_charlm.task import generate

    import zoo

    if args.threads:
        torch.set_num_threads(args.threads)
    loaded = zoo.load(str(trained_model(args)))
    task, net = loaded.task, loaded.net
    prompt = "ROMEO:" if set("ROMEO:") <= set(task.chars) else task.chars[0]

    "".join(loaded.stream(prompt, length=200, seed=0))  # warm-up
    start = time.perf_counter()
    single = "".join(loaded.stream(prompt, length=args.length, seed=0, temperature=0.8))
    single_s = time.perf_counter() - start
    assert len(single) == len(prompt) + args.length

    ids = task.encode(prompt)[None].repeat(args.streams, 1)
    gen = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    count = sum(1 for _ in generate(net, ids, args.length, 0.8, None, gen))
    batched_s = time.perf_counter() - start
    assert count == args.length

    report = {
        "model": str(loaded.path),
        "model_config": loaded.config["model"]["config"],
        "length": args.length,
        "single_stream_chars_per_s": round(args.length / single_s),
        "streams": args.streams,
        "batched_chars_per_s": round(args.streams * args.length / batched_s),
        "torch_threads": torch.get_num_threads(),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus",
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "sample": single[:200],
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"model {report['model']} ({report['model_config']})")
    print(f"single stream: {report['single_stream_chars_per_s']:,} chars/s ({args.length:,} chars)")
    print(f"{args.streams} streams:    {report['batched_chars_per_s']:,} chars/s in total")
    print(f"torch threads {report['torch_threads']}, load average {report['load_avg']}")
    print(f"sample: {report['sample']!r}")


if __name__ == "__main__":
    main()

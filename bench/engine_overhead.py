"""Engine overhead: tokens/s of ``zoo.train`` on charlm + lstm against a hand-written PyTorch loop.

Both sides train the identical network (same recipe, same seed, so the same initial weights) on
the identical batches (``CharLMTask.batch``) with the same optimizer and clipping, carrying the
LSTM state between windows. They run alternately in one process for several rounds; the figure is
the median over rounds of engine tokens/s divided by hand-loop tokens/s (target: >= 0.97).

Each round also checks that both sides end with bit-identical weights: the same work was timed.
The engine's throughput comes from its own metrics.jsonl (tokens and seconds of each log window,
evaluation excluded); the hand loop is timed from its first step to its last.

    .venv/bin/python bench/engine_overhead.py --rounds 5 --steps 40
    .venv/bin/python bench/engine_overhead.py --device cuda --steps 300   # on a GPU machine
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

import zoo
from zoo import assemble, layout
from zoo.devices import resolve_device
from zoo.task import Shard


def engine_rate(args: argparse.Namespace, settings: list[str], out: Path) -> tuple[float, dict[str, torch.Tensor]]:
    result = zoo.train("charlm", "lstm", settings=settings, steps=args.steps, batch_size=args.batch_size,
                       lr=args.lr, weight_decay=args.weight_decay, seed=0, device=args.device, out=out,
                       eval_every=10**9,
                       log_every=args.log_every, grad_clip=1.0, warmup=0, schedule="constant")
    records = [json.loads(line) for line in (result.run_dir / layout.METRICS).read_text().splitlines()]
    train = [r for r in records if r["kind"] == "train"]
    rate = sum(r["tokens"] for r in train) / sum(r["seconds"] for r in train)
    return rate, load_file(str(result.run_dir / layout.WEIGHTS))


def hand_rate(args: argparse.Namespace, settings: list[str]) -> tuple[float, dict[str, torch.Tensor]]:
    """The loop one would write by hand for this model: nothing but the arithmetic."""
    device = resolve_device(args.device)
    recipe = assemble.recipe("charlm", "lstm", settings)
    task = assemble.make_task(recipe)
    task.prepare(0)
    torch.manual_seed(0)
    net = assemble.make_network(recipe, task).to(device)
    params = list(net.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay,
                            **({"fused": True} if device.type == "cuda" else {}))
    state, tokens, shard = None, 0, Shard()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for step in range(args.steps):
        batch = task.batch(step, args.batch_size, shard)
        x, y = batch["x"].to(device, non_blocking=True), batch["y"].to(device, non_blocking=True)
        logits, state = net(x, state)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        tokens += y.numel()
        if (step + 1) % args.log_every == 0:
            loss.item()  # what a hand loop prints now and then
    loss.item()
    sync()
    rate = tokens / (time.perf_counter() - start)
    return rate, {k: v.detach().cpu() for k, v in net.state_dict().items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=40, help="training steps per side per round")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--window", type=int, default=128)
    parser.add_argument("--hidden-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=0.01, help="AdamW's, in both loops")
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--data", default="builtin", help="charlm corpus (default: the built-in text)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    # reset_every=0: plain truncated BPTT, the loop one writes by hand (no staggered state restarts)
    settings = [f"data={args.data}", f"window={args.window}", f"hidden_size={args.hidden_size}", "reset_every=0"]
    hand_rate(args, settings)  # warm-up: allocator, kernels, the corpus cache
    ratios, best, all_identical = [], {"engine": 0.0, "hand": 0.0}, True
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            first, second = ("engine", "hand") if i % 2 == 0 else ("hand", "engine")
            rates, weights = {}, {}
            for side in (first, second):
                rates[side], weights[side] = (engine_rate(args, settings, Path(tmp) / f"run{i}")
                                              if side == "engine" else hand_rate(args, settings))
            # the same work: both sides end with the same weights (bit for bit on CPU)
            identical = all(torch.equal(weights["engine"][k], weights["hand"][k]) for k in weights["hand"])
            all_identical = all_identical and identical
            ratios.append(rates["engine"] / rates["hand"])
            best = {side: max(best[side], rates[side]) for side in best}
            print(f"round {i + 1}: engine {rates['engine']:,.0f} tok/s  hand {rates['hand']:,.0f} tok/s  "
                  f"ratio {ratios[-1]:.3f}  same final weights: {identical}", flush=True)
    print(json.dumps({"device": args.device, "rounds": args.rounds, "steps": args.steps,
                      "batch_size": args.batch_size, "window": args.window, "hidden_size": args.hidden_size,
                      "threads": torch.get_num_threads(), "ratios": [round(r, 4) for r in ratios],
                      "median_ratio": round(statistics.median(ratios), 4),
                      "best_engine_over_best_hand": round(best["engine"] / best["hand"], 4),
                      "same_final_weights": all_identical}))
    if not all_identical:
        raise SystemExit("error: the engine and the hand loop did different work (final weights differ)")


if __name__ == "__main__":
    main()

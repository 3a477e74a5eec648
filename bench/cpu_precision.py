"""Is bf16 autocast faster than fp32 on this CPU? One charlm training step of each, side by side.

A charlm network (embedding 64 -> MODEL -> linear head over 65 symbols) takes forward, backward
and an AdamW step on a batch of 32 windows of 64 characters, in fp32 and under
``torch.autocast("cpu", torch.bfloat16)`` (what ``zoo train --precision bf16`` does), alternating
the two so load changes hit both alike. Prints the median milliseconds and the bf16/fp32 ratio,
with the CPU's matmul GFLOP/s at both precisions and whether it has bf16 instructions.

    .venv/bin/python bench/cpu_precision.py [--model lstm] [--rounds 7] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from machine import cpu_name, matmul_gflops
from torch import nn

import zoo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lstm")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    backbone = zoo.backbone(args.model, 64, hidden_size=256)
    embed, head = nn.Embedding(65, 64), nn.Linear(backbone.output_size, 65)
    params = [*embed.parameters(), *backbone.parameters(), *head.parameters()]
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    x, y = torch.randint(0, 65, (32, 64)), torch.randint(0, 65, (32, 64))

    def step(bf16: bool) -> float:
        start = time.perf_counter()
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            out, _ = backbone(embed(x), None)
            loss = nn.functional.cross_entropy(head(out).float().reshape(-1, 65), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return time.perf_counter() - start

    step(False), step(True)  # warm-up: oneDNN builds its kernels on first use
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.rounds):
        for bf16 in (False, True):
            times[bf16].append(step(bf16))
    fp32, bf16 = statistics.median(times[False]) * 1e3, statistics.median(times[True]) * 1e3
    print(f"{cpu_name()}, {args.threads} threads, bf16 instructions: "
          f"{'yes' if torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported() else 'no'}")
    print(f"matmul 1024x1024: fp32 {matmul_gflops(torch.float32):.0f} GFLOP/s, "
          f"bf16 {matmul_gflops(torch.bfloat16):.0f} GFLOP/s")
    print(f"{args.model} 256, batch 32 x 64, one training step (median of {args.rounds}): "
          f"fp32 {fp32:.1f} ms, bf16 autocast {bf16:.1f} ms, bf16/fp32 {bf16 / fp32:.2f}")


if __name__ == "__main__":
    main()

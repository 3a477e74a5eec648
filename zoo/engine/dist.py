"""torch.distributed glue: process group from torchrun's environment, collectives the loop needs.

Under ``torchrun`` (RANK/WORLD_SIZE/LOCAL_RANK in the environment) the engine joins the process
group (nccl on CUDA, gloo on CPU); otherwise every call here is a cheap no-op.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as tdist

from zoo.errors import ZooError
from zoo.state import State, tree_map


@dataclass
class Dist:
    """This process's place in the job and the device its collectives use."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    owns_group: bool = False

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum over ranks (a single float64 all-reduce)."""
        if not self.enabled:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        tdist.all_reduce(t, op=tdist.ReduceOp.SUM)
        return t.tolist()

    def max(self, values: list[float]) -> list[float]:
        if not self.enabled:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        tdist.all_reduce(t, op=tdist.ReduceOp.MAX)
        return t.tolist()

    def broadcast_text(self, text: str) -> str:
        """Rank 0's string on every rank (run directory, evaluation results as JSON)."""
        if not self.enabled:
            return text
        data = torch.tensor(list(text.encode("utf-8")), dtype=torch.uint8, device=self.device)
        size = torch.tensor([data.numel()], dtype=torch.int64, device=self.device)
        tdist.broadcast(size, 0)
        buf = data if self.is_main else torch.empty(int(size.item()), dtype=torch.uint8, device=self.device)
        tdist.broadcast(buf, 0)
        return bytes(buf.cpu().tolist()).decode("utf-8")

    def stack_state(self, state: State) -> State:
        """Every rank's carried state stacked on a new leading axis (for rank 0's checkpoint)."""
        if not self.enabled:
            return tree_map(lambda t: t.unsqueeze(0), state)

        def gather(t: torch.Tensor) -> torch.Tensor:
            parts = [torch.empty_like(t) for _ in range(self.world_size)]
            tdist.all_gather(parts, t.contiguous())
            return torch.stack(parts)

        return tree_map(gather, state)

    def barrier(self) -> None:
        if self.enabled:
            tdist.barrier()


def setup(device: torch.device) -> tuple[Dist, torch.device]:
    """Join the process group torchrun describes (if any) and pick this rank's device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist(device=device), device
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise ZooError(f"local rank {local_rank} has no GPU: this node has {torch.cuda.device_count()}")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    elif device.type == "mps":
        raise ZooError("distributed training on mps is not supported: use --device cpu or cuda")
    owns = not tdist.is_initialized()
    if owns:
        tdist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Dist(rank, world, local_rank, device, owns), device


def teardown(d: Dist) -> None:
    if d.owns_group and tdist.is_initialized():
        tdist.destroy_process_group()

"""The adder task: add two binary numbers bit by bit, least significant bit first.

At step t the network reads bit t of both numbers and writes bit t of the sum; one extra step
(with zero inputs) writes the final carry. Everything it must remember between steps is the carry,
one bit, so a recurrent network that learns the rule adds numbers of any width. The primary
metric is exact match of whole sums on held-out pairs (see ``zoo_adder.data`` for the split);
``exact_match_16`` and ``exact_match_32`` test the learned rule on 16- and 32-bit numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import zoo
from zoo_adder.config import AdderConfig
from zoo_adder.data import decode, encode, held_out_pairs, int_bits, sample_pairs

WIDER = (16, 32)  # generalisation widths reported by evaluate
WIDE_PAIRS = 1024  # random pairs per wider width: enough to tell a rule from luck, cheap to run
MAX_DIGITS = 4000  # Python refuses to parse longer decimal strings by default


class AdderNet(nn.Module):
    """Two input bits per step -> backbone -> two logits (sum bit 0 or 1) per step."""

    def __init__(self, backbone: zoo.Model) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(backbone.output_size, 2)

    def forward(self, bits: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        y, state = self.backbone(bits.to(self.head.weight.dtype), state)
        return self.head(y), state


def exact_match(logits: Tensor, target: Tensor) -> float:
    """Share of rows whose every predicted bit (argmax of the logits) equals the target bit."""
    return (logits.argmax(-1) == target).all(dim=1).float().mean().item()


class AdderTask(zoo.Task):
    uses_state = False  # every sum runs whole from no state: stateless models fit too
    # One evaluation (6.5k held-out sums, 2k wider ones, a checkpoint) costs about as much as a
    # dozen training steps, and ~100 steps reach 100%: evaluating every 50 rather than every 20
    # steps halved the median time to 100% (rnn, lstm, gru; seeds 0-4, timed side by side).
    train_defaults = {"steps": 2000, "batch_size": 64, "lr": 3e-2, "eval_every": 50, "warmup": 0}
    model_defaults = {"hidden_size": 16}
    example_input = "81+113"

    def __init__(self, config: AdderConfig) -> None:
        super().__init__(config)
        self.seed = 0
        self.eval_sets: dict[str, tuple[Tensor, Tensor]] = {}

    @property
    def primary_metric(self) -> zoo.Metric:
        return zoo.Metric("exact_match", "max", target=1.0)

    def prepare(self, seed: int) -> None:
        """Fix the evaluation pairs: held-out ``bits``-wide pairs, and random wider ones."""
        self.seed = seed
        c = self.config
        gen = torch.Generator().manual_seed(c.seed + 1)
        a, b = held_out_pairs(c.bits, c.seed, c.held_out, c.eval_size, gen)
        if len(a) == 0:
            raise zoo.ZooError(f"no {c.bits}-bit pair is held out: raise held_out or bits")
        self.eval_sets = {"": encode(a, b, c.bits)}
        for width in WIDER:
            if width > c.bits:
                pairs = (torch.randint(2**width, (WIDE_PAIRS,), generator=gen) for _ in range(2))
                self.eval_sets[f"_{width}"] = encode(*pairs, width)

    def state_dict(self) -> dict[str, Any]:
        return {"bits": self.config.bits}

    def fingerprint(self) -> str:
        c = self.config
        return f"adder-{c.bits}-{c.held_out}-{c.seed}"

    def build(self, backbone: Callable[[int], zoo.Model]) -> nn.Module:
        return AdderNet(backbone(2))

    def batch(self, step: int, batch_size: int, shard: zoo.Shard) -> dict[str, Tensor]:
        c = self.config
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
        a, b = sample_pairs(batch_size, c.bits, gen, held_out=False, seed=c.seed, share=c.held_out)
        rows = shard.rows(batch_size)
        inputs, target = encode(a[rows], b[rows], c.bits)
        return {"input": inputs, "target": target}

    def loss(self, net: nn.Module, batch: dict[str, Tensor], state: Any) -> zoo.StepOutput:
        logits, _ = net(batch["input"])
        loss = F.cross_entropy(logits.reshape(-1, 2), batch["target"].reshape(-1))
        return zoo.StepOutput(loss=loss, tokens=batch["target"].numel())

    @torch.no_grad()
    def evaluate(self, net: nn.Module, device: torch.device) -> dict[str, float]:
        if not self.eval_sets:
            raise RuntimeError("prepare() must run before evaluate()")
        out: dict[str, float] = {}
        for suffix, (inputs, target) in self.eval_sets.items():
            inputs, target = inputs.to(device), target.to(device)
            logits, _ = net(inputs)
            out[f"exact_match{suffix}"] = exact_match(logits, target)
            if not suffix:
                out["val_loss"] = F.cross_entropy(logits.reshape(-1, 2), target.reshape(-1)).item()
                out["bit_accuracy"] = (logits.argmax(-1) == target).float().mean().item()
        return out

    def run(self, net: nn.Module, text: str, options: zoo.RunOptions) -> Iterator[str]:
        """``zoo run MODEL "81+113"`` prints 194. Numbers of any width run through the recurrence."""
        a, b = parse_sum(text)
        width = max(a.bit_length(), b.bit_length(), 1)
        steps = list(zip(int_bits(a, width + 1), int_bits(b, width + 1), strict=True))
        device = next(net.parameters()).device
        with torch.no_grad():
            logits, _ = net(torch.tensor([steps], device=device))
        yield f"{decode(logits[0].argmax(-1))}\n"


    def steps(self, net: nn.Module, text: str) -> zoo.Steps:
        """One step per bit, least significant first: the input pair of bits ("a+b"), the
        predicted sum bit and the true one."""
        a, b = parse_sum(text)
        width = max(a.bit_length(), b.bit_length(), 1) + 1
        pairs = list(zip(int_bits(a, width), int_bits(b, width), strict=True))
        model = zoo.unwrap(net)
        x = torch.tensor([pairs], device=next(model.parameters()).device, dtype=model.head.weight.dtype)
        y, _ = model.backbone(x)
        truth: list[int | None] = [int(bit) for bit in int_bits(a + b, width)]
        return zoo.Steps([f"{int(p)}+{int(q)}" for p, q in pairs], model.head(y)[0], ["0", "1"], truth,
                         zoo.Probe(model.backbone, x))


_NUMBER = re.compile(r"[0-9]+", re.ASCII)
_NEGATIVE = re.compile(r"-\s*[0-9]+", re.ASCII)


def parse_sum(text: str) -> tuple[int, int]:
    """``"81+113"`` -> (81, 113): two non-negative decimal integers; anything else is a ZooError."""
    parts = [p.strip() for p in text.split("+")]
    if len(parts) != 2 or not all(parts):
        raise zoo.ZooError(f"expected two numbers joined by '+', such as 81+113; got {text!r}")
    for part in parts:
        if _NEGATIVE.fullmatch(part):
            raise zoo.ZooError(f"negative numbers are not supported: {part}")
        if not _NUMBER.fullmatch(part):
            raise zoo.ZooError(f"not a non-negative integer: {part!r}")
        if len(part) > MAX_DIGITS:
            raise zoo.ZooError(f"numbers longer than {MAX_DIGITS} digits are refused")
    return int(parts[0]), int(parts[1])

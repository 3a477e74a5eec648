"""The parity task: read a bit string and say, after every bit, whether it has seen an odd number
of ones so far (the running XOR).

Parity is the classic function a perceptron cannot compute (Minsky and Papert, 1969) and a
recurrent network computes with one bit of state flipped on every 1. Training uses the running
parity at every step (dense supervision); the primary metric is exact-match accuracy of the
parity of whole strings the network never saw in training, and ``accuracy_2x`` checks the rule
on strings twice as long as any training string.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import zoo
from zoo_mingru.config import ParityConfig

LONG_EVAL = 512  # random strings of twice the training length for accuracy_2x


def bits_of(numbers: Tensor, width: int) -> Tensor:
    """(n,) integers -> (n, width) bits, least significant first."""
    return (numbers.unsqueeze(-1) >> torch.arange(width)) & 1


def running_parity(bits: Tensor) -> Tensor:
    """The parity of each prefix: cumulative XOR along the last dimension."""
    return torch.cumsum(bits, dim=-1) % 2


class ParityNet(nn.Module):
    """One-hot bits -> backbone -> two logits (even, odd) at every step."""

    def __init__(self, backbone: zoo.Model) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(backbone.output_size, 2)

    def forward(self, bits: Tensor, state=None, lengths: Tensor | None = None):
        x = F.one_hot(bits, 2).to(self.head.weight.dtype)
        y, state = self.backbone(x, state, lengths)
        return self.head(y), state


class ParityTask(zoo.Task):
    uses_state = False  # every string runs whole from no state, so stateless models fit too
    train_defaults = {"steps": 1500, "batch_size": 64, "lr": 1e-2, "eval_every": 25}
    example_input = "1011"  # the model card's usage example
    model_defaults = {"hidden_size": 32}

    def __init__(self, config: ParityConfig) -> None:
        super().__init__(config)
        self.train_ids: Tensor | None = None
        self.eval_ids: Tensor | None = None
        self.seed = 0

    @property
    def primary_metric(self) -> zoo.Metric:
        return zoo.Metric("accuracy", "max", target=1.0)

    def prepare(self, seed: int) -> None:
        """Split all 2**bits strings once, by the config's seed: held-out strings never train."""
        self.seed = seed
        gen = torch.Generator().manual_seed(self.config.seed)
        ids = torch.randperm(2**self.config.bits, generator=gen)
        self.eval_ids, self.train_ids = ids[: self.config.eval_size], ids[self.config.eval_size :]

    def state_dict(self) -> dict:
        return {"bits": self.config.bits}

    def fingerprint(self) -> str:
        return f"parity-{self.config.bits}-{self.config.eval_size}-{self.config.seed}"

    def build(self, backbone) -> nn.Module:
        return ParityNet(backbone(2))

    def batch(self, step: int, batch_size: int, shard: zoo.Shard) -> dict[str, Tensor]:
        if self.train_ids is None:
            raise RuntimeError("prepare() must run before batch()")
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
        pick = torch.randint(len(self.train_ids), (batch_size,), generator=gen)[shard.rows(batch_size)]
        bits = bits_of(self.train_ids[pick], self.config.bits)
        return {"bits": bits, "target": running_parity(bits)}

    def loss(self, net, batch, state) -> zoo.StepOutput:
        logits, _ = net(batch["bits"])
        loss = F.cross_entropy(logits.reshape(-1, 2), batch["target"].reshape(-1))
        return zoo.StepOutput(loss=loss, tokens=batch["bits"].numel())

    @torch.no_grad()
    def evaluate(self, net, device) -> dict[str, float]:
        if self.eval_ids is None:
            raise RuntimeError("prepare() must run before evaluate()")
        held_out = bits_of(self.eval_ids, self.config.bits).to(device)
        gen = torch.Generator().manual_seed(self.config.seed + 1)
        long = torch.randint(0, 2, (LONG_EVAL, 2 * self.config.bits), generator=gen).to(device)
        out: dict[str, float] = {}
        for name, bits in (("", held_out), ("_2x", long)):
            logits, _ = net(bits)
            target = running_parity(bits)
            pred = logits.argmax(-1)
            out[f"accuracy{name}"] = (pred[:, -1] == target[:, -1]).float().mean().item()
            if not name:
                out["val_loss"] = F.cross_entropy(logits.reshape(-1, 2), target.reshape(-1)).item()
                out["bit_accuracy"] = (pred == target).float().mean().item()
        return out

    def steps(self, net, text: str) -> zoo.Steps:
        """For ``zoo inspect``: each bit, the predicted parity so far and the true one."""
        bits = torch.tensor([[int(c) for c in parse_bits(text)]], device=next(net.parameters()).device)
        model = zoo.unwrap(net)
        x = F.one_hot(bits, 2).to(model.head.weight.dtype)
        y, _ = model.backbone(x)
        return zoo.Steps([str(b) for b in bits[0].tolist()], model.head(y)[0], ["0", "1"],
                         running_parity(bits)[0].tolist(), zoo.Probe(model.backbone, x))

    def run(self, net, text: str, options: zoo.RunOptions) -> Iterator[str]:
        """``zoo run MODEL 1011`` prints the parity of the bits: 1 (odd) or 0 (even)."""
        digits = parse_bits(text)
        device = next(net.parameters()).device
        bits = torch.tensor([[int(c) for c in digits]], device=device)
        with torch.no_grad():
            logits, _ = net(bits)
        yield f"{int(logits[0, -1].argmax())}\n"


def parse_bits(text: str) -> str:
    """The bits of ``text`` (spaces ignored); anything but 0 and 1 is a ZooError."""
    digits = "".join(text.split())
    if not digits:
        raise zoo.ZooError("give a bit string such as 1011")
    bad = sorted(set(digits) - {"0", "1"})
    if bad:
        raise zoo.ZooError(f"not a bit string: unexpected character {bad[0]!r} (use only 0 and 1)")
    return digits

"""The count task: learn a repeating pattern (``0 1 2 1 0 1 2 1 ...``) by next-token prediction.

Memorising a period is the classic first exercise for a recurrent network: to predict the token
after ``1`` in ``0 1 2 1`` it must remember where in the period it is. Training windows start at a
random phase and span ``periods`` periods. The primary metric is free-running: prime the network
with one whole period (from every phase), let it feed back its own greedy predictions for three
periods, and count the generated tokens that match the pattern. Training stops at 100%.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import zoo
from zoo_count.config import CountConfig, integer_pattern

GENERATED_PERIODS = 3


def random_pattern(length: int, symbols: int, seed: int) -> list[int]:
    """A reproducible pattern of ``length`` tokens drawn uniformly from ``0..symbols-1``."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(symbols, (length,), generator=gen).tolist()


def windows(pattern: Tensor, phases: Tensor, size: int) -> Tensor:
    """(n,) start phases -> (n, size) slices of the endlessly repeated pattern."""
    index = (phases.unsqueeze(1) + torch.arange(size)) % len(pattern)
    return pattern[index]


def continuation_accuracy(generated: Tensor, expected: Tensor) -> dict[str, float]:
    """Token accuracy of generated continuations, and the share of rows right in every token."""
    right = generated == expected
    return {"accuracy": right.float().mean().item(), "exact_match": right.all(dim=1).float().mean().item()}


class CountNet(nn.Module):
    """One-hot tokens -> backbone -> next-token logits."""

    def __init__(self, backbone: zoo.Model, vocab: int) -> None:
        super().__init__()
        self.vocab = vocab
        self.backbone = backbone
        self.head = nn.Linear(backbone.output_size, vocab)

    def forward(self, tokens: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        x = F.one_hot(tokens, self.vocab).to(self.head.weight.dtype)
        y, state = self.backbone(x, state)
        return self.head(y), state


@torch.no_grad()
def continuation(net: nn.Module, prime: Tensor) -> Iterator[Tensor]:
    """Greedy free-running continuation of a (batch, time) prime, one (batch,) token at a time."""
    logits, state = net(prime)
    while True:
        token = logits[:, -1].argmax(-1)
        yield token
        logits, state = net(token.unsqueeze(1), state)


def generate(net: nn.Module, prime: Tensor, count: int) -> Tensor:
    """The first ``count`` tokens of the continuation, as (batch, count)."""
    if count == 0:
        return prime.new_zeros(prime.shape[0], 0)
    return torch.stack(list(itertools.islice(continuation(net, prime), count)), dim=1)


class CountTask(zoo.Task):
    train_defaults = {"steps": 3000, "batch_size": 32, "lr": 1e-2, "eval_every": 10, "warmup": 0}
    model_defaults = {"hidden_size": 64}
    run_options = frozenset({"length"})
    example_input = "0 1"

    def __init__(self, config: CountConfig) -> None:
        super().__init__(config)
        self.symbols, self.pattern = vocabulary(config.pattern, config.symbols)
        self.vocab = len(self.symbols)
        self.seed = 0

    @property
    def primary_metric(self) -> zoo.Metric:
        return zoo.Metric("accuracy", "max", target=1.0)

    @property
    def period(self) -> int:
        return len(self.pattern)

    def prepare(self, seed: int) -> None:
        """The pattern comes from the config (given, or drawn with the config's seed)."""
        self.seed = seed
        if not self.pattern:
            self.pattern = random_pattern(self.config.length, self.config.symbols, self.config.seed)
            self.symbols = [str(i) for i in range(self.config.symbols)]

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"pattern": list(self.pattern), "vocab": self.vocab}
        if self.symbols != [str(i) for i in range(self.vocab)]:
            state["symbols"] = list(self.symbols)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pattern, vocab = state.get("pattern"), state.get("vocab")
        if not isinstance(pattern, list) or not isinstance(vocab, int) or len(pattern) < 2:
            raise zoo.ZooError("config.json: the count task needs 'pattern' (a list) and 'vocab'")
        symbols = state.get("symbols", [str(i) for i in range(vocab)])  # integer tokens before symbols
        if not isinstance(symbols, list) or len(symbols) != vocab:
            raise zoo.ZooError("config.json: vocabulary.symbols must list one symbol per token id")
        self.pattern, self.vocab, self.symbols = [int(t) for t in pattern], vocab, [str(s) for s in symbols]

    def fingerprint(self) -> str:
        return "count-" + ",".join(self.symbols[t] for t in self.pattern)

    def build(self, backbone: Callable[[int], zoo.Model]) -> nn.Module:
        return CountNet(backbone(self.vocab), self.vocab)

    def batch(self, step: int, batch_size: int, shard: zoo.Shard) -> dict[str, Tensor]:
        if not self.pattern:
            raise RuntimeError("prepare() must run before batch()")
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
        phases = torch.randint(self.period, (batch_size,), generator=gen)[shard.rows(batch_size)]
        tokens = windows(torch.tensor(self.pattern), phases, self.config.periods * self.period + 1)
        return {"input": tokens[:, :-1], "target": tokens[:, 1:]}

    def loss(self, net: nn.Module, batch: dict[str, Tensor], state: Any) -> zoo.StepOutput:
        logits, _ = net(batch["input"])
        loss = F.cross_entropy(logits.reshape(-1, self.vocab), batch["target"].reshape(-1))
        return zoo.StepOutput(loss=loss, tokens=batch["target"].numel())

    @torch.no_grad()
    def evaluate(self, net: nn.Module, device: torch.device) -> dict[str, float]:
        """Prime with one period from every phase; generate three periods; compare."""
        pattern = torch.tensor(self.pattern)
        size = (1 + GENERATED_PERIODS) * self.period
        tokens = windows(pattern, torch.arange(self.period), size).to(device)
        prime, expected = tokens[:, : self.period], tokens[:, self.period :]
        out = continuation_accuracy(generate(net, prime, size - self.period), expected)
        logits, _ = net(tokens[:, :-1])
        out["val_loss"] = F.cross_entropy(logits.reshape(-1, self.vocab), tokens[:, 1:].reshape(-1)).item()
        return out

    def run(self, net: nn.Module, text: str, options: zoo.RunOptions) -> Iterator[str]:
        """``zoo run MODEL "0 1"`` prints the next tokens (``--length``, default three periods)."""
        prime = parse_tokens(text, self.symbols)
        count = options.length if options.length is not None else GENERATED_PERIODS * self.period
        device = next(net.parameters()).device
        tokens = continuation(net, torch.tensor([prime], device=device))
        for i, token in enumerate(itertools.islice(tokens, count)):
            yield f"{' ' if i else ''}{self.symbols[int(token[0])]}"
        yield "\n"

    def steps(self, net: nn.Module, text: str) -> zoo.Steps:
        """Each token of ``text``, the prediction after it and the token that follows it there."""
        tokens = parse_tokens(text, self.symbols)
        device = next(net.parameters()).device
        model = zoo.unwrap(net)
        ids = torch.tensor([tokens], device=device)
        x = F.one_hot(ids, self.vocab).to(model.head.weight.dtype)
        y, _ = model.backbone(x)
        return zoo.Steps([self.symbols[t] for t in tokens], model.head(y)[0], list(self.symbols),
                         [*tokens[1:], None], zoo.Probe(model.backbone, x))

    def sample_prompt(self) -> str | None:
        """The pattern's first period: the sample shows whether the network continues it."""
        return " ".join(self.symbols[t] for t in self.pattern[: self.period])


def vocabulary(pattern: tuple[str, ...], symbols: int) -> tuple[list[str], list[int]]:
    """(symbol of each token id, the pattern as ids). Integer patterns keep ids = their values
    (vocabulary 0..max, as before symbols were allowed); others number their sorted symbols."""
    if not pattern:
        return [str(i) for i in range(symbols)], []
    if integer_pattern(pattern):
        ids = [int(t) for t in pattern]
        return [str(i) for i in range(max(ids) + 1)], ids
    table = sorted(set(pattern))
    return table, [table.index(t) for t in pattern]


def parse_tokens(text: str, symbols: list[str] | int) -> list[int]:
    """``"0 1 2"``, ``"0,1,2"`` or, when every symbol is one character, ``"he"`` -> token ids;
    a ZooError names a token that is not one of ``symbols`` (an int n means ``0..n-1``)."""
    if isinstance(symbols, int):
        symbols = [str(i) for i in range(symbols)]
    index = {s: i for i, s in enumerate(symbols)}
    words = text.replace(",", " ").split()
    if not words:
        raise zoo.ZooError(f"give some tokens to continue, such as \"{' '.join(symbols[:2])}\"")
    if all(len(s) == 1 for s in symbols) and not all(w in index for w in words):
        words = [c for w in words for c in w]
    for word in words:
        if word not in index:
            shown = f"integers 0..{len(symbols) - 1}" if symbols == [str(i) for i in range(len(symbols))] \
                else "one of " + " ".join(symbols)
            raise zoo.ZooError(f"bad token {word!r}: tokens are {shown}")
    return [index[w] for w in words]

"""The training engine through ``zoo.train`` with small in-test plugins (real torch training)."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

import zoo
from zoo import hookimpl, option
from zoo.artifacts import load_model_dir
from zoo.plugins import Zoo, use
from zoo.task import Metric, Shard, StepOutput, Task


# -- a copy task and a tiny GRU backbone -----------------------------------------------------
@dataclass
class ToyConfig:
    vocab: int = option(6, "symbols")
    length: int = option(6, "tokens per row")
    rows: int = option(64, "training rows (one epoch)")
    target: float = option(2.0, "accuracy that stops training (2.0: never)")
    nan_at: int = option(-1, "step whose loss is NaN (-1: none)")
    signal_at: int = option(-1, "step at which the process sends itself SIGINT (-1: none)")
    dropout: float = option(0.0, "dropout before the head")


@dataclass
class TinyConfig:
    hidden_size: int = option(16, "units")
    dropout: float = option(0.0, "unused; clashes with the task's dropout on purpose")


class TinyGRU(zoo.Model):
    def __init__(self, input_size: int, config: TinyConfig) -> None:
        super().__init__(input_size, config)
        self.rnn = nn.GRU(input_size, config.hidden_size, batch_first=True)
        self.output_size = config.hidden_size

    def forward(self, x, state=None, lengths=None):
        return self.rnn(x, state)

    def zero_state(self, batch_size, device=None, dtype=None):
        return torch.zeros(1, batch_size, self.output_size, device=device, dtype=dtype)


class Net(nn.Module):
    def __init__(self, vocab: int, backbone, dropout: float) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, 8)
        self.core = backbone(8)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(self.core.output_size, vocab)

    def forward(self, x, state=None):
        y, state = self.core(self.embed(x), state)
        return self.head(self.drop(y)), state


class CopyTask(Task):
    """Predict the previous token: learnable in a few dozen steps."""

    train_defaults = {"steps": 40, "batch_size": 8, "lr": 0.02, "eval_every": 10, "log_every": 5}

    @property
    def primary_metric(self) -> Metric:
        return Metric("accuracy", "max", target=self.config.target)

    def prepare(self, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        self.data = torch.randint(self.config.vocab, (self.config.rows, self.config.length), generator=g)
        self.held_out = torch.randint(self.config.vocab, (32, self.config.length), generator=g)

    def fingerprint(self) -> str:
        return f"copy-{int(self.data.sum())}"

    def state_dict(self):
        return {"vocab": self.config.vocab}

    def build(self, backbone):
        return Net(self.config.vocab, backbone, self.config.dropout)

    def steps_per_epoch(self, batch_size: int) -> int:
        return self.config.rows // batch_size

    def batch(self, step: int, batch_size: int, shard: Shard):
        if step == self.config.signal_at:
            os.kill(os.getpid(), signal.SIGINT)
        g = torch.Generator().manual_seed(1000 + step)
        rows = self.data[torch.randint(self.config.rows, (batch_size,), generator=g)]
        return {"x": rows[shard.rows(batch_size)], "step": torch.tensor(step)}

    def _score(self, net, x):
        logits, state = net(x[:, 1:])
        return logits, x[:, :-1], state

    def loss(self, net, batch, state):
        logits, target, _ = self._score(net, batch["x"])
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
        if int(batch["step"]) >= self.config.nan_at >= 0:
            loss = loss * float("nan")
        return StepOutput(loss, target.numel())

    @torch.no_grad()
    def evaluate(self, net, device):
        logits, target, _ = self._score(net, self.held_out.to(device))
        return {"accuracy": float((logits.argmax(-1) == target).float().mean())}


class StreamTask(CopyTask):
    """Consecutive batches continue the same streams: the engine carries the state (TBPTT)."""

    stateful = True

    def prepare(self, seed: int) -> None:
        super().prepare(seed)
        g = torch.Generator().manual_seed(seed + 1)
        self.streams = torch.randint(self.config.vocab, (8, 400), generator=g)

    def batch(self, step, batch_size, shard):
        if step == self.config.signal_at:
            os.kill(os.getpid(), signal.SIGINT)
        n = self.config.length
        start = (step * n) % (self.streams.shape[1] - n)
        x = self.streams[:batch_size, start:start + n + 1]
        return {"x": x[shard.rows(batch_size)]}

    def loss(self, net, batch, state):
        x = batch["x"]
        logits, state = net(x[:, 1:], state)
        target = x[:, :-1]
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
        return StepOutput(loss, target.numel(), state)


class ToyPlugin:
    @hookimpl
    def register_tasks(self, register):
        register("copy", CopyTask, config=ToyConfig, summary="copy the previous token")
        register("stream", StreamTask, config=ToyConfig, summary="stateful copy")

    @hookimpl
    def register_models(self, register):
        register("tiny", TinyGRU, config=TinyConfig, summary="one-layer GRU")


@pytest.fixture(autouse=True)
def toy_zoo():
    z = Zoo()
    z.add_plugin(ToyPlugin(), "toys", "seqzoo-toys", "9.9")
    use(z)
    yield z
    use(None)


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run_dir / "model.safetensors"))


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# -- the run directory -------------------------------------------------------------------------
def test_train_writes_a_complete_run_directory(tmp_path):
    result = zoo.train("copy", "tiny", settings=["hidden_size=12"], out=tmp_path / "run", seed=3)
    run = result.run_dir
    assert run == tmp_path / "run" and result.steps == 40 and result.stopped == "steps"
    config = json.loads((run / "config.json").read_text())
    assert config["task"]["name"] == "copy" and config["model"]["config"]["hidden_size"] == 12
    assert config["versions"]["plugins"] == {"seqzoo-toys": "9.9"}
    assert config["versions"]["seqzoo"] == zoo.__version__ and config["versions"]["torch"] == torch.__version__
    training = config["training"]
    assert training["seed"] == 3 and training["steps"] == 40
    assert training["data_fingerprint"].startswith("copy-")
    assert training["settings"]["batch_size"] == 8 and training["settings"]["lr"] == 0.02  # task defaults
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["kind"] == "train"] == [5, 10, 15, 20, 25, 30, 35, 40]
    assert [r["step"] for r in records if r["kind"] == "eval"] == [10, 20, 30, 40]
    assert config["metrics"]["accuracy"] == records[-1]["accuracy"] == result.metrics["accuracy"]
    loaded = load_model_dir(run)  # rebuilds from config.json alone
    assert same({k: v for k, v in loaded.net.state_dict().items()}, weights(run))
    assert result.metrics["accuracy"] > 0.5, "the copy task is learnable in 40 steps"


@pytest.fixture(autouse=True)
def one_thread():
    """Two cores shared by many processes: OpenMP spinning threads would slow torch tenfold."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

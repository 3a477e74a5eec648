"""Shared fixtures: a tiny LSTM backbone registered in an in-test zoo, and small corpora.

The charlm task is tested against the Model contract, not against a particular models plugin,
so the backbone here is a minimal ``zoo.Model`` around ``nn.LSTM``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torch import nn
from zoo_charlm.config import CharLMConfig
from zoo_charlm.task import CharLMTask

import zoo
from zoo import hookimpl
from zoo.testing import Zoo, make_network, make_task, recipe, use

TEXT = (
    "It was the best of times, it was the worst of times, it was the age of wisdom, "
    "it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity.\n"
) * 12


@dataclass
class TinyLSTMConfig:
    hidden_size: int = zoo.option(24, "units")
    num_layers: int = zoo.option(1, "layers")


class TinyLSTM(zoo.Model):
    def __init__(self, input_size: int, config: TinyLSTMConfig) -> None:
        super().__init__(input_size, config)
        self.rnn = nn.LSTM(input_size, config.hidden_size, config.num_layers, batch_first=True)
        self.output_size = config.hidden_size

    def forward(self, x, state=None, lengths=None):
        return self.rnn(x, state)

    def zero_state(self, batch_size, device=None, dtype=None):
        shape = (self.config.num_layers, batch_size, self.config.hidden_size)
        return (torch.zeros(shape, device=device, dtype=dtype), torch.zeros(shape, device=device, dtype=dtype))


class _Plugin:
    @staticmethod
    @hookimpl
    def register_tasks(register):
        register("charlm", CharLMTask, config=CharLMConfig, summary="char LM")

    @staticmethod
    @hookimpl
    def register_models(register):
        register("tinylstm", TinyLSTM, config=TinyLSTMConfig, summary="test LSTM")


@pytest.fixture
def test_zoo():
    """Install a zoo holding only charlm and the tiny LSTM for the duration of a test."""
    z = Zoo()
    record = z.add_plugin(_Plugin(), "charlm-test")
    assert record.status == "loaded", record.error
    use(z)
    yield z
    use(None)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def make(corpus: Path, *settings: str, seed: int = 0, hidden: int = 24):
    """A prepared task and a fresh network for ``corpus`` with ``name=value`` settings."""
    z = Zoo()
    z.add_plugin(_Plugin(), "charlm-test")
    r = recipe("charlm", "tinylstm", [f"data={corpus}", "window=16", *settings],
                        model_values={"hidden_size": hidden}, zoo=z)
    task = make_task(r, z)
    task.prepare(seed)
    torch.manual_seed(seed)
    return task, make_network(r, task, z)


@pytest.fixture
def build(corpus: Path):
    """``build(*settings, seed=0, hidden=24) -> (task, net)`` on the small corpus by default."""

    def _build(*settings: str, seed: int = 0, hidden: int = 24, path: Path = corpus):
        return make(path, *settings, seed=seed, hidden=hidden)

    return _build

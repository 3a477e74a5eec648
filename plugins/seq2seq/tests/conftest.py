"""A tiny in-test GRU backbone and a zoo holding it beside the real seq2seq plugin.

The seq2seq task must work with any registered model; this stand-in keeps the tests independent
of which backbone plugins are installed. ``lengths`` goes through the core's generic
``zoo.masked_scan``, the fallback any third-party model may rely on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import torch
import zoo_seq2seq.plugin
from torch import nn

import zoo
from zoo.plugins import Zoo, use


@dataclass
class TinyConfig:
    hidden_size: int = zoo.option(32, "units")


class TinyGRU(zoo.Model):
    """One nn.GRU layer; padded batches handled by the core's masked scan."""

    def __init__(self, input_size: int, config: TinyConfig) -> None:
        super().__init__(input_size, config)
        self.rnn = nn.GRU(input_size, config.hidden_size, batch_first=True)
        self.output_size = config.hidden_size

    def forward(self, x, state=None, lengths=None):
        if lengths is not None:
            return zoo.masked_scan(self, x, state, lengths)
        return self.rnn(x, state)

    def zero_state(self, batch_size, device=None, dtype=None):
        return torch.zeros(1, batch_size, self.output_size, device=device, dtype=dtype)


class _TinyPlugin:
    @staticmethod
    @zoo.hookimpl
    def register_models(register: Callable[..., None]) -> None:
        register("tinygru", TinyGRU, config=TinyConfig, summary="in-test GRU")


@pytest.fixture
def test_zoo() -> Iterator[Zoo]:
    """The process-wide zoo replaced by one with only the seq2seq task and the tiny GRU."""
    z = Zoo()
    z.add_plugin(zoo_seq2seq.plugin, "seq2seq")
    z.add_plugin(_TinyPlugin(), "tiny")
    use(z)
    yield z
    use(None)


Backbone = Callable[[int], zoo.Model]


@pytest.fixture
def tiny() -> Callable[[int], Backbone]:
    """``tiny(hidden)`` is a backbone factory for Seq2SeqNet: ``input_size -> TinyGRU``."""
    return lambda hidden: (lambda input_size: TinyGRU(input_size, TinyConfig(hidden)))

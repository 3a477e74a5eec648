"""A tiny in-test GRU backbone and a zoo holding it beside the real seq2seq plugin.

The seq2seq task must work with any registered model; this stand-in keeps the tests independent
of which backbone plugins are installed. ``lengths`` goes through the core's generic
``zoo.masked_scan``, the fallback any third-party model may rely on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import zoo_seq2seq.plugin

import zoo
from zoo.testing import TinyGRU, TinyGRUConfig, Zoo, use


@dataclass
class TinyConfig(TinyGRUConfig):
    hidden_size: int = zoo.option(32, "units")


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

"""Entry point of the seqzoo-rnn plugin: registration only, no torch import."""

from __future__ import annotations

from collections.abc import Callable

from zoo import hookimpl
from zoo_rnn.config import GRUConfig, LSTMConfig, RNNConfig


@hookimpl
def register_models(register: Callable[..., None]) -> None:
    register(
        "rnn",
        "zoo_rnn.models:ElmanRNN",
        config=RNNConfig,
        summary="Elman simple recurrent network (tanh, relu or identity)",
    )
    register("lstm", "zoo_rnn.models:LSTM", config=LSTMConfig, summary="long short-term memory")
    register("gru", "zoo_rnn.models:GRU", config=GRUConfig, summary="gated recurrent unit")

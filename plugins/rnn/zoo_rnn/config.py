"""Configs of the recurrent backbones. Torch-free: the plugin entry point imports this at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from zoo import option


@dataclass
class RecurrentConfig:
    """Fields every stacked recurrent layer has (mirrors ``torch.nn.RNN``'s arguments)."""

    hidden_size: int = option(128, "units per layer (the state and output size)")
    num_layers: int = option(1, "stacked recurrent layers")
    dropout: float = option(0.0, "dropout on each layer's output except the last, while training")
    bias: bool = option(True, "learn bias vectors (both input-hidden and hidden-hidden)")

    def __post_init__(self) -> None:
        # ValueError here becomes "invalid model 'x': ..." (a ZooError) in zoo.config.build.
        if self.hidden_size < 1:
            raise ValueError(f"hidden_size must be at least 1, got {self.hidden_size}")
        if self.num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {self.num_layers}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


@dataclass
class RNNConfig(RecurrentConfig):
    """Elman network: h_t = f(W x_t + b_W + U h_{t-1} + b_U)."""

    nonlinearity: Literal["tanh", "relu", "identity"] = option(
        "tanh", "f in h_t = f(W x_t + U h_(t-1)); identity is the linear textbook network"
    )


@dataclass
class LSTMConfig(RecurrentConfig):
    """Long short-term memory (Hochreiter & Schmidhuber 1997, with forget gate)."""

    forget_bias: float | None = option(
        1.0,
        "initial forget-gate bias (Jozefowicz et al. 2015 recommend 1); none keeps torch's "
        "random init; unused when bias=false",
    )


@dataclass
class GRUConfig(RecurrentConfig):
    """Gated recurrent unit (Cho et al. 2014), torch's formulation."""

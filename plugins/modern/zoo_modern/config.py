"""Configs of the modern backbones. Torch-free: the plugin entry point imports this at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from zoo import option


@dataclass
class TransformerConfig:
    """A small pre-norm causal Transformer whose state is the last ``memory`` steps' keys and values.

    Its fields are named apart from the recurrent models' (``hidden_size``, ``num_layers``) on
    purpose: tasks tune those for LSTMs, and a one-layer Transformer is a poor default. The
    defaults (about 100k weights) suit a CPU: nanoGPT's CPU-recipe size (128 wide, 4 layers, 814k
    weights here) trained 372 tokens/s on count on the busy 2-core machine, against 16k for the
    LSTM, and did not reach the pattern in 20 s.
    """

    d_model: int = option(64, "width of the residual stream (the output size)")
    layers: int = option(2, "Transformer blocks")
    heads: int = option(4, "attention heads (d_model must divide by it)")
    memory: int = option(64, "steps of keys and values kept in the state: each step sees the M before it")
    ff_mult: int = option(4, "feed-forward width as a multiple of d_model")
    dropout: float = option(0.0, "dropout on attention weights and residual branches, while training")
    rope_base: float = option(10000.0, "base of the rotary position frequencies")

    def __post_init__(self) -> None:
        for name in ("d_model", "layers", "heads", "memory", "ff_mult"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.d_model % self.heads or (self.d_model // self.heads) % 2:
            raise ValueError(f"d_model ({self.d_model}) must split into {self.heads} heads of an even size")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.rope_base <= 1:
            raise ValueError(f"rope_base must exceed 1, got {self.rope_base}")


@dataclass
class MinRNNConfig:
    """Stacked minLSTM or minGRU layers (the same fields as the classic recurrent models)."""

    hidden_size: int = option(128, "units per layer (the state and output size)")
    num_layers: int = option(2, "stacked layers")
    dropout: float = option(0.0, "dropout on each layer's output except the last, while training")

    def __post_init__(self) -> None:
        if self.hidden_size < 1:
            raise ValueError(f"hidden_size must be at least 1, got {self.hidden_size}")
        if self.num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {self.num_layers}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

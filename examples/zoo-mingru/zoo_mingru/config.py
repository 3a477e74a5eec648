"""Config dataclasses of the example plugin: torch-free, imported by ``plugin.py`` at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from zoo import option


@dataclass
class MinGRUConfig:
    """Hyperparameters of the minGRU backbone."""

    hidden_size: int = option(64, "units per layer")
    num_layers: int = option(1, "stacked minGRU layers")
    dropout: float = option(0.0, "dropout between layers (training only)")

    def __post_init__(self) -> None:
        if self.hidden_size < 1 or self.num_layers < 1:
            raise ValueError("hidden_size and num_layers must be at least 1")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout must be in [0, 1)")


@dataclass
class ParityConfig:
    """What the parity task trains and evaluates on."""

    bits: int = option(12, "length of the training bit strings (2..20)")
    eval_size: int = option(256, "held-out strings never seen in training")
    seed: int = option(0, "seed of the train/held-out split (independent of the training seed)")

    def __post_init__(self) -> None:
        if not 2 <= self.bits <= 20:
            raise ValueError("bits must be between 2 and 20")
        if not 1 <= self.eval_size <= 2 ** (self.bits - 1):
            raise ValueError(f"eval_size must be between 1 and {2 ** (self.bits - 1)} (half of all {self.bits}-bit strings)")

"""Config of the adder task. Torch-free: the plugin entry point imports it at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from zoo import option

MAX_BITS = 30


@dataclass
class AdderConfig:
    """Width of the training numbers and the train/held-out split of the pair space."""

    bits: int = option(8, f"width of the training numbers in bits (4..{MAX_BITS})")
    held_out: float = option(0.1, "share of the (unordered) pairs held out for evaluation, never trained on")
    eval_size: int = option(8192, "held-out pairs evaluated (all of them when fewer: all ~6.5k at 8 bits)")
    seed: int = option(0, "seed of the train/held-out split (independent of the training seed)")

    def __post_init__(self) -> None:
        if not 4 <= self.bits <= MAX_BITS:
            raise ValueError(f"bits must be between 4 and {MAX_BITS}")
        if not 0.0 < self.held_out < 1.0:
            raise ValueError("held_out must be strictly between 0 and 1")
        if self.eval_size < 1:
            raise ValueError("eval_size must be at least 1")

"""Config of the count task. Torch-free: the plugin entry point imports it at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from zoo import option

MAX_SYMBOLS = 256


@dataclass
class CountConfig:
    """Which repeating pattern the network memorises."""

    pattern: tuple[int, ...] = option((), "the pattern to repeat, e.g. 0,1,2,1 (empty: a random one)")
    length: int = option(5, "length of the random pattern drawn when no pattern is given")
    symbols: int = option(10, "a random pattern draws its tokens from 0..symbols-1")
    seed: int = option(0, "seed of the random pattern (independent of the training seed)")
    periods: int = option(4, "periods in each training window (one priming plus three generated)")

    def __post_init__(self) -> None:
        if self.pattern:
            if len(self.pattern) < 2:
                raise ValueError("pattern needs at least 2 tokens")
            if min(self.pattern) < 0 or max(self.pattern) >= MAX_SYMBOLS:
                raise ValueError(f"pattern tokens must be integers in 0..{MAX_SYMBOLS - 1}")
        if not 2 <= self.length <= 1000:
            raise ValueError("length must be between 2 and 1000")
        if not 2 <= self.symbols <= MAX_SYMBOLS:
            raise ValueError(f"symbols must be between 2 and {MAX_SYMBOLS}")
        if not 1 <= self.periods <= 16:
            raise ValueError("periods must be between 1 and 16")

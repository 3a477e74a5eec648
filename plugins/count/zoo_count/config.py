"""Config of the count task. Torch-free: the plugin entry point imports it at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from zoo import option

MAX_SYMBOLS = 256


def integer_pattern(pattern: tuple[str, ...]) -> bool:
    """Tokens written as non-negative integers keep the vocabulary 0..max (as before symbols)."""
    return all(t.isascii() and t.isdigit() for t in pattern)


@dataclass
class CountConfig:
    """Which repeating pattern the network memorises."""

    pattern: tuple[str | int, ...] = option(
        (), "the pattern to repeat, e.g. 0,1,2,1 or h,e,l,l,o: any symbols (empty: a random one)"
    )
    length: int = option(5, "length of the random pattern drawn when no pattern is given")
    symbols: int = option(10, "a random pattern draws its tokens from 0..symbols-1")
    seed: int = option(0, "seed of the random pattern (independent of the training seed)")
    periods: int = option(4, "periods in each training window (one priming plus three generated)")

    def __post_init__(self) -> None:
        # Configs saved before symbols were allowed hold integers: read them as their digits.
        self.pattern = tuple(str(t).strip() for t in self.pattern)
        if self.pattern:
            if len(self.pattern) < 2:
                raise ValueError("pattern needs at least 2 tokens")
            if not all(self.pattern):
                raise ValueError("pattern tokens must not be empty")
            if integer_pattern(self.pattern) and max(map(int, self.pattern)) >= MAX_SYMBOLS:
                raise ValueError(f"integer pattern tokens must lie in 0..{MAX_SYMBOLS - 1}")
            if len(set(self.pattern)) > MAX_SYMBOLS:
                raise ValueError(f"a pattern may use at most {MAX_SYMBOLS} distinct symbols")
        if not 2 <= self.length <= 1000:
            raise ValueError("length must be between 2 and 1000")
        if not 2 <= self.symbols <= MAX_SYMBOLS:
            raise ValueError(f"symbols must be between 2 and {MAX_SYMBOLS}")
        if not 1 <= self.periods <= 16:
            raise ValueError("periods must be between 1 and 16")

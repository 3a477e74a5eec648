"""Learning-rate schedule: linear warmup, then cosine or linear decay over the whole budget.

The rate is a pure function of (step, elapsed seconds), so resuming needs no scheduler state and
a step budget, an epoch budget (converted to steps) and a wall-clock budget all fit the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    lr: float
    warmup: int
    kind: str  # cosine | linear | constant
    total_steps: int | None
    total_seconds: float | None
    min_lr_ratio: float = 0.1

    def progress(self, step: int, elapsed: float) -> float:
        """How much of the budget is spent after warmup, in [0, 1] (the larger of steps and time)."""
        done = 0.0
        if self.total_steps is not None:
            span = max(1, self.total_steps - self.warmup)
            done = max(done, (step - self.warmup) / span)
        if self.total_seconds is not None:
            done = max(done, elapsed / self.total_seconds)
        return min(1.0, max(0.0, done))

    def rate(self, step: int, elapsed: float = 0.0) -> float:
        """The learning rate for optimizer step ``step`` (0-based)."""
        if step < self.warmup:
            return self.lr * (step + 1) / self.warmup
        if self.kind == "constant":
            return self.lr
        p = self.progress(step, elapsed)
        if self.kind == "linear":
            factor = 1.0 - (1.0 - self.min_lr_ratio) * p
        else:
            factor = self.min_lr_ratio + (1.0 - self.min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * p))
        return self.lr * factor


def default_warmup(total_steps: int | None) -> int:
    """A tenth of the step budget, at most 100 steps (100 when only a time budget is known)."""
    if total_steps is None:
        return 100
    return min(100, total_steps // 10)

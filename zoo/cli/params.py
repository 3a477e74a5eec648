"""Click parameter types the commands share: floats that must be finite numbers."""

from __future__ import annotations

import math
from typing import Any

import click


class FiniteFloat(click.FloatRange):
    """A float in a range that is never nan or infinite (click's FloatRange lets both through)."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):  # before the range, so inf is named for what it is
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return super().convert(number, param, ctx)

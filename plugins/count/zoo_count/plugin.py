"""Entry point of the seqzoo-count plugin: registration only, no torch import."""

from __future__ import annotations

from collections.abc import Callable

from zoo import hookimpl
from zoo_count.config import CountConfig


@hookimpl
def register_tasks(register: Callable[..., None]) -> None:
    register(
        "count",
        "zoo_count.task:CountTask",
        config=CountConfig,
        summary="Continue a repeating sequence such as 0 1 2 1 0 1 2 1 (free-running generation)",
    )

"""Entry point of the seqzoo-adder plugin: registration only, no torch import."""

from __future__ import annotations

from collections.abc import Callable

from zoo import hookimpl
from zoo_adder.config import AdderConfig


@hookimpl
def register_tasks(register: Callable[..., None]) -> None:
    register(
        "adder",
        "zoo_adder.task:AdderTask",
        config=AdderConfig,
        summary="Binary addition bit by bit, least significant first (81+113 -> 194)",
    )

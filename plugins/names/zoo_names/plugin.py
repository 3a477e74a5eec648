"""Entry point of the seqzoo-names plugin: registration only, no torch import."""

from __future__ import annotations

from collections.abc import Callable

from zoo import hookimpl
from zoo_names.config import NamesConfig


@hookimpl
def register_tasks(register: Callable[..., None]) -> None:
    register(
        "names",
        "zoo_names.task:NamesTask",
        config=NamesConfig,
        summary="classify a surname by its language (18 languages), or any short text by label (many-to-one)",
    )

"""Entry point of the seqzoo-charlm plugin: registration only, no torch import."""

from __future__ import annotations

from collections.abc import Callable

from zoo import hookimpl
from zoo_charlm.config import CharLMConfig


@hookimpl
def register_tasks(register: Callable[..., None]) -> None:
    register(
        "charlm",
        "zoo_charlm.task:CharLMTask",
        config=CharLMConfig,
        summary="character-level language model (char-rnn): learn a text, sample new text",
    )
